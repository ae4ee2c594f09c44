import Crypto
import EHRSecurity
import Foundation
import Testing

@Suite("BlindIndex")
struct BlindIndexTests {
    let key = SymmetricKey(size: .bits256)

    @Test(arguments: [
        ("  Jane.Doe@Example.COM ", "jane.doe@example.com"),
        ("x@y.z", "x@y.z"),
    ])
    func normalizeEmail(raw: String, expected: String) {
        #expect(BlindIndex.normalizeEmail(raw) == expected)
    }

    @Test(arguments: [("+1 (555) 010-2000", "15550102000"), ("555.010.2000", "5550102000"), ("abc", "")])
    func normalizePhone(raw: String, expected: String) {
        #expect(BlindIndex.normalizePhone(raw) == expected)
    }

    @Test(arguments: [("  José   ÁLVAREZ ", "jose alvarez"), ("Zoë", "zoe"), ("o'brien", "o'brien")])
    func normalizeName(raw: String, expected: String) {
        #expect(BlindIndex.normalizeName(raw) == expected)
    }

    @Test func equalForEqualNormalizedValues() {
        let idx = BlindIndex(tenantID: "t1", tenantIndexKey: key)
        #expect(idx.email(" JANE@example.com") == idx.email("jane@EXAMPLE.com  "))
        #expect(idx.phone("+1 555 010 2000") == idx.phone("1-555-010-2000"))
        #expect(idx.name("Álvarez", column: "last_name") == idx.name("alvarez ", column: "last_name"))
        #expect(idx.email("jane@example.com") != idx.email("john@example.com"))
        #expect(idx.email("a@b.c").count == 64)
        #expect(BlindIndex(tenantID: "t1", tenantIndexKey: key, encoding: .base64).email("a@b.c").count == 44)
    }

    @Test func differsAcrossTenantsAndColumns() {
        let t1 = BlindIndex(tenantID: "t1", tenantIndexKey: key)
        let t2 = BlindIndex(tenantID: "t2", tenantIndexKey: SymmetricKey(size: .bits256))
        let t2SameKey = BlindIndex(tenantID: "t2", tenantIndexKey: key)
        let v = "jane@example.com"
        #expect(t1.index(v, column: "email") != t2.index(v, column: "email"))
        #expect(t1.index(v, column: "email") != t2SameKey.index(v, column: "email"))
        #expect(t1.index(v, column: "email") != t1.index(v, column: "email_alt"))
        #expect(t1.index(v, column: "email") == t1.index(v, column: "email"))
    }

    @Test func compositeIsInjective() {
        let idx = BlindIndex(tenantID: "t1", tenantIndexKey: key)
        #expect(idx.index(components: ["ab", "c"], column: "name_dob") != idx.index(components: ["a", "bc"], column: "name_dob"))
        #expect(
            idx.index(components: ["doe", "1980-01-02"], column: "name_dob")
                == idx.index(components: ["doe", "1980-01-02"], column: "name_dob"))
    }
}
