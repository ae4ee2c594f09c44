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
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { fields[key] = "\(value)" }
        // Only the error's type: its description may quote input.
        if let error = event.error { fields["error.type"] = "\(type(of: error))" }
        fields["time"] = Self.timestamp()
        fields["level"] = event.level.rawValue
        fields["label"] = label
        fields["message"] = event.message.description
        fields["source"] = event.source
        guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]) else { return }
        sink(String(decoding: data, as: UTF8.self))
    }

    private static func timestamp() -> String {
        Date().formatted(.iso8601.year().month().day().timeZone(separator: .omitted).time(includingFractionalSeconds: true).timeSeparator(.colon))
    }

    private static let lock = NIOLock()

    /// Writes a line to standard error (whole lines, never interleaved).
    public static let standardError: Sink = { line in
        lock.withLock { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }
}
