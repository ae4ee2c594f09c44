import Foundation
import Testing

import EHRDomain

@Suite("PageCursor")
struct PagingTests {
    static let id = UUID(uuidString: "3F2504E0-4F89-41D3-9A0C-0305E82C3301")!

    static func base64url(_ raw: String) -> String {
        Data(raw.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    @Test(
        "a cursor with a millisecond key survives the token round trip",
        arguments: [1_750_000_000.123, 0, -1.5, 1_000_000_000.001, 4_102_444_800.999])
    func roundTrip(_ seconds: Double) {
        let cursor = PageCursor(key: Date(timeIntervalSince1970: seconds), id: UUID())
        #expect(PageCursor(token: cursor.token) == cursor)
    }

    @Test("a sub-millisecond key comes back rounded to the millisecond")
    func roundTripRoundsKey() {
        let key = Date(timeIntervalSince1970: 1_750_000_000.123_6)
        let decoded = PageCursor(token: PageCursor(key: key, id: Self.id).token)
        #expect(decoded == PageCursor(key: millisecondPrecision(key), id: Self.id))
        #expect(decoded?.key == Date(timeIntervalSince1970: 1_750_000_000.124))
    }

    @Test("the token is URL-safe base64 without padding", arguments: 0..<20)
    func tokenIsURLSafe(_ seed: Int) {
        let token = PageCursor(key: Date(timeIntervalSince1970: Double(seed) * 123_456.789), id: UUID()).token
        #expect(!token.isEmpty)
        #expect(token.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
    }

    @Test("the token is base64url of <milliseconds>:<lower-case uuid>")
    func wireForm() {
        let cursor = PageCursor(key: Date(timeIntervalSince1970: 1_700_000_000.123), id: Self.id)
        #expect(cursor.token == Self.base64url("1700000000123:3f2504e0-4f89-41d3-9a0c-0305e82c3301"))
    }

    @Test("a hand-made token in the wire form parses")
    func parsesWireForm() {
        let cursor = PageCursor(token: Self.base64url("1700000000123:3F2504E0-4F89-41D3-9A0C-0305E82C3301"))
        #expect(cursor == PageCursor(key: Date(timeIntervalSince1970: 1_700_000_000.123), id: Self.id))
    }

    @Test(
        "garbage tokens give nil",
        arguments: [
            "", "a", "abcde", "!!!!", "not a cursor", "%%%%====", "////", "----",
            base64url("hello"),
            base64url("1700000000123"),
            base64url("1700000000123:"),
            base64url(":3f2504e0-4f89-41d3-9a0c-0305e82c3301"),
            base64url("abc:3f2504e0-4f89-41d3-9a0c-0305e82c3301"),
            base64url("1.5:3f2504e0-4f89-41d3-9a0c-0305e82c3301"),
            base64url("1700000000123:not-a-uuid"),
            base64url("1:2:3f2504e0-4f89-41d3-9a0c-0305e82c3301"),
            base64url("99999999999999999999999:3f2504e0-4f89-41d3-9a0c-0305e82c3301"),  // overflows Int64
            String(repeating: "A", count: 10_000),
        ])
    func garbageIsNil(_ token: String) {
        #expect(PageCursor(token: token) == nil)
    }

    @Test("non-UTF-8 bytes give nil")
    func nonUTF8IsNil() {
        let token = Data([0xFF, 0xFE, 0x3A, 0x80]).base64EncodedString().replacingOccurrences(of: "=", with: "")
        #expect(PageCursor(token: token) == nil)
    }

    @Test("a token longer than 128 characters gives nil even if it decodes")
    func overlongTokenIsNil() {
        let padded = String(repeating: "0", count: 60) + "1700000000123:3f2504e0-4f89-41d3-9a0c-0305e82c3301"
        #expect(Self.base64url(padded).count > 128)
        #expect(PageCursor(token: Self.base64url(padded)) == nil)
    }

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
