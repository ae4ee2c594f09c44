import Foundation
import Hummingbird

/// An `application/x-www-form-urlencoded` body: every value of every field, in order.
struct WebForm: Sendable {
    private(set) var fields: [String: [String]] = [:]

    init(_ body: String) {
        for pair in body.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(parts[0])
            let value = parts.count > 1 ? Self.decode(parts[1]) : ""
            fields[name, default: []].append(value)
        }
    }

    /// The first value of `name`, trimmed; nil when absent.
    subscript(_ name: String) -> String? { fields[name]?.first }

    /// Every value of `name` (repeated fields, e.g. specialties).
    func all(_ name: String) -> [String] { fields[name] ?? [] }

    /// The value, or nil when absent or blank (an empty optional field in a form means "not given").
    func nonBlank(_ name: String) -> String? {
        guard let value = self[name], !value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return nil }
        return value
    }

    private static func decode(_ raw: Substring) -> String {
        String(raw).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
    }

    /// Reads a form body of at most 1 MiB.
    static func read(_ request: inout Request) async throws -> WebForm {
        let buffer = try await request.collectBody(upTo: RequestLimits.maximumBodySize)
        return WebForm(String(buffer: buffer))
    }
}
