import EHRAPI

/// A new note's body read directly, for the busiest write: Foundation's `JSONDecoder` and the generated check for
/// unknown members were about 3% of the server's CPU per note (`bench/profile notes`). Returns nil, for the
/// generated decoder to handle, unless the body is one JSON object of the request's own members, each named once,
/// `type` one of the note types, every other value a string and `sections` an object of strings with keys named
/// once, every string valid UTF-8 without escapes or control characters (the text is then exactly its bytes).
/// Whitespace between tokens is JSON's. Then the result equals the generated decoding (`HotNoteRouteTests`).
enum CreateNoteBody {
    static func parse(_ bytes: UnsafeRawBufferPointer) -> Components.Schemas.CreateNoteRequest? {
        var reader = Reader(bytes: bytes)
        var patientID: String?
        var appointmentID: String?
        var type: Components.Schemas.NoteType?
        var sections: [String: String]?
        let whole = reader.object { name, reader in
            switch name {
            case "patientId" where patientID == nil:
                patientID = reader.string()
                return patientID != nil
            case "appointmentId" where appointmentID == nil:
                appointmentID = reader.string()
                return appointmentID != nil
            case "type" where type == nil:
                type = reader.string().flatMap(Components.Schemas.NoteType.init(rawValue:))
                return type != nil
            case "sections" where sections == nil:
                var texts: [String: String] = [:]
                let read = reader.object { key, reader in
                    guard texts[key] == nil, let text = reader.string() else { return false }
                    texts[key] = text
                    return true
                }
                sections = texts
                return read
            default:
                return false
            }
        }
        reader.skipWhitespace()
        guard whole, reader.atEnd, let patientID, let type, let sections else { return nil }
        return .init(patientId: patientID, appointmentId: appointmentID, _type: type, sections: .init(additionalProperties: sections))
    }

    /// The plain JSON the direct reading accepts, byte by byte.
    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var at = 0

        var atEnd: Bool { at == bytes.count }

        mutating func skipWhitespace() {
            while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x09 || bytes[at] == 0x0A || bytes[at] == 0x0D { at += 1 }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            skipWhitespace()
            guard at < bytes.count, bytes[at] == byte else { return false }
            at += 1
            return true
        }

        /// `{}` or `{"name": value, ...}`, `member` reading each value (false: not plain).
        mutating func object(_ member: (String, inout Reader) -> Bool) -> Bool {
            guard take(UInt8(ascii: "{")) else { return false }
            if take(UInt8(ascii: "}")) { return true }
            repeat {
                guard let name = string(), take(UInt8(ascii: ":")), member(name, &self) else { return false }
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "}"))
        }

        /// A string without escapes or control characters, valid UTF-8.
        mutating func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = at
            while at < bytes.count {
                let byte = bytes[at]
                if byte == UInt8(ascii: "\"") {
                    let text = String(validating: UnsafeRawBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
                    at += 1
                    return text
                }
                guard byte >= 0x20, byte != UInt8(ascii: "\\") else { return nil }
                at += 1
            }
            return nil
        }
    }
}
