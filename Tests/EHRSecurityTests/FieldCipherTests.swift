import Crypto
import EHRSecurity
import Foundation
import Testing

@Suite("FieldCipher")
struct FieldCipherTests {
    let cipher = FieldCipher(keyring: TenantKeyring.generate(tenantID: "t-acme"))

    @Test(arguments: ["", "Álvarez", "jane@example.com", String(repeating: "Session note. ", count: 500), "😀 emoji"])
    func roundTrip(plaintext: String) throws {
        let ctx = Fixture.context()
        let stored = try cipher.encrypt(plaintext, context: ctx)
        #expect(stored.hasPrefix("ehr1:"))
        #expect(FieldCipher.isEncrypted(stored))
        #expect(!FieldCipher.isEncrypted(plaintext))
        #expect(try cipher.decryptString(stored, context: ctx) == plaintext)
        // Layout: 5-byte header + 12-byte nonce + ciphertext + 16-byte tag.
        let raw = try #require(Data(base64Encoded: String(stored.dropFirst(5))))
        #expect(raw.count == 5 + 12 + plaintext.utf8.count + 16)
        #expect(raw.first == 0x01)
        #expect(Array(raw[1..<5]) == [0, 0, 0, 1])
    }

    @Test(arguments: [
        Fixture.context(row: "row-2"),
        Fixture.context(column: "first_name"),
        Fixture.context(table: "contacts"),
        Fixture.context(tenant: "t-other"),
    ])
    func movedCiphertextFailsWithWrongContext(target: FieldContext) throws {
        let stored = try cipher.encrypt("Sentinel Name", context: Fixture.context())
        #expect(throws: FieldCipherError.wrongContext) { try cipher.decrypt(stored, context: target) }
    }

    @Test func movedToAnotherTenantsKeyringFails() throws {
        let other = FieldCipher(keyring: TenantKeyring.generate(tenantID: "t-other"))
        let stored = try cipher.encrypt("Sentinel Name", context: Fixture.context())
        #expect(throws: FieldCipherError.wrongContext) {
            try other.decrypt(stored, context: Fixture.context(tenant: "t-other"))
        }
    }

    @Test func nonceDiffersEveryTime() throws {
        let ctx = Fixture.context()
        let outputs = try (0..<200).map { _ in try cipher.encrypt("same plaintext", context: ctx) }
        #expect(Set(outputs).count == outputs.count)
        let nonces = outputs.map { Data(base64Encoded: String($0.dropFirst(5)))![5..<17] }
        #expect(Set(nonces).count == nonces.count)
    }

    @Test func everyTamperedByteFails() throws {
        let ctx = Fixture.context()
        let stored = try cipher.encrypt("Jane Doe", context: ctx)
        let raw = Data(base64Encoded: String(stored.dropFirst(5)))!
        for i in 0..<raw.count {
            var t = raw
            t[i] ^= 0x01
            let forged = "ehr1:" + t.base64EncodedString()
            #expect(throws: FieldCipherError.self) { try cipher.decrypt(forged, context: ctx) }
        }
    }

    @Test(arguments: [
        "Jane Doe", "ehr1:", "ehr1:!!!", "ehr1:" + Data(repeating: 1, count: 20).base64EncodedString(),
        "ehr1:" + (Data([2, 0, 0, 0, 1]) + Data(repeating: 0, count: 40)).base64EncodedString(),
    ])
    func malformedInput(stored: String) {
        #expect(throws: FieldCipherError.malformed) { try cipher.decrypt(stored, context: Fixture.context()) }
    }

    @Test func oldVersionStillDecryptsAfterRotation() throws {
        var ring = TenantKeyring.generate(tenantID: "t-acme")
        let ctx = Fixture.context()
        let old = try FieldCipher(keyring: ring).encrypt("before rotation", context: ctx)
        let newVersion = ring.rotate()
        #expect(newVersion == 2)
        let rotated = FieldCipher(keyring: ring)
        #expect(try rotated.decryptString(old, context: ctx) == "before rotation")
        #expect(try FieldCipher.keyVersion(of: old) == 1)
        #expect(try rotated.needsReencryption(old))
        let fresh = try rotated.encrypt("after rotation", context: ctx)
        #expect(try FieldCipher.keyVersion(of: fresh) == 2)
        #expect(try !rotated.needsReencryption(fresh))
        // Once version 1 is dropped (shredded), old rows fail with a clear error.
        ring.remove(version: 1)
        #expect(throws: FieldCipherError.unknownKeyVersion(1)) {
            try FieldCipher(keyring: ring).decrypt(old, context: ctx)
        }
    }

    @Test func optionalHelpers() throws {
        let ctx = Fixture.context()
        #expect(try cipher.encryptOptional(nil, context: ctx) == nil)
        #expect(try cipher.decryptOptional(nil, context: ctx) == nil)
        let s = try cipher.encryptOptional("555-0100", context: ctx)
        #expect(try cipher.decryptOptional(s, context: ctx) == "555-0100")
    }

    struct Address: Codable, Equatable {
        var line1: String
        var city: String
        var zip: String?
    }

    @Test func codableRoundTrip() throws {
        let ctx = Fixture.context(column: "address")
        let a = Address(line1: "1 Main St", city: "Springfield", zip: nil)
        let stored = try cipher.encrypt(codable: a, context: ctx)
        #expect(!stored.contains("Main"))
        #expect(try cipher.decrypt(Address.self, from: stored, context: ctx) == a)
        #expect(throws: FieldCipherError.malformed) { try cipher.decrypt(Int.self, from: stored, context: ctx) }
    }
}
