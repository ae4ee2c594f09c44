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
        // In the order a dictionary built in turn would keep: of two fields with one key the later wins.
        var fields: [(key: String, value: String)] = []
        fields.reserveCapacity(metadata.count + (event.metadata?.count ?? 0) + 6)
        for (key, value) in metadata { fields.append((key, Self.text(value))) }
        if let eventMetadata = event.metadata { for (key, value) in eventMetadata { fields.append((key, Self.text(value))) } }
        // Only the error's type: its description may quote input.
        if let error = event.error { fields.append(("error.type", "\(type(of: error))")) }
        fields.append(("time", RFC3339.format(Date())))
        fields.append(("level", event.level.rawValue))
        fields.append(("label", label))
        fields.append(("message", event.message.description))
        fields.append(("source", event.source))
        sink(Self.line(fields))
    }

    /// The object with its keys sorted, strings escaped as Foundation's encoders escape them (``EncoderJSON``).
    /// Written by hand: `JSONSerialization` and Foundation's date formatting cost about a fifth of the server's
    /// CPU per request with this format on (`bench/profile`), and production logs every request in it.
    static func line(_ fields: [String: String]) -> String {
        line(fields.map { (key: $0.key, value: $0.value) })
    }

    /// ``line(_:)-([String:String])`` of fields given in turn, a later field replacing an earlier one of the same key
    /// (as a dictionary filled in that order would): the request log's line without building a dictionary for it.
    static func line(_ fields: [(key: String, value: String)]) -> String {
        let order = fields.indices.sorted { fields[$0].key == fields[$1].key ? $0 < $1 : fields[$0].key < fields[$1].key }
        var out: [UInt8] = []
        out.reserveCapacity(fields.reduce(2) { $0 + $1.key.utf8.count + $1.value.utf8.count + 6 })
        out.append(UInt8(ascii: "{"))
        for (position, index) in order.enumerated() {
            let key = fields[index].key
            if position + 1 < order.count, fields[order[position + 1]].key == key { continue }  // replaced by a later one
            if out.count > 1 { out.append(UInt8(ascii: ",")) }
            EncoderJSON.appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            EncoderJSON.appendString(fields[index].value, to: &out)
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
