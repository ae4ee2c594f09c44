import EHRDomain
import Foundation
import Testing

/// The hand-written text forms of ids must agree with Foundation's: written lower-case, read exactly as
/// `UUID(uuidString:)` reads.
@Suite("UUID text forms")
struct UUIDTextTests {
    @Test func writesFoundationsFormInLowerCase() {
        for _ in 0..<2_000 {
            let id = UUID()
            #expect(id.lowercasedString == id.uuidString.lowercased())
        }
    }

    @Test func readsWhatFoundationReads() {
        var texts: [String] = []
        for _ in 0..<2_000 {
            let text = UUID().uuidString
            texts += [text, text.lowercased(), String(text.enumerated().map { $0.offset % 3 == 0 ? Character($0.element.lowercased()) : $0.element })]
        }
        texts += [
            "", "not-a-uuid", "00000000-0000-0000-0000-000000000000", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
            "3F2504E0-4F89-41D3-9A0C-0305E82C330", "3F2504E0-4F89-41D3-9A0C-0305E82C33011", "3F2504E04F8941D39A0C0305E82C3301",
            "3F2504E0_4F89-41D3-9A0C-0305E82C3301", "3F2504E0-4F89-41D3-9A0C-0305E82C33G1", "{3F2504E0-4F89-41D3-9A0C-0305E82C3301}",
            " 3F2504E0-4F89-41D3-9A0C-0305E82C330", "3F2504E0-4F89-41D3-9A0C-0305E82C330 ", "+F2504E0-4F89-41D3-9A0C-0305E82C3301",
            "0x2504E0-4F89-41D3-9A0C-0305E82C3301", "3F2504E0-4F89-41D3-9A0C-0305E82C33é", "3F2504E0-4F89-41D3-9A0C\u{0}0305E82C3301",
        ]
        for text in texts {
            #expect(UUID(parsing: text) == UUID(uuidString: text), "\(text)")
        }
    }
}
