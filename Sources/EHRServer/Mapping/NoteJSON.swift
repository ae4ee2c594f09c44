import EHRAPI
import EHRWire
import Foundation
import NIOCore

/// A note's JSON written straight into a buffer: byte for byte what the generated `Components.Schemas.Note` gives
/// through the server's `JSONEncoder` (keys in byte order, `voidReason` before `voidedAt`, slashes not escaped,
/// absent optionals left out, dates as ``RFC3339``). Foundation's encoder was about 3% of the server's CPU per new note
/// (`bench/profile notes`). `NoteJSONTests` holds the two together on real notes and awkward text.
enum NoteJSON {
    /// The note's JSON, or nil when a section key is anything but lower-case ASCII letters (the keys of every note
    /// type): those sort alike however strings are compared, and any other key is left to the generated encoder.
    static func encode(_ note: Components.Schemas.Note) -> ByteBuffer? {
        let sections = note.sections.map { $0.additionalProperties.sorted { $0.key < $1.key } }
        if let sections, !sections.allSatisfy({ isPlainKey($0.key) }) { return nil }
        var out = ByteBuffer()
        out.reserveCapacity(640 + (sections ?? []).reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count + 8 })
        out.writeStaticString("{\"addenda\":[")
        for (index, addendum) in note.addenda.enumerated() {
            if index > 0 { out.writeStaticString(",") }
            out.writeStaticString("{\"authorId\":")
            JSONText.string(addendum.authorId, into: &out)
            out.writeStaticString(",\"contentHash\":")
            JSONText.string(addendum.contentHash, into: &out)
            out.writeStaticString(",\"id\":")
            JSONText.string(addendum.id, into: &out)
            out.writeStaticString(",\"noteId\":")
            JSONText.string(addendum.noteId, into: &out)
            out.writeStaticString(",\"signedAt\":")
            date(addendum.signedAt, into: &out)
            if let text = addendum.text {
                out.writeStaticString(",\"text\":")
                JSONText.string(text, into: &out)
            }
            out.writeStaticString("}")
        }
        out.writeStaticString("]")
        member("appointmentId", note.appointmentId, into: &out)
        member("authorId", note.authorId, into: &out)
        member("contentHash", note.contentHash, into: &out)
        out.writeStaticString(",\"createdAt\":")
        date(note.createdAt, into: &out)
        member("id", note.id, into: &out)
        member("patientId", note.patientId, into: &out)
        if let sections {
            out.writeStaticString(",\"sections\":{")
            for (index, section) in sections.enumerated() {
                if index > 0 { out.writeStaticString(",") }
                JSONText.string(section.key, into: &out)
                out.writeStaticString(":")
                JSONText.string(section.value, into: &out)
            }
            out.writeStaticString("}")
        }
        if let signedAt = note.signedAt {
            out.writeStaticString(",\"signedAt\":")
            date(signedAt, into: &out)
        }
        member("signedBy", note.signedBy, into: &out)
        member("status", note.status.rawValue, into: &out)
        member("tenantId", note.tenantId, into: &out)
        member("type", note._type.rawValue, into: &out)
        out.writeStaticString(",\"updatedAt\":")
        date(note.updatedAt, into: &out)
        member("voidReason", note.voidReason, into: &out)
        if let voidedAt = note.voidedAt {
            out.writeStaticString(",\"voidedAt\":")
            date(voidedAt, into: &out)
        }
        out.writeStaticString("}")
        return out
    }

    /// `,"name":"value"`, or nothing for nil. Names are the schema's own (plain ASCII).
    private static func member(_ name: StaticString, _ value: String?, into out: inout ByteBuffer) {
        guard let value else { return }
        out.writeStaticString(",\"")
        out.writeStaticString(name)
        out.writeStaticString("\":")
        JSONText.string(value, into: &out)
    }

    private static func date(_ date: Date, into out: inout ByteBuffer) {
        out.writeStaticString("\"")
        out.writeRFC3339(date)
        out.writeStaticString("\"")
    }

    private static func isPlainKey(_ key: String) -> Bool {
        !key.isEmpty && key.utf8.allSatisfy { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) }
    }
}
