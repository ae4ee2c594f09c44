import EHRDomain
import Foundation
import OpenAPIRuntime

#if canImport(Glibc)
    import Glibc
#endif

/// RFC 3339 dates: answers carry milliseconds; requests may send them or not.
struct FlexibleDateTranscoder: DateTranscoder {
    /// Hand-written because answers carry several dates per row and Foundation's formatters dominate list encoding.
    func encode(_ date: Date) throws -> String {
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

    func decode(_ string: String) throws -> Date {
        // Foundation rolls impossible days over (February 30th becomes March 2nd); refuse them instead.
        guard string.count >= 10, CalendarDate(iso: String(string.prefix(10))) != nil else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "Expected an RFC 3339 date-time with a real calendar day"))
        }
        if let date = try? Date(
            string,
            strategy: .iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: true).timeSeparator(.colon).timeZone(
                separator: .omitted))
        {
            return date
        }
        if let date = try? Date(string, strategy: .iso8601) { return date }
        if let date = ISO8601DateFormatter.withOffset.date(from: string) { return date }
        throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "Expected an RFC 3339 date-time, such as 2026-12-01T15:00:00Z"))
    }
}

extension ISO8601DateFormatter {
    nonisolated(unsafe) static let withOffset: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()
}
