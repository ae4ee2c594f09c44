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

    /// Found by scripts/contract-fuzz: leap seconds, out-of-range fields, offsets without a colon and trailing bytes passed.
    @Test(arguments: [
        "yesterday", "2026-11-29", "2026-13-01T00:00:00Z", "", "2026-11-29T25:00:00Z", "2026-11-29T23:60:00Z", "2026-11-29T23:59:60Z",
        "2026-11-29T23:59:61Z", "2026-11-29T10:00:00+01:99", "2026-11-29T10:00:00+0100", "2026-11-29T10:00:00+01", "2026-11-29T10:00:00Z0",
        "2026-11-29T10:00:00ZZ", "2026-11-29t10:00:00Z", "2026-11-29T10:00:00.Z", "2026-11-29T10:00:00+18:01", "2026-02-29T10:00:00Z",
        "2026-11-29T10:00:00", " 2026-11-29T10:00:00Z",
    ])
    func refusesAnythingElse(_ text: String) {
        #expect(throws: (any Error).self) { try transcoder.decode(text) }
    }

    /// Found by Fuzz/FuzzRFC3339: Foundation reads days before 1582-10-15 as Julian ("0001-01-01T00:00:00.000Z" came back as
    /// two days earlier), and an offset could carry an instant past what a four-digit year can write ("0000-..." or year 10000).
    @Test(arguments: [
        "0001-01-01T00:00:00.000Z", "1582-10-14T23:59:59Z", "1582-10-15T01:00:00+02:00", "1582-12-31T23:00:00-05:00", "9999-12-31T23:30:00-01:00",
    ])
    func refusesInstantsItCannotWriteBack(_ text: String) {
        #expect(throws: (any Error).self) { try transcoder.decode(text) }
    }

    @Test(arguments: ["1583-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z", "2024-02-29T12:00:00.000Z", "2000-02-29T00:00:00.000Z"])
    func writesBackWhatItReads(_ text: String) throws {
        #expect(try transcoder.encode(try transcoder.decode(text)) == text)
    }

    @Test func roundsFractionsToMilliseconds() throws {
        #expect(try transcoder.decode("2026-11-29T15:00:00.1234Z").timeIntervalSince1970 == 1_795_964_400.123)
        #expect(try transcoder.decode("2026-11-29T15:00:00.9996Z").timeIntervalSince1970 == 1_795_964_401)
        #expect(try transcoder.decode("1583-01-01T00:00:00+18:00") == Date(timeIntervalSince1970: -12_212_618_400))
    }

    @Test func roundTripsMillisecondPrecision() throws {
        let date = Date(timeIntervalSince1970: 1_700_000_000.987)
        #expect(try transcoder.decode(try transcoder.encode(date)).timeIntervalSince1970 == 1_700_000_000.987)
    }
}
