import Foundation
import NIOCore
import NIOPosix

/// Sends mail to one SMTP server (`EHR_SMTP_URL=smtp://host:port`): EHLO, MAIL FROM, RCPT TO, DATA, QUIT, in
/// plain text. It does not speak TLS: point it at a relay on the same host or private network (a local Postfix,
/// the provider's relay agent), which carries the mail on over TLS. Notification mail holds no PHI, only a fixed
/// line of text, but the address itself is personal data.
struct SMTPMailer: EmailSender {
    let host: String
    let port: Int
    let from: String
    var heloName = "mentalspace.local"
    var timeout: Duration = .seconds(20)

    enum Failure: Error, CustomStringConvertible {
        case unexpectedReply(expected: Int, got: Int)
        case connectionClosed
        case timedOut
        case unsafeAddress

        var description: String {
            switch self {
            case .unexpectedReply(let expected, let got): "SMTP server answered \(got), expected \(expected)"
            case .connectionClosed: "SMTP server closed the connection"
            case .timedOut: "SMTP exchange timed out"
            case .unsafeAddress: "address unusable in an SMTP envelope"
            }
        }
    }

    /// `smtp://host:port` (port 25 when left out).
    init?(url: String, from: String) {
        guard let components = URLComponents(string: url), components.scheme == "smtp", let host = components.host, !host.isEmpty else { return nil }
        self.host = host
        self.port = components.port ?? 25
        self.from = from
    }

    func send(_ mail: EmailMessage) async throws {
        for address in [from, mail.to] where !Self.isSafe(address) { throw Failure.unsafeAddress }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await exchange(mail) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw Failure.timedOut
            }
            try await group.next()
            group.cancelAll()
        }
    }

    private func exchange(_ mail: EmailMessage) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        try await channel.executeThenClose { inbound, outbound in
            var replies = ReplyReader(inbound.makeAsyncIterator())
            func command(_ line: String, expect code: Int) async throws {
                try await outbound.write(ByteBuffer(string: line + "\r\n"))
                try await replies.expect(code)
            }
            try await replies.expect(220)
            try await command("EHLO \(heloName)", expect: 250)
            try await command("MAIL FROM:<\(from)>", expect: 250)
            try await command("RCPT TO:<\(mail.to)>", expect: 250)
            try await command("DATA", expect: 354)
            try await outbound.write(ByteBuffer(string: Self.message(mail, from: from)))
            try await replies.expect(250)
            try await command("QUIT", expect: 221)
        }
    }

    /// The message with its headers, dot-stuffed and ended by `.` alone on a line.
    static func message(_ mail: EmailMessage, from: String, date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        let headers = [
            "From: MentalSpace <\(from)>", "To: <\(mail.to)>", "Subject: \(mail.subject)", "Date: \(formatter.string(from: date))",
            "Message-ID: \(mail.messageID)", "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit",
            "Auto-Submitted: auto-generated",
        ]
        let body = mail.body.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(".") ? "." + $0 : String($0) }
        return (headers + [""] + body).joined(separator: "\r\n") + "\r\n.\r\n"
    }

    /// No line breaks or angle brackets (no header or command injection), one `@`.
    static func isSafe(_ address: String) -> Bool {
        !address.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "<" || $0 == ">" || $0 == " " }) && address.split(separator: "@").count == 2
    }

    /// Reads SMTP replies (multi-line ones end at the line whose code is followed by a space).
    struct ReplyReader {
        var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
        var pending = ""

        init(_ iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator) { self.iterator = iterator }

        mutating func expect(_ code: Int) async throws {
            while true {
                let line = try await nextLine()
                guard line.count >= 3, let got = Int(line.prefix(3)) else { throw Failure.connectionClosed }
                let last = line.count == 3 || line[line.index(line.startIndex, offsetBy: 3)] == " "
                if !last { continue }
                if got != code { throw Failure.unexpectedReply(expected: code, got: got) }
                return
            }
        }

        private mutating func nextLine() async throws -> String {
            while true {
                if let range = pending.range(of: "\r\n") {
                    let line = String(pending[..<range.lowerBound])
                    pending.removeSubrange(..<range.upperBound)
                    return line
                }
                guard let buffer = try await iterator.next() else { throw Failure.connectionClosed }
                pending += String(buffer: buffer)
            }
        }
    }
}
