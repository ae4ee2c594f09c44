import Foundation

/// A clinical note about one patient, written by a therapist. Signed notes are immutable;
/// corrections are appended as ``NoteAddendum``s.
public struct ClinicalNote: Sendable, Hashable {
    public var id: UUID
    public var tenantID: UUID
    public var patientID: UUID
    public var authorID: UUID
    public var appointmentID: UUID?
    public var type: NoteType
    public var sections: [String: String]
    public var status: NoteStatus
    public var signedAt: Date?
    public var signedBy: UUID?
    public var contentHash: String?
    public var voidedAt: Date?
    public var voidReason: String?
    public var addenda: [NoteAddendum]
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: UUID = UUID(), tenantID: UUID, patientID: UUID, authorID: UUID, appointmentID: UUID? = nil,
        type: NoteType, sections: [String: String], status: NoteStatus = .draft, signedAt: Date? = nil,
        signedBy: UUID? = nil, contentHash: String? = nil, voidedAt: Date? = nil, voidReason: String? = nil,
        addenda: [NoteAddendum] = [], createdAt: Date = Date(), updatedAt: Date = Date()
    ) {
        self.id = id
        self.tenantID = tenantID
        self.patientID = patientID
        self.authorID = authorID
        self.appointmentID = appointmentID
        self.type = type
        self.sections = sections
        self.status = status
        self.signedAt = signedAt
        self.signedBy = signedBy
        self.contentHash = contentHash
        self.voidedAt = voidedAt
        self.voidReason = voidReason
        self.addenda = addenda
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Text appended to a signed note; signed by its author when written.
public struct NoteAddendum: Sendable, Hashable {
    public var id: UUID
    public var tenantID: UUID
    public var noteID: UUID
    public var authorID: UUID
    public var text: String
    public var signedAt: Date
    public var contentHash: String

    public init(id: UUID = UUID(), tenantID: UUID, noteID: UUID, authorID: UUID, text: String, signedAt: Date, contentHash: String) {
        self.id = id
        self.tenantID = tenantID
        self.noteID = noteID
        self.authorID = authorID
        self.text = text
        self.signedAt = signedAt
        self.contentHash = contentHash
    }
}
