import Crypto
import Foundation

/// The structure and integrity rules of clinical notes.
public enum NoteRules {
    /// The longest text a single section or addendum may hold.
    public static let maximumSectionLength = 50_000

    /// The section keys each note type accepts.
    public static func sectionKeys(for type: NoteType) -> [String] {
        switch type {
        case .soap: return ["subjective", "objective", "assessment", "plan"]
        case .dap: return ["data", "assessment", "plan"]
        case .birp: return ["behavior", "intervention", "response", "plan"]
        case .progress, .intake: return ["narrative"]
        }
    }

    /// Field errors for the sections of a note of `type`: unknown keys, over-long text, and an entirely empty note.
    public static func problems(type: NoteType, sections: [String: String]) -> [FieldError] {
        let allowed = Set(sectionKeys(for: type))
        var errors: [FieldError] = []
        for key in sections.keys.sorted() {
            if !allowed.contains(key) {
                errors.append(
                    FieldError("sections.\(key)", "is not a section of a \(type.rawValue) note (allowed: \(sectionKeys(for: type).joined(separator: ", ")))"))
            } else if let value = sections[key], value.count > maximumSectionLength {
                errors.append(FieldError("sections.\(key)", "must be at most \(maximumSectionLength) characters"))
            } else if let value = sections[key], TextRules.hasControlCharacters(value) {
                errors.append(FieldError("sections.\(key)", "must not contain control characters"))
            }
        }
        if errors.isEmpty, sections.values.allSatisfy(TextRules.isBlank) {
            errors.append(FieldError("sections", "at least one section must have text"))
        }
        return errors
    }

    /// SHA-256 (hex) over a canonical, unambiguous encoding of what the signer attests to:
    /// note id, patient, author, type, every section in key order, signer and signing time.
    public static func contentHash(of note: ClinicalNote, signedBy: UUID, signedAt: Date) -> String {
        var fields = [
            "note:" + note.id.lowercasedString,
            "tenant:" + note.tenantID.lowercasedString,
            "patient:" + note.patientID.lowercasedString,
            "author:" + note.authorID.lowercasedString,
            "appointment:" + (note.appointmentID?.lowercasedString ?? "-"),
            "type:" + note.type.rawValue,
        ]
        for key in note.sections.keys.sorted() {
            fields.append("section:" + key)
            fields.append("text:" + (note.sections[key] ?? ""))
        }
        fields.append("signedBy:" + signedBy.lowercasedString)
        fields.append("signedAt:" + String(Int64((signedAt.timeIntervalSince1970 * 1000).rounded())))
        return sha256Hex(lengthPrefixed(fields))
    }

    /// SHA-256 (hex) over an addendum, chained to the hash of the note it amends.
    public static func addendumHash(noteHash: String, addendumID: UUID, authorID: UUID, text: String, signedAt: Date) -> String {
        sha256Hex(
            lengthPrefixed([
                "noteHash:" + noteHash,
                "addendum:" + addendumID.lowercasedString,
                "author:" + authorID.lowercasedString,
                "text:" + text,
                "signedAt:" + String(Int64((signedAt.timeIntervalSince1970 * 1000).rounded())),
            ]))
    }

    /// Checks a signed note and its addenda against the hashes taken when they were signed.
    /// - Returns: what does not match (`"note"` or `"addendum <id>"`), or nil when all match or the note is unsigned.
    public static func integrityFailure(of note: ClinicalNote) -> String? {
        guard let hash = note.contentHash, let signedBy = note.signedBy, let signedAt = note.signedAt else { return nil }
        if contentHash(of: note, signedBy: signedBy, signedAt: signedAt) != hash { return "note" }
        var previous = hash
        for addendum in note.addenda {
            let expected = addendumHash(
                noteHash: previous, addendumID: addendum.id, authorID: addendum.authorID, text: addendum.text,
                signedAt: addendum.signedAt)
            if expected != addendum.contentHash { return "addendum \(addendum.id.lowercasedString)" }
            previous = addendum.contentHash
        }
        return nil
    }

    // Length prefixes make the encoding injective: no two field lists encode alike.
    private static func lengthPrefixed(_ fields: [String]) -> Data {
        var data = Data()
        for field in fields {
            let bytes = Array(field.utf8)
            data.append(contentsOf: String(bytes.count).utf8)
            data.append(UInt8(ascii: ":"))
            data.append(contentsOf: bytes)
        }
        return data
    }

    private static func sha256Hex(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
