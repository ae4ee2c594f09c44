import EHRWire
import Foundation
import FuzzSupport

/// Instants RFC3339 reads and writes, in whole milliseconds: from the first whole Gregorian year (1583) to the end of 9999.
private let storedMillis: ClosedRange<Int64> = -12_212_553_600_000...253_402_300_799_999

/// Any text: never traps, and a date it names formats to a text that parses back to the same millisecond.
/// The bytes as an instant and a zone offset: its text, in UTC or rewritten at that offset, parses back to it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRFC3339(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let text = input.text
    if let date = RFC3339.parse(text) {
        let formatted = RFC3339.format(date)
        expect(isAnswerShaped(formatted), "\(text) formats as \(formatted)")
        guard let again = RFC3339.parse(formatted) else {
            expect(false, "\(text) formats as \(formatted), which does not parse")
            return 0
        }
        expect(RFC3339.format(again) == formatted, "\(formatted) parses and formats as \(RFC3339.format(again))")
        expect(abs(again.timeIntervalSince1970 - date.timeIntervalSince1970) <= 0.000_501, "\(text) moved to \(formatted)")
    }

    let millis = input.integer(in: storedMillis)
    let formatted = RFC3339.format(Date(timeIntervalSince1970: Double(millis) / 1000))
    expect(isAnswerShaped(formatted), "\(millis) formats as \(formatted)")
    let parsed = RFC3339.parse(formatted)
    expect(parsed.map(milliseconds) == millis, "\(millis) formats as \(formatted), which parses as \(String(describing: parsed))")
    // The same instant written at an offset (as a client in New York would): local time, then the offset.
    let offsetMinutes = input.integer(in: -(18 * 60)...(18 * 60))
    let local = millis + offsetMinutes * 60_000
    guard storedMillis.contains(local) else { return 0 }
    let sign = offsetMinutes < 0 ? "-" : "+"
    let zone = sign + twoDigits(abs(offsetMinutes) / 60) + ":" + twoDigits(abs(offsetMinutes) % 60)
    let atOffset = String(RFC3339.format(Date(timeIntervalSince1970: Double(local) / 1000)).dropLast()) + zone
    expect(RFC3339.parse(atOffset).map(milliseconds) == millis, "\(atOffset) does not parse as \(formatted)")
    return 0
}

private func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

private func twoDigits(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` with digits where digits belong.
private func isAnswerShaped(_ text: String) -> Bool {
    let pattern = Array("dddd-dd-ddTdd:dd:dd.dddZ".utf8)
    let bytes = Array(text.utf8)
    guard bytes.count == pattern.count else { return false }
    return zip(bytes, pattern).allSatisfy { byte, expected in
        expected == UInt8(ascii: "d") ? (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) : byte == expected
    }
}
