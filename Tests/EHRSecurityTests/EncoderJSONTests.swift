import EHRSecurity
import Foundation
import Testing

/// The hand-written JSON of audit arrays and note sections is `JSONEncoder`'s, byte for byte, so what was stored
/// before reads the same and an encrypted note holds the bytes the encoder would have sealed.
@Suite("EncoderJSON")
struct EncoderJSONTests {
    /// Random text: mostly plain (the direct writers' form), now and then a byte JSON escapes (every control
    /// byte, quote, backslash, slash), multi-byte characters and empty strings.
    static func randomText(_ generator: inout SystemRandomNumberGenerator, awkwardOneIn: Int = 50) -> String {
        let plain = Array("abcxyz019-_.:é☂🧠 \u{7F}\u{2028}".unicodeScalars)
        let awkward = Array("/\"\\".unicodeScalars) + (0..<0x20).map { Unicode.Scalar(UInt8($0)) }
        var value = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...40, using: &generator) {
            let pool = Int.random(in: 0..<awkwardOneIn, using: &generator) == 0 ? awkward : plain
            value.append(pool.randomElement(using: &generator)!)
        }
        return String(value)
    }

    @Test func arraysAsJSONEncoderWritesThem() throws {
        var generator = SystemRandomNumberGenerator()
        var escaped = 0
        for round in 0..<3000 {
            let values = (0..<Int.random(in: 0...25, using: &generator)).map { _ in
                Self.randomText(&generator, awkwardOneIn: round % 2 == 0 ? 400 : 20)
            }
            let expected = String(decoding: try JSONEncoder().encode(values), as: UTF8.self)
            #expect(EncoderJSON.array(values) == expected, "\(values)")
            if expected.contains("\\") { escaped += 1 }
        }
        #expect(escaped > 100 && escaped < 2900)  // both writers ran
    }

    @Test func sectionsAsJSONEncoderWritesThemWithSortedKeys() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var generator = SystemRandomNumberGenerator()
        let keys = ["subjective", "objective", "assessment", "plan", "data", "response", "a", "ab", "b", "z", "summary"]
        for _ in 0..<2000 {
            var members: [String: String] = [:]
            for _ in 0..<Int.random(in: 0...6, using: &generator) {
                members[keys.randomElement(using: &generator)!] = Self.randomText(&generator)
            }
            let expected = try encoder.encode(members)
            #expect(EncoderJSON.sortedObject(members).map { Data($0) } == expected, "\(members)")
        }
    }

    @Test(arguments: [["Plan": "x"], ["plan-b": "x"], ["": "x"], ["plän": "x"], ["plan1": "x"], ["plan": "x", "Data": "y"]])
    func otherKeysAreLeftToTheEncoder(members: [String: String]) {
        #expect(EncoderJSON.sortedObject(members) == nil)
    }

    /// Sections sealed directly and through the encoder decrypt to the same bytes, whichever writer wrote them.
    @Test(arguments: [["plan": "Continue / review \"sleep\"\n", "subjective": "🧠"], ["Plan": "left to the encoder"], [:]])
    func sealedSectionsHoldTheEncodersBytes(members: [String: String]) throws {
        let cipher = FieldCipher(keyring: TenantKeyring.generate(tenantID: "t-acme"))
        let context = FieldContext(tenantID: "t-acme", table: "clinical_notes", column: "sections", rowID: "n-1")
        let direct = try cipher.encrypt(members: members, context: context)
        let generic = try cipher.encrypt(codable: members, context: context)
        #expect(direct != generic)  // fresh nonces
        #expect(try cipher.decrypt(direct, context: context) == cipher.decrypt(generic, context: context))
        #expect(try cipher.decrypt([String: String].self, from: direct, context: context) == members)
    }
}
