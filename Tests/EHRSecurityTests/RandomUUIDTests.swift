import EHRSecurity
import Foundation
import Testing

@Suite("Random UUIDs")
struct RandomUUIDTests {
    @Test func versionFourVariantTenAndNoRepeats() {
        var seen = Set<UUID>()
        for _ in 0..<20_000 {
            let id = RandomUUID.make()
            let text = id.uuidString
            #expect(text[text.index(text.startIndex, offsetBy: 14)] == "4")
            #expect("89AB".contains(text[text.index(text.startIndex, offsetBy: 19)]))
            seen.insert(id)
        }
        #expect(seen.count == 20_000)
    }

    @Test func bitsLookRandom() {
        // Each of the 122 random bits is set in about half of 4,000 ids (a stuck bit or a reused buffer fails this).
        var ones = [Int](repeating: 0, count: 128)
        for _ in 0..<4_000 {
            let id = RandomUUID.make()
            withUnsafeBytes(of: id.uuid) { bytes in
                for bit in 0..<128 where bytes[bit / 8] & (0x80 >> UInt8(bit % 8)) != 0 { ones[bit] += 1 }
            }
        }
        let fixed: Set<Int> = [48, 49, 50, 51, 64, 65]
        for bit in 0..<128 where !fixed.contains(bit) {
            #expect((1_700...2_300).contains(ones[bit]), "bit \(bit): \(ones[bit])")
        }
    }

    @Test func concurrentCallersGetDistinctIDs() async {
        let ids = await withTaskGroup(of: [UUID].self) { group in
            for _ in 0..<8 { group.addTask { (0..<2_000).map { _ in RandomUUID.make() } } }
            var all: [UUID] = []
            for await batch in group { all += batch }
            return all
        }
        #expect(Set(ids).count == 16_000)
    }
}
