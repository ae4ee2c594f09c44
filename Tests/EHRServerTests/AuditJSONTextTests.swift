import Foundation
import Testing

@testable import EHRPersistence

/// The audit log's hand-written JSON arrays (changed fields, listed patients) are the bytes Foundation's
/// encoder wrote before, so stored events read the same and verification parses both alike.
@Suite("Audit JSON text")
struct AuditJSONTextTests {
    @Test func sameBytesAsJSONEncoder() throws {
        let cases: [[String]] = [
            [], ["status"], ["firstName", "lastName", "dateOfBirth"],
            [UUID().uuidString.lowercased(), UUID().uuidString.lowercased()],
            ["a/b", "quote\"", "back\\slash", "tab\tline\nfeed\r", "ünï ☂︎ 🧠", "\u{7F}\u{2028}"],
            [String(decoding: (0..<0x20).map { UInt8($0) }, as: UTF8.self)],
        ]
        for values in cases {
            let expected = String(decoding: try JSONEncoder().encode(values), as: UTF8.self)
            #expect(AuditLog.jsonArray(values) == expected, "\(values)")
        }
    }
}
