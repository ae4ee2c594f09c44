import Crypto
import Foundation
import Testing

@testable import EHRSecurity

/// The context that keeps a key's schedule (``AESGCMContext``) against swift-crypto's `AES.GCM`: the same plaintext for
/// every box `AES.GCM.seal` made, nothing for any box or associated data with a bit changed, and byte for byte the box
/// `AES.GCM.seal` makes with the same nonce.
@Suite("AESGCMContext")
struct AESGCMContextTests {
    private func open(_ opener: AESGCMContext, _ combined: Data, _ associated: Data) -> Data? {
        combined.withUnsafeBytes { c in associated.withUnsafeBytes { a in opener.open(combined: c, authenticating: a) } }
    }

    /// Ciphertext then tag, or nil when the context refused.
    private func seal(_ sealer: AESGCMContext, _ plaintext: Data, nonce: Data, _ associated: Data) -> Data? {
        var out = [UInt8](repeating: 0xAA, count: plaintext.count + 16)
        let sealed = out.withUnsafeMutableBytes { out in
            plaintext.withUnsafeBytes { p in
                nonce.withUnsafeBytes { n in associated.withUnsafeBytes { a in sealer.seal(p, nonce: n, authenticating: a, into: out) } }
            }
        }
        return sealed ? Data(out) : nil
    }

    @Test func opensWhatAESGCMSealsAndNothingAltered() throws {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<300 {
            let key = SymmetricKey(size: .bits256)
            let opener = try #require(AESGCMContext(key: key))
            let plaintext = Data((0..<(round % 7 == 0 ? 0 : Int.random(in: 1...400))).map { _ in UInt8.random(in: 0...255) })
            let associated = Data((0..<Int.random(in: 0...64)).map { _ in UInt8.random(in: 0...255) })
            let combined = try #require(try AES.GCM.seal(plaintext, using: key, authenticating: associated).combined)
            #expect(open(opener, combined, associated) == plaintext)
            #expect(try AES.GCM.open(AES.GCM.SealedBox(combined: combined), using: key, authenticating: associated) == plaintext)

            var flipped = combined
            let index = Int.random(in: 0..<flipped.count, using: &generator)
            flipped[index] ^= 1 << UInt8.random(in: 0...7)
            #expect(open(opener, flipped, associated) == nil, "bit flipped at \(index) of \(combined.count)")
            #expect(throws: (any Error).self) { try AES.GCM.open(AES.GCM.SealedBox(combined: flipped), using: key, authenticating: associated) }

            var otherAssociated = associated
            if otherAssociated.isEmpty { otherAssociated.append(0) } else { otherAssociated[0] ^= 0x80 }
            #expect(open(opener, combined, otherAssociated) == nil)
            #expect(open(opener, combined.dropLast(), associated) == nil)
            #expect(try open(#require(AESGCMContext(key: SymmetricKey(size: .bits256))), combined, associated) == nil)
        }
    }

    @Test func refusesWhatIsShorterThanNonceAndTag() throws {
        let opener = try #require(AESGCMContext(key: SymmetricKey(size: .bits256)))
        for length in 0..<28 { #expect(open(opener, Data(repeating: 0, count: length), Data()) == nil) }
    }

    @Test func oneOpenerServesManyTasksAtOnce() async throws {
        let key = SymmetricKey(size: .bits256)
        let opener = try #require(AESGCMContext(key: key))
        let boxes = try (0..<64).map { i in
            let plaintext = Data("row \(i) ".utf8) + Data(repeating: UInt8(i), count: i)
            return (plaintext, try #require(try AES.GCM.seal(plaintext, using: key, authenticating: Data([UInt8(i)])).combined))
        }
        let wrong = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var wrong = 0
                    for i in 0..<2_000 {
                        let (plaintext, combined) = boxes[(i * 7 + worker) % boxes.count]
                        let index = (i * 7 + worker) % boxes.count
                        if self.open(opener, combined, Data([UInt8(index)])) != plaintext { wrong += 1 }
                    }
                    return wrong
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(wrong == 0)
    }

    @Test func sealsByteForByteAsAESGCM() throws {
        for round in 0..<300 {
            let key = SymmetricKey(size: .bits256)
            let sealer = try #require(AESGCMContext(key: key))
            let plaintext = Data((0..<(round % 7 == 0 ? 0 : Int.random(in: 1...400))).map { _ in UInt8.random(in: 0...255) })
            let associated = Data((0..<(round % 5 == 0 ? 0 : Int.random(in: 1...64))).map { _ in UInt8.random(in: 0...255) })
            let nonce = Data((0..<12).map { _ in UInt8.random(in: 0...255) })
            let out = try #require(seal(sealer, plaintext, nonce: nonce, associated))
            let expected = try AES.GCM.seal(plaintext, using: key, nonce: AES.GCM.Nonce(data: nonce), authenticating: associated)
            #expect(out == expected.ciphertext + expected.tag, "round \(round)")
            #expect(open(sealer, nonce + out, associated) == plaintext)
        }
    }

    @Test func oneContextSealsFromManyTasksAtOnce() async throws {
        let key = SymmetricKey(size: .bits256)
        let sealer = try #require(AESGCMContext(key: key))
        let wrong = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var wrong = 0
                    for i in 0..<2_000 {
                        let plaintext = Data("worker \(worker) row \(i)".utf8)
                        let nonce = Data((0..<12).map { _ in UInt8.random(in: 0...255) })
                        guard let out = self.seal(sealer, plaintext, nonce: nonce, Data([UInt8(worker)])) else {
                            wrong += 1
                            continue
                        }
                        let box = try AES.GCM.SealedBox(combined: nonce + out)
                        if (try? AES.GCM.open(box, using: key, authenticating: Data([UInt8(worker)]))) != plaintext { wrong += 1 }
                    }
                    return wrong
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(wrong == 0)
    }
}

/// A stored value sealed by ``FieldCipher`` (through the kept schedule) opens with swift-crypto's `AES.GCM` under the
/// keyring's current key and the field's associated data: the envelope is the format, whichever code wrote it.
@Suite("FieldCipher envelope against AES.GCM")
struct FieldCipherEnvelopeTests {
    @Test(arguments: ["", "Álvarez", String(repeating: "Session note. ", count: 300)])
    func storedValueOpensWithAESGCM(plaintext: String) throws {
        let keyring = TenantKeyring.generate(tenantID: "t-acme", version: 7)
        let context = FieldContext(tenantID: "t-acme", table: "clinical_notes", column: "sections", rowID: "row-1")
        let stored = try FieldCipher(keyring: keyring).encrypt(plaintext, context: context)
        let raw = try #require(Data(base64Encoded: String(stored.dropFirst(FieldCipher.prefix.count))))
        #expect(Array(raw.prefix(5)) == [0x01, 0, 0, 0, 7])
        let box = try AES.GCM.SealedBox(combined: raw.dropFirst(5))
        let opened = try AES.GCM.open(box, using: keyring.currentKey, authenticating: context.associatedData(header: raw.prefix(5)))
        #expect(String(decoding: opened, as: UTF8.self) == plaintext)
    }
}
