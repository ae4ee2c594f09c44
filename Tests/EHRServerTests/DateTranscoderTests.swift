import EHRWire
import Foundation
import Testing

@testable import EHRServer

@Suite("RFC 3339 dates on the wire")
struct DateTranscoderTests {
    let transcoder = FlexibleDateTranscoder()

    @Test func encodesUTCWithMilliseconds() throws {
        #expect(try transcoder.encode(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(try transcoder.encode(Date(timeIntervalSince1970: 1_795_964_400.123)) == "2026-11-29T15:00:00.123Z")
        #expect(try transcoder.encode(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500Z")
    }

    @Test(arguments: ["2026-11-29T15:00:00Z", "2026-11-29T15:00:00.000Z", "2026-11-29T10:00:00-05:00", "2026-11-29T10:00:00.000-05:00"])
    func acceptsWithAndWithoutFractionsAndOffsets(_ text: String) throws {
        #expect(try transcoder.decode(text) == Date(timeIntervalSince1970: 1_795_964_400))
    }

    @Test(arguments: ["yesterday", "2026-11-29", "2026-13-01T00:00:00Z", ""])
    func refusesAnythingElse(_ text: String) {
        #expect(throws: (any Error).self) { try transcoder.decode(text) }
    }

    /// Found by Fuzz/FuzzRFC3339: Foundation reads days before 1582-10-15 as Julian ("0001-01-01T00:00:00.000Z" came back as
    /// two days earlier), and an offset could carry an instant past what a four-digit year can write ("0000-..." or year 10000).
    @Test(arguments: [
        "0001-01-01T00:00:00.000Z", "1582-10-14T23:59:59Z", "1582-10-15T01:00:00+02:00", "1582-10-14T22:00:00-05:00", "9999-12-31T23:30:00-01:00",
    ])
    func refusesInstantsItCannotWriteBack(_ text: String) {
        #expect(throws: (any Error).self) { try transcoder.decode(text) }
    }

    @Test(arguments: ["1582-10-15T00:00:00.000Z", "9999-12-31T23:59:59.999Z", "2024-02-29T12:00:00.000Z"])
    func writesBackWhatItReads(_ text: String) throws {
        #expect(try transcoder.encode(try transcoder.decode(text)) == text)
    }

    @Test func roundTripsMillisecondPrecision() throws {
        let date = Date(timeIntervalSince1970: 1_700_000_000.987)
        #expect(try transcoder.decode(try transcoder.encode(date)).timeIntervalSince1970 == 1_700_000_000.987)
    }
}
