import EHRDomain
import Foundation
import Testing

@Suite("CalendarDate")
struct CalendarDateTests {
    @Test(
        "valid ISO dates parse to their parts and print back unchanged",
        arguments: [
            ("2024-01-01", 2024, 1, 1), ("1999-12-31", 1999, 12, 31), ("2024-02-29", 2024, 2, 29),
            ("2000-02-29", 2000, 2, 29), ("2023-04-30", 2023, 4, 30), ("0001-01-01", 1, 1, 1), ("9999-12-31", 9999, 12, 31),
        ])
    func valid(_ iso: String, _ year: Int, _ month: Int, _ day: Int) throws {
        let date = try #require(CalendarDate(iso: iso))
        #expect((date.year, date.month, date.day) == (year, month, day))
        #expect(date.description == iso)
    }

    @Test(
        "invalid strings and non-existent days give nil",
        arguments: [
            "2023-02-29", "2024-13-01", "abc", "2024-1-01", "2024-01-1", "24-01-01", "12024-01-01",
            "1900-02-29", "2024-04-31", "2024-00-10", "2024-01-00", "2024-01-32", "0000-01-01",
            "", "--", "2024-01", "2024-01-01-01", "2024/01/01", "20240101", "2024-01-01T00:00:00Z",
            " 2024-01-01", "2024-01-01 ", "2024-0a-01", "-2024-01-01",
        ])
    func invalid(_ iso: String) {
        #expect(CalendarDate(iso: iso) == nil)
    }

    @Test("leap day 2024-02-29 is valid, 2023-02-29 is not")
    func leapDay() {
        #expect(CalendarDate(year: 2024, month: 2, day: 29) != nil)
        #expect(CalendarDate(year: 2023, month: 2, day: 29) == nil)
    }

    @Test(
        "components out of range give nil",
        arguments: [(0, 1, 1), (10_000, 1, 1), (2024, 0, 1), (2024, 13, 1), (2024, 1, 0), (2024, 1, 32), (2024, 6, 31), (-5, 1, 1)])
    func invalidComponents(_ year: Int, _ month: Int, _ day: Int) {
        #expect(CalendarDate(year: year, month: month, day: day) == nil)
    }

    @Test(
        "description is zero-padded YYYY-MM-DD",
        arguments: [((5, 3, 7), "0005-03-07"), ((987, 10, 1), "0987-10-01"), ((2024, 2, 9), "2024-02-09"), ((2024, 11, 30), "2024-11-30")])
    func zeroPadded(_ parts: (Int, Int, Int), _ expected: String) throws {
        let date = try #require(CalendarDate(year: parts.0, month: parts.1, day: parts.2))
        #expect(date.description == expected)
    }

    @Test("dates order by year, then month, then day")
    func ordering() throws {
        let strings = ["2024-02-01", "2023-12-31", "2024-01-31", "2024-01-02", "2024-01-10"]
        let dates = try strings.map { try #require(CalendarDate(iso: $0)) }
        #expect(dates.sorted().map(\.description) == ["2023-12-31", "2024-01-02", "2024-01-10", "2024-01-31", "2024-02-01"])
    }

    @Test("encodes as a YYYY-MM-DD JSON string and decodes back")
    func codableRoundTrip() throws {
        let dates = [CalendarDate(year: 2024, month: 2, day: 29)!, CalendarDate(year: 7, month: 1, day: 5)!]
        let json = try JSONEncoder().encode(dates)
        #expect(String(decoding: json, as: UTF8.self) == #"["2024-02-29","0007-01-05"]"#)
        #expect(try JSONDecoder().decode([CalendarDate].self, from: json) == dates)
    }

    @Test("decoding a malformed or non-existent date throws", arguments: [#"["2023-02-29"]"#, #"["2024-1-01"]"#, #"["abc"]"#, "[20240101]", "[null]"])
    func decodingRejectsBadDates(_ json: String) {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([CalendarDate].self, from: Data(json.utf8)) }
    }
}
