import EHRDomain
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// RFC 3339 date-times on the wire: answers carry UTC with milliseconds; requests may send fractions and offsets or not.
public enum RFC3339 {
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, rounded to the millisecond.
    /// Hand-written because answers carry several dates per row and Foundation's formatters dominate list encoding.
    public static func format(_ date: Date) -> String {
        let totalMillis = Int64((date.timeIntervalSince1970 * 1000).rounded())
        var seconds = totalMillis / 1000
        var millis = totalMillis % 1000
        if millis < 0 {
            millis += 1000
            seconds -= 1
        }
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        var out = [UInt8]()
        out.reserveCapacity(24)
        func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8((rest / divisor) % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(Int(parts.tm_year) + 1900, 4)
        out.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2)
        out.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2)
        out.append(UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2)
        out.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2)
        out.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2)
        out.append(UInt8(ascii: "."))
        digits(Int(millis), 3)
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    /// The instant `string` names, with or without fractional seconds, in UTC or at an offset;
    /// nil for anything else, including a day that does not exist and an instant ``format(_:)`` cannot write back.
    public static func parse(_ string: String) -> Date? {
        // Foundation rolls impossible days over (February 30th becomes March 2nd); refuse them instead.
        guard string.count >= 10, let day = CalendarDate(iso: String(string.prefix(10))), day >= firstGregorianDay,
            let date = foundationParse(string)
        else { return nil }
        return writableMillis.contains((date.timeIntervalSince1970 * 1000).rounded()) ? date : nil
    }

    /// Foundation reads days before 1582-10-15 in the Julian calendar, while format(_:) writes the proleptic Gregorian
    /// one of RFC 3339: an earlier date would move by up to ten days on a round trip. So parsing starts there, in the
    /// text and in UTC, and ends at the last millisecond a four-digit year can write.
    private static let firstGregorianDay = CalendarDate(year: 1582, month: 10, day: 15)!
    private static let writableMillis: ClosedRange<Double> = -12_219_292_800_000...253_402_300_799_999

    private static func foundationParse(_ string: String) -> Date? {
        if let date = try? Date(
            string,
            strategy: .iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: true).timeSeparator(.colon).timeZone(
                separator: .omitted))
        {
            return date
        }
        if let date = try? Date(string, strategy: .iso8601) { return date }
        return withOffset.date(from: string)
    }

    private nonisolated(unsafe) static let withOffset: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()
}
