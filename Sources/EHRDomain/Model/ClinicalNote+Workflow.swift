import Foundation

/// The note's state changes. Each checks the workflow (a draft can change; a signed note only gains addenda)
/// and sets every field the change implies, so no front end sets them by hand.
extension ClinicalNote {
    /// Refuses any change but an addendum once the note left draft (409 naming what was tried).
    public func requireDraft(to action: String) throws(DomainError) {
        guard status == .draft else {
            let hint = status == .signed ? " Signed notes are locked; add an addendum instead." : ""
            throw DomainError.conflict("This note is \(status.rawValue) and cannot be \(action).\(hint)")
        }
    }

    /// Changes the draft's type, sections or appointment; validates the sections against the type.
    public mutating func revise(type: NoteType?, sections: [String: String]?, appointmentID: UUID?, at now: Date) throws(DomainError) {
        try requireDraft(to: "changed")
        if let type { self.type = type }
        if let sections { self.sections = sections }
        if let appointmentID { self.appointmentID = appointmentID }
        let problems = NoteRules.problems(type: self.type, sections: self.sections)
        if !problems.isEmpty { throw DomainError.validation(problems) }
        updatedAt = now
    }

    /// Signs the draft: status, signer, time and the content hash that locks it.
    public mutating func sign(by signer: UUID, at now: Date) throws(DomainError) {
        try requireDraft(to: "signed")
        contentHash = NoteRules.contentHash(of: self, signedBy: signer, signedAt: now)
        status = .signed
        signedAt = now
        signedBy = signer
        updatedAt = now
    }

    /// Voids the draft with a reason.
    public mutating func void(reason: String, at now: Date) throws(DomainError) {
        try requireDraft(to: "voided")
        status = .voided
        voidedAt = now
        voidReason = reason
        updatedAt = now
    }

    /// A signed addendum to this signed note, chained to the previous addendum (or the note) so none can be
    /// dropped unnoticed. Appends it to `addenda`.
    public mutating func appendAddendum(by author: UUID, text: String, at now: Date, id: UUID = UUID()) throws(DomainError) -> NoteAddendum {
        guard status == .signed, let noteHash = contentHash else {
            throw DomainError.conflict("addenda are appended to signed notes; this note is \(status.rawValue)")
        }
        let previous = addenda.last?.contentHash ?? noteHash
        let addendum = NoteAddendum(
            id: id, tenantID: tenantID, noteID: self.id, authorID: author, text: text, signedAt: now,
            contentHash: NoteRules.addendumHash(noteHash: previous, addendumID: id, authorID: author, text: text, signedAt: now))
        addenda.append(addendum)
        return addendum
    }
}
