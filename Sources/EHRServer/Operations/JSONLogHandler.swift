import EHRSecurity
import EHRWire
import Foundation
import Logging
import NIOConcurrencyHelpers

/// One JSON object per line: `time`, `level`, `label`, `message` and the metadata as string fields.
/// Callers log identifiers only (request id, practice id, route, status, error types); never bodies,
/// field values, tokens or passwords.
public struct JSONLogHandler: LogHandler {
    /// Where lines go (standard error by default; a buffer in tests).
    public typealias Sink = @Sendable (String) -> Void

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    let sink: Sink

    public init(label: String, level: Logger.Level = .info, sink: @escaping Sink = JSONLogHandler.standardError) {
        self.label = label
        self.logLevel = level
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: String] = [:]
        fields.reserveCapacity(metadata.count + (event.metadata?.count ?? 0) + 6)
        for (key, value) in metadata { fields[key] = Self.text(value) }
        for (key, value) in event.metadata ?? [:] { fields[key] = Self.text(value) }
        // Only the error's type: its description may quote input.
        if let error = event.error { fields["error.type"] = "\(type(of: error))" }
        fields["time"] = RFC3339.format(Date())
        fields["level"] = event.level.rawValue
        fields["label"] = label
        fields["message"] = event.message.description
        fields["source"] = event.source
        sink(Self.line(fields))
    }

    /// The object with its keys sorted, strings escaped as Foundation's encoders escape them (``EncoderJSON``).
    /// Written by hand: `JSONSerialization` and Foundation's date formatting cost about a fifth of the server's
    /// CPU per request with this format on (`bench/profile`), and production logs every request in it.
    static func line(_ fields: [String: String]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(fields.reduce(2) { $0 + $1.key.utf8.count + $1.value.utf8.count + 6 })
        out.append(UInt8(ascii: "{"))
        for (index, key) in fields.keys.sorted().enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            EncoderJSON.appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            EncoderJSON.appendString(fields[key]!, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    /// A metadata value as its text; a string as it is (interpolating it made a copy per field per line).
    private static func text(_ value: Logger.MetadataValue) -> String {
        if case .string(let string) = value { return string }
        return "\(value)"
    }

    private static let lock = NIOLock()

    /// Writes a line to standard error (whole lines, never interleaved).
    public static let standardError: Sink = { line in
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        lock.withLock { writeAll(bytes, to: STDERR_FILENO) }
    }

    /// Writes `bytes` whole to `descriptor`, again after a partial write or an interrupted one. A line the descriptor
    /// refuses (closed, or full and non-blocking) is dropped: `FileHandle.write` stopped the process there, and a
    /// request must not fail for its log line. (A pipe whose reader has gone still raises SIGPIPE, as before.)
    static func writeAll(_ bytes: [UInt8], to descriptor: Int32) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }
}
