import Foundation

/// Which patients a caller may see; lists are filtered by this in the query itself,
/// so invisible records never leave the database.
public enum PatientScope: Sendable, Equatable {
    /// Every patient of the tenant (admins).
    case tenant(UUID)
    /// Patients assigned to this therapist.
    case assignedTo(tenantID: UUID, therapistID: UUID)
    /// The patient record linked to this portal user.
    case portalUser(tenantID: UUID, userID: UUID)
}

/// Which appointments a caller may see.
public enum AppointmentScope: Sendable, Equatable {
    case tenant(UUID)
    /// Appointments where this therapist is the therapist, or the patient is assigned to them.
    case therapist(tenantID: UUID, therapistID: UUID)
    /// Appointments of the patient linked to this portal user.
    case portalUser(tenantID: UUID, userID: UUID)
}

/// Which notes a caller may see, and how much of them.
public enum NoteScope: Sendable, Equatable {
    /// Metadata of every note of the tenant; never content (admins).
    case tenantMetadata(UUID)
    /// Notes of patients assigned to this therapist, with content; drafts only when this therapist wrote them.
    case assignedTo(tenantID: UUID, therapistID: UUID)
    /// Signed notes of the patient linked to this portal user, with content.
    case portalUserSigned(tenantID: UUID, userID: UUID)
}

/// Which providers a caller may see.
public enum ProviderScope: Sendable, Equatable {
    case tenant(UUID)
    /// Only the therapist assigned to this portal user's patient record.
    case assignedToPortalUser(tenantID: UUID, userID: UUID)
}

/// How much of a note the caller may read.
public enum NoteVisibility: Sendable, Equatable {
    case metadataOnly
    case full
}
