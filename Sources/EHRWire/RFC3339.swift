import EHRDomain
import Foundation

/// RFC 3339 date-times on the wire: answers carry UTC with milliseconds; requests may send fractions and offsets or not.
public enum RFC3339 {
    /// Bytes ``format(_:)`` writes: `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    public static let length = 24

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, rounded to the millisecond.
    /// Hand-written because answers carry several dates per row and Foundation's formatters dominate list encoding.
    public static func format(_ date: Date) -> String {
        String(unsafeUninitializedCapacity: length) { write(date, into: UnsafeMutableRawBufferPointer($0)) }
    }

    /// Writes ``format(_:)``'s ``length`` bytes at the start of `out` (at least that long) and returns their count,
    /// so a list writes its dates straight into the answer (four a row) without a string each.
    @discardableResult
    public static func write(_ date: Date, into out: UnsafeMutableRawBufferPointer) -> Int {
        precondition(out.count >= length)
        let totalMillis = Int64((date.timeIntervalSince1970 * 1000).rounded())
        var seconds = totalMillis / 1000
        var millis = totalMillis % 1000
        if millis < 0 {
            millis += 1000
            seconds -= 1
        }
        let (year, month, day, secondOfDay) = civil(seconds)
        var at = 0
        func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                out[at] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: (rest / divisor) % 10)
                at += 1
                rest %= divisor
                divisor /= 10
            }
        }
        func byte(_ ascii: Unicode.Scalar) {
            out[at] = UInt8(ascii: ascii)
            at += 1
        }
        digits(year, 4)
        byte("-")
        digits(month, 2)
        byte("-")
        digits(day, 2)
        byte("T")
        digits(secondOfDay / 3600, 2)
        byte(":")
        digits(secondOfDay / 60 % 60, 2)
        byte(":")
        digits(secondOfDay % 60, 2)
        byte(".")
        digits(Int(millis), 3)
        byte("Z")
        return at
    }

    /// Year, month, day and second of the day of `seconds` since 1970 in the proleptic Gregorian calendar (what
    /// `gmtime_r` gives), by Howard Hinnant's `civil_from_days`: arithmetic only, no lock or call into the C library.
    static func civil(_ seconds: Int64) -> (year: Int, month: Int, day: Int, secondOfDay: Int) {
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day), Int(secondOfDay))
    }

    /// The instant `string` names: exactly `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (the contract's pattern), a day
    /// that exists, hours 00–23, minutes and seconds 00–59 (no leap seconds: an instant cannot hold one), an offset of
    /// at most 18:00, from 1583-01-01 (the first whole Gregorian year) to the last millisecond ``format(_:)`` can
    /// write; nil for anything else. Fractions beyond milliseconds are rounded.
    public static func parse(_ string: String) -> Date? {
        let utf8 = string.utf8
        return utf8.withContiguousStorageIfAvailable(parse) ?? Array(utf8).withUnsafeBufferPointer(parse)
    }

    private static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Date? {
        func number(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= b.count else { return nil }
            var value = 0
            for i in start..<(start + count) {
                let digit = Int(b[i]) - 48
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        func byte(_ i: Int, _ expected: Character) -> Bool { i < b.count && b[i] == expected.asciiValue! }
        guard b.count >= 20, let year = number(0, 4), byte(4, "-"), let month = number(5, 2), byte(7, "-"), let day = number(8, 2),
            byte(10, "T"), let hour = number(11, 2), byte(13, ":"), let minute = number(14, 2), byte(16, ":"), let second = number(17, 2),
            year >= 1583, (1...12).contains(month), (1...daysIn(month, of: year)).contains(day), hour <= 23, minute <= 59, second <= 59
        else { return nil }
        var i = 19
        var millis = 0
        if byte(i, ".") {
            i += 1
            let first = i
            var scale = 100
            var rest = 0.0
            var restScale = 0.1
            while i < b.count, (48...57).contains(b[i]) {
                let digit = Int(b[i]) - 48
                if scale > 0 {
                    millis += digit * scale
                    scale /= 10
                } else {
                    rest += Double(digit) * restScale
                    restScale /= 10
                }
                i += 1
            }
            guard i > first else { return nil }
            if rest >= 0.5 { millis += 1 }
        }
        var offsetMinutes = 0
        if byte(i, "Z") || byte(i, "z") {
            i += 1
        } else if byte(i, "+") || byte(i, "-") {
            let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
            guard let hours = number(i + 1, 2), byte(i + 3, ":"), let minutes = number(i + 4, 2), minutes <= 59, hours * 60 + minutes <= 18 * 60
            else { return nil }
            offsetMinutes = sign * (hours * 60 + minutes)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        let total = Int64(days) * 86_400_000 + Int64(((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 + millis)
        guard writableMillis.contains(Double(total)) else { return nil }
        return Date(timeIntervalSince1970: Double(total) / 1000)
    }

    private static func daysIn(_ month: Int, of year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's days_from_civil).
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The first instant after an offset is applied (1582-12-31 at +18:00 precedes 1583-01-01 UTC) to the last
    /// millisecond a four-digit year can write.
    private static let writableMillis: ClosedRange<Double> = -12_212_618_400_000...253_402_300_799_999
}
