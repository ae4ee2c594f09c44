import Foundation
import NIOCore
import Testing

@testable import EHRServer
@testable import EHRWire

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

    /// The writer's calendar arithmetic gives what the C library's `gmtime_r` gives (the formatter used it before), on
    /// the turns of centuries, leap days and 20,000 random instants from year 1 to 9999; and the list's writer into a
    /// buffer gives the same bytes as the string.
    @Test func writesWhatGmtimeGives() {
        let day: Int64 = 86_400
        var seconds: [Int64] = [0, -1, 1, day - 1, day, -day, -day - 1, 951_782_400, 951_868_800, 4_107_542_400, 4_107_628_800]
        for year in [1, 4, 100, 400, 1583, 1600, 1700, 1800, 1900, 2000, 2100, 2400, 9999] {
            var parts = tm()
            parts.tm_year = Int32(year - 1900)
            parts.tm_mon = 2
            parts.tm_mday = 1
            let marchFirst = Int64(timegm(&parts))
            seconds += [marchFirst - 1, marchFirst, marchFirst - day, marchFirst + 59]
        }
        var random = SystemRandomNumberGenerator()
        seconds += (0..<20_000).map { _ in Int64.random(in: -62_135_596_800...253_402_300_799, using: &random) }
        for second in seconds {
            var time = time_t(second)
            var parts = tm()
            gmtime_r(&time, &parts)
            let civil = RFC3339.civil(second)
            let secondOfDay: Int = Int(parts.tm_hour) * 3600 + Int(parts.tm_min) * 60 + Int(parts.tm_sec)
            let expected: [Int] = [Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday), secondOfDay]
            #expect([civil.year, civil.month, civil.day, civil.secondOfDay] == expected, "\(second)")
            let millis = Int64.random(in: 0..<1000, using: &random)
            let date = Date(timeIntervalSince1970: Double(second) + Double(millis) / 1000)
            var buffer = ByteBuffer()
            buffer.writeRFC3339(date)
            let text = RFC3339.format(date)
            #expect(String(buffer: buffer) == text)
            if (1583...9999).contains(civil.year) { #expect(RFC3339.parse(text) == date, "\(text)") }
        }
    }
}
