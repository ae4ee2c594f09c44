import Foundation

/// A real SMTP server for tests: aiosmtpd (Tests/Mail/requirements.txt, installed by scripts/test) on a free port of
/// 127.0.0.1, storing every message it accepts in a Maildir.
final class SMTPSink: @unchecked Sendable {
    /// Set by ``ready()`` (a port taken by someone else gets the sink started again on another).
    private(set) var port: Int
    let folder: URL
    private var process: Process

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("ehr-smtp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        (port, process) = try Self.start(in: folder)
    }

    /// Below Linux's ephemeral range (32768-60999): a port there can be any outgoing connection's local port
    /// (the full suite once lost the sink that way: aiosmtpd could not bind and exited).
    private static func start(in folder: URL) throws -> (Int, Process) {
        let port = Int.random(in: 20_000..<32_000)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(port)", "-c", "aiosmtpd.handlers.Mailbox", folder.appendingPathComponent("mail").path,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (port, process)
    }

    /// Waits until the server accepts connections; starts it again on another port when it exited (port taken).
    func ready() async throws {
        for _ in 0..<3 {
            for _ in 0..<300 {
                if Self.accepts(port) { return }
                guard process.isRunning else { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            guard !process.isRunning else { break }
            (port, process) = try Self.start(in: folder)
        }
        throw SinkError.notStarted("aiosmtpd did not start on port \(port): is it installed? (python3 -m pip install -r Tests/Mail/requirements.txt)")
    }

    /// Every message received, as raw text.
    var messages: [String] {
        let new = folder.appendingPathComponent("mail/new")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: new.path)) ?? []
        return names.sorted().compactMap { try? String(contentsOf: new.appendingPathComponent($0), encoding: .utf8) }
    }

    func stop() {
        // aiosmtpd ignores SIGTERM while it serves, and Foundation's waitUntilExit spins: kill it and poll briefly.
        kill(process.processIdentifier, SIGKILL)
        for _ in 0..<100 where process.isRunning { usleep(20_000) }
        try? FileManager.default.removeItem(at: folder)
    }

    private static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        return withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) } } == 0
    }

    enum SinkError: Error { case notStarted(String) }
}
