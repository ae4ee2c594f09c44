import EHRDomain
import EHRWire
import Foundation
import NIOCore

/// The JSON of an appointment list page written straight into a buffer: byte for byte what the generated
/// `Components.Schemas.AppointmentList` gives through the server's `JSONEncoder` (sorted keys, slashes not
/// escaped, absent optionals left out, dates as ``RFC3339``), plus the explicit `"nextCursor":null` of the last
/// page (see ``NullCursorMiddleware``). Foundation's encoder was the largest single cost of the busiest read.
/// `AppointmentListJSONTests` holds it to the generated encoder on real rows and awkward strings.
enum AppointmentListJSON {
    static func encode(_ items: [Appointment], nextCursor: String?) -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(128 + items.count * 560)
        out.writeStaticString("{\"items\":[")
        for (index, a) in items.enumerated() {
            if index > 0 { out.writeStaticString(",") }
            out.writeStaticString("{")
            if let cancellation = a.cancellationReason {
                out.writeStaticString("\"cancellationReason\":")
                JSONText.string(cancellation, into: &out)
                out.writeStaticString(",")
            }
            out.writeStaticString("\"createdAt\":\"")
            out.writeRFC3339(a.createdAt)
            out.writeStaticString("\",\"endsAt\":\"")
            out.writeRFC3339(a.endsAt)
            out.writeStaticString("\",\"id\":\"")
            out.writeLowercasedUUID(a.id)
            out.writeStaticString("\",\"kind\":")
            JSONText.string(a.kind.rawValue, into: &out)
            out.writeStaticString(",\"patientId\":\"")
            out.writeLowercasedUUID(a.patientID)
            out.writeStaticString("\",")
            if let reason = a.reason {
                out.writeStaticString("\"reason\":")
                JSONText.string(reason, into: &out)
                out.writeStaticString(",")
            }
            out.writeStaticString("\"startsAt\":\"")
            out.writeRFC3339(a.startsAt)
            out.writeStaticString("\",\"status\":")
            JSONText.string(a.status.rawValue, into: &out)
            out.writeStaticString(",\"tenantId\":\"")
            out.writeLowercasedUUID(a.tenantID)
            out.writeStaticString("\",\"therapistId\":\"")
            out.writeLowercasedUUID(a.therapistID)
            out.writeStaticString("\",\"timeZone\":")
            JSONText.string(a.timeZone, into: &out)
            out.writeStaticString(",\"updatedAt\":\"")
            out.writeRFC3339(a.updatedAt)
            out.writeStaticString("\"}")
        }
        out.writeStaticString("],\"nextCursor\":")
        if let nextCursor {
            JSONText.string(nextCursor, into: &out)
        } else {
            out.writeStaticString("null")
        }
        out.writeStaticString("}")
        return out
    }
}

/// JSON string literals as Foundation's `JSONEncoder` writes them with `.withoutEscapingSlashes`.
enum JSONText {
    static func string(_ value: String, into out: inout ByteBuffer) {
        out.writeStaticString("\"")
        // Most values need no escaping at all: write them in one piece.
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.writeString(value)
            out.writeStaticString("\"")
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.writeStaticString("\\\"")
            case UInt8(ascii: "\\"): out.writeStaticString("\\\\")
            case 0x08: out.writeStaticString("\\b")
            case 0x0C: out.writeStaticString("\\f")
            case 0x0A: out.writeStaticString("\\n")
            case 0x0D: out.writeStaticString("\\r")
            case 0x09: out.writeStaticString("\\t")
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.writeStaticString("\\u00")
                out.writeInteger(hex[Int(byte >> 4)])
                out.writeInteger(hex[Int(byte & 0x0F)])
            default: out.writeInteger(byte)
            }
        }
        out.writeStaticString("\"")
    }
}

extension ByteBuffer {
    /// Writes `date` as ``RFC3339/format(_:)`` does, without making a string (four dates per list row).
    mutating func writeRFC3339(_ date: Date) {
        writeWithUnsafeMutableBytes(minimumWritableBytes: RFC3339.length) { RFC3339.write(date, into: $0) }
    }

    /// Writes `id` in its canonical lower-case text form (``UUID/lowercasedString``) without making a string
    /// (four ids per list row).
    mutating func writeLowercasedUUID(_ id: UUID) {
        writeWithUnsafeMutableBytes(minimumWritableBytes: 36) { out in
            id.writeLowercased(into: out)
            return 36
        }
    }
}
