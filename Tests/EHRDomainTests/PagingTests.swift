import EHRDomain
import Foundation
import Testing

@Suite("PageCursor")
struct PagingTests {
    static let id = UUID(uuidString: "3F2504E0-4F89-41D3-9A0C-0305E82C3301")!

    @Test("page requests default to 50 items, at most 100, from the start")
    func pageRequestDefaults() {
        let request = PageRequest()
        #expect(request.limit == 50)
        #expect(request.after == nil)
        #expect(PageRequest.maximumLimit == 100)
    }
}

@Suite("millisecondPrecision")
struct MillisecondPrecisionTests {
    @Test(
        "rounds to the nearest millisecond",
        arguments: [
            (1_750_000_000.123_4, 1_750_000_000.123),
            (1_750_000_000.123_6, 1_750_000_000.124),
            (1_750_000_000.999_9, 1_750_000_001.0),
            (1_750_000_000.5, 1_750_000_000.5),
            (-0.000_4, 0),
        ])
    func rounds(_ input: Double, _ expected: Double) {
        #expect(millisecondPrecision(Date(timeIntervalSince1970: input)) == Date(timeIntervalSince1970: expected))
    }

    @Test("rounding is idempotent")
    func idempotent() {
        let once = millisecondPrecision(Date(timeIntervalSince1970: 1_750_000_000.987_654))
        #expect(millisecondPrecision(once) == once)
    }
}
