import EHRAPI
import EHRDomain
import Foundation

// Storage/domain values to wire shapes, one direction each. Wire ids are lower-case UUID strings.

extension UUID {
    var wire: String { lowercasedString }
}

extension Components.Schemas.Role {
    init(_ role: Role) { self = Self(rawValue: role.rawValue)! }
}

extension Components.Schemas.User {
    init(_ user: User) {
        self.init(
            id: user.id.wire, tenantId: user.tenantID.wire, email: user.email, displayName: user.displayName,
            role: .init(user.role), active: user.active, createdAt: user.createdAt, updatedAt: user.updatedAt)
    }
}

extension Components.Schemas.AuthUser {
    init(_ user: User, patientID: UUID?) {
        self.init(
            id: user.id.wire, tenantId: user.tenantID.wire, role: .init(user.role), email: user.email,
            displayName: user.displayName, patientId: patientID?.wire)
    }
}

extension Components.Schemas.Provider {
    init(_ provider: Provider) {
        self.init(
            id: provider.id.wire, tenantId: provider.tenantID.wire, email: provider.user.email, displayName: provider.user.displayName,
            active: provider.user.active, licenseNumber: provider.licenseNumber, licenseState: provider.licenseState,
            credentials: provider.credentials, specialties: provider.specialties, createdAt: provider.user.createdAt,
            updatedAt: provider.updatedAt)
    }
}

extension Components.Schemas.Address {
    init(_ a: Address) {
        self.init(line1: a.line1, line2: a.line2, city: a.city, state: a.state, postalCode: a.postalCode)
    }
}

extension Components.Schemas.EmergencyContact {
    init(_ c: EmergencyContact) {
        self.init(name: c.name, phone: c.phone, relationship: c.relationship)
    }
}

extension Components.Schemas.Patient {
    init(_ p: Patient) {
        self.init(
            id: p.id.wire, tenantId: p.tenantID.wire, firstName: p.firstName, lastName: p.lastName, dateOfBirth: p.dateOfBirth.description,
            email: p.email, phone: p.phone, address: p.address.map(Components.Schemas.Address.init),
            emergencyContact: p.emergencyContact.map(Components.Schemas.EmergencyContact.init), assignedTherapistId: p.assignedTherapistID.wire,
            userId: p.userID?.wire, status: .init(rawValue: p.status.rawValue)!, dischargedAt: p.dischargedAt,
            dischargeReason: p.dischargeReason, createdAt: p.createdAt, updatedAt: p.updatedAt)
    }
}

extension Components.Schemas.Appointment {
    init(_ a: Appointment) {
        self.init(
            id: a.id.wire, tenantId: a.tenantID.wire, patientId: a.patientID.wire, therapistId: a.therapistID.wire, startsAt: a.startsAt,
            endsAt: a.endsAt, timeZone: a.timeZone, status: .init(rawValue: a.status.rawValue)!, kind: .init(rawValue: a.kind.rawValue)!,
            reason: a.reason, cancellationReason: a.cancellationReason, createdAt: a.createdAt, updatedAt: a.updatedAt)
    }
}

extension Components.Schemas.Note {
    /// With `.metadataOnly` (admins) the sections and addendum texts are left out entirely.
    init(_ n: ClinicalNote, visibility: NoteVisibility) {
        let full = visibility == .full
        self.init(
            id: n.id.wire, tenantId: n.tenantID.wire, patientId: n.patientID.wire, appointmentId: n.appointmentID?.wire, authorId: n.authorID.wire,
            _type: .init(rawValue: n.type.rawValue)!, sections: full ? .init(additionalProperties: n.sections) : nil,
            status: .init(rawValue: n.status.rawValue)!, signedAt: n.signedAt, signedBy: n.signedBy?.wire, contentHash: n.contentHash,
            voidedAt: n.voidedAt, voidReason: full ? n.voidReason : nil,
            addenda: n.addenda.map {
                .init(
                    id: $0.id.wire, noteId: $0.noteID.wire, authorId: $0.authorID.wire, text: full ? $0.text : nil,
                    signedAt: $0.signedAt, contentHash: $0.contentHash)
            },
            createdAt: n.createdAt, updatedAt: n.updatedAt)
    }
}

extension Components.Schemas.Thread {
    init(_ summary: ThreadSummary) {
        self.init(
            id: summary.thread.id.wire, patientId: summary.thread.patientID.wire, participants: summary.participants.map(\.wire),
            createdAt: summary.thread.createdAt, lastMessageAt: summary.thread.lastMessageAt, unreadCount: summary.unreadCount)
    }
}

extension Components.Schemas.Message {
    init(_ message: Message, readAt: Date? = nil) {
        self.init(
            id: message.id.wire, threadId: message.threadID.wire, senderId: message.senderID.wire, body: message.body, sentAt: message.sentAt,
            readAt: readAt)
    }
}
