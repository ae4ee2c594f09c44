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

    /// The direct reader agrees with `JSONDecoder` on what it writes, on JSON it does not write (escapes, spaces),
    /// and on text that is not an array of strings, including random bytes around the two.
    @Test func readsAsJSONDecoderDoes() throws {
        let decoded = { (text: String) in try? JSONDecoder().decode([String].self, from: Data(text.utf8)) }
        var texts = [
            "[]", "[\"a\"]", "[\"\"]", "[\"\",\"\"]", "[\"a\",\"b\"]", "[ ]", " []", "[\"a\" ]", "[\"a\", \"b\"]", "[\"a\\/b\"]",
            "[\"\\u00e9\"]", "[\"ünï ☂︎\"]", "[\"a\",]", "[,\"a\"]", "[\"a\"", "\"a\"]", "[\"a\"]]", "[[\"a\"]]", "[1]", "[\"a\",1]",
            "[\"a\"\"b\"]", "[\"", "[", "]", "", "null", "{}", "[\"tab\tin\"]", "[\"a\"] ", "[\"a\"]x",
        ]
        for values in [[], ["status"], ["a/b", "quote\"", "back\\slash", "line\nfeed", "🧠"], (0..<20).map { _ in UUID().uuidString.lowercased() }] {
            texts.append(AuditLog.jsonArray(values))
            #expect(AuditLog.stringArray(AuditLog.jsonArray(values)) == values)
        }
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("[]\",\\ a/\t".utf8)
        for _ in 0..<3000 {
            let length = Int.random(in: 0...10, using: &generator)
            texts.append(String(decoding: (0..<length).map { _ in alphabet.randomElement(using: &generator)! }, as: UTF8.self))
        }
        for text in texts {
            #expect(AuditLog.stringArray(text) == decoded(text), "\(text.debugDescription)")
        }
    }
}
