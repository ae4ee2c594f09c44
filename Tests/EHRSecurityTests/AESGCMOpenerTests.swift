import Crypto
import Foundation
import Testing

@testable import EHRSecurity

/// The opener that keeps a key's schedule (``AESGCMOpener``) against swift-crypto's `AES.GCM`: the same plaintext for
/// every box `AES.GCM.seal` made, and nothing for any box or associated data with a bit changed.
@Suite("AESGCMOpener")
struct AESGCMOpenerTests {
    private func open(_ opener: AESGCMOpener, _ combined: Data, _ associated: Data) -> Data? {
        combined.withUnsafeBytes { c in associated.withUnsafeBytes { a in opener.open(combined: c, authenticating: a) } }
    }

    @Test func opensWhatAESGCMSealsAndNothingAltered() throws {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<300 {
            let key = SymmetricKey(size: .bits256)
            let opener = try #require(AESGCMOpener(key: key))
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
            #expect(try open(#require(AESGCMOpener(key: SymmetricKey(size: .bits256))), combined, associated) == nil)
        }
    }

    @Test func refusesWhatIsShorterThanNonceAndTag() throws {
        let opener = try #require(AESGCMOpener(key: SymmetricKey(size: .bits256)))
        for length in 0..<28 { #expect(open(opener, Data(repeating: 0, count: length), Data()) == nil) }
    }

    @Test func oneOpenerServesManyTasksAtOnce() async throws {
        let key = SymmetricKey(size: .bits256)
        let opener = try #require(AESGCMOpener(key: key))
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
}
