import Foundation

/// Every access rule of the service, in one place, as pure functions of the caller and the record.
///
/// Two questions are kept apart on purpose:
/// - *may the caller see it?* (`canView…`, the scopes): a "no" becomes 404, indistinguishable from a record that does not exist;
/// - *may the caller do this to a record they can see?* (`canUpdate…`, `canSign…`): a "no" becomes 403.
/// Every function first requires the record to be in the caller's tenant.
public enum AccessPolicy {

    // MARK: Users

    /// Only admins manage user accounts, and only within their tenant.
    public static func canManageUsers(_ p: Principal) -> Bool { p.role == .admin }

    public static func canViewUser(_ p: Principal, _ user: User) -> Bool {
        p.tenantID == user.tenantID && p.role == .admin
    }

    // MARK: Providers

    public static func providerScope(_ p: Principal) -> ProviderScope {
        switch p.role {
        case .admin, .therapist: return .tenant(p.tenantID)
        case .client: return .assignedToPortalUser(tenantID: p.tenantID, userID: p.userID)
        }
    }

    /// - Parameter clientsTherapistID: for a client caller, the therapist assigned to their patient record.
    public static func canViewProvider(_ p: Principal, _ provider: Provider, clientsTherapistID: UUID?) -> Bool {
        guard p.tenantID == provider.tenantID else { return false }
        switch p.role {
        case .admin, .therapist: return true
        case .client: return clientsTherapistID == provider.id
        }
    }

    public static func canCreateProvider(_ p: Principal) -> Bool { p.role == .admin }

    /// Admins, and therapists for their own profile.
    public static func canUpdateProvider(_ p: Principal, _ provider: Provider) -> Bool {
        guard p.tenantID == provider.tenantID else { return false }
        return p.role == .admin || (p.role == .therapist && p.userID == provider.id)
    }

    public static func canDeleteProvider(_ p: Principal, _ provider: Provider) -> Bool {
        p.tenantID == provider.tenantID && p.role == .admin
    }

    // MARK: Patients

    public static func patientScope(_ p: Principal) -> PatientScope {
        switch p.role {
        case .admin: return .tenant(p.tenantID)
        case .therapist: return .assignedTo(tenantID: p.tenantID, therapistID: p.userID)
        case .client: return .portalUser(tenantID: p.tenantID, userID: p.userID)
        }
    }

    public static func canViewPatient(_ p: Principal, _ patient: Patient) -> Bool {
        canViewPatient(p, patient.reference)
    }

    /// The same decision, from what it needs of the patient.
    public static func canViewPatient(_ p: Principal, _ patient: PatientReference) -> Bool {
        guard p.tenantID == patient.tenantID else { return false }
        switch p.role {
        case .admin: return true
        case .therapist: return patient.assignedTherapistID == p.userID
        case .client: return patient.userID == p.userID
        }
    }

    public static func canCreatePatient(_ p: Principal) -> Bool { p.role == .admin }

    public static func canUpdatePatient(_ p: Principal, _ patient: Patient) -> Bool {
        p.tenantID == patient.tenantID && p.role == .admin
    }

    public static func canDischargePatient(_ p: Principal, _ patient: Patient) -> Bool {
        canUpdatePatient(p, patient)
    }

    // MARK: Appointments

    public static func appointmentScope(_ p: Principal) -> AppointmentScope {
        switch p.role {
        case .admin: return .tenant(p.tenantID)
        case .therapist: return .therapist(tenantID: p.tenantID, therapistID: p.userID)
        case .client: return .portalUser(tenantID: p.tenantID, userID: p.userID)
        }
    }

    public static func canViewAppointment(_ p: Principal, _ appointment: Appointment, patient: Patient) -> Bool {
        guard p.tenantID == appointment.tenantID, patient.id == appointment.patientID, patient.tenantID == p.tenantID
        else { return false }
        switch p.role {
        case .admin: return true
        case .therapist: return appointment.therapistID == p.userID || patient.assignedTherapistID == p.userID
        case .client: return patient.userID == p.userID
        }
    }

    /// Admins book any therapist; a therapist books only themself with a patient assigned to them.
    public static func canCreateAppointment(_ p: Principal, patient: Patient, therapistID: UUID) -> Bool {
        guard p.tenantID == patient.tenantID else { return false }
        switch p.role {
        case .admin: return true
        case .therapist: return therapistID == p.userID && patient.assignedTherapistID == p.userID
        case .client: return false
        }
    }

    /// Admins, and the appointment's own therapist.
    public static func canUpdateAppointment(_ p: Principal, _ appointment: Appointment) -> Bool {
        guard p.tenantID == appointment.tenantID else { return false }
        switch p.role {
        case .admin: return true
        case .therapist: return appointment.therapistID == p.userID
        case .client: return false
        }
    }

    /// Only the appointment's therapist and the appointment's own client join its televisit.
    public static func canStartTelevisit(_ p: Principal, _ appointment: Appointment, patient: Patient) -> Bool {
        guard p.tenantID == appointment.tenantID, patient.id == appointment.patientID, patient.tenantID == p.tenantID else { return false }
        switch p.role {
        case .admin: return false
        case .therapist: return appointment.therapistID == p.userID
        case .client: return patient.userID == p.userID
        }
    }

    // MARK: Notes

    public static func noteScope(_ p: Principal) -> NoteScope {
        switch p.role {
        case .admin: return .tenantMetadata(p.tenantID)
        case .therapist: return .assignedTo(tenantID: p.tenantID, therapistID: p.userID)
        case .client: return .portalUserSigned(tenantID: p.tenantID, userID: p.userID)
        }
    }

    /// How much of the note the caller may read, or nil when they may not see it at all.
    /// A draft is its author's alone until signed: not even the patient's (newly) assigned therapist reads it.
    /// Admins see every note's metadata (an unsigned-notes report needs it), never content.
    public static func noteVisibility(_ p: Principal, _ note: ClinicalNote, patient: Patient) -> NoteVisibility? {
        guard p.tenantID == note.tenantID, patient.id == note.patientID, patient.tenantID == p.tenantID else { return nil }
        switch p.role {
        case .admin: return .metadataOnly
        case .therapist:
            guard patient.assignedTherapistID == p.userID else { return nil }
            return note.status != .draft || note.authorID == p.userID ? .full : nil
        case .client: return (patient.userID == p.userID && note.status == .signed) ? .full : nil
        }
    }

    /// The audit log, patients' access logs and chain verification are for the practice's admins.
    public static func canReadAudit(_ p: Principal) -> Bool { p.role == .admin }

    /// Break-glass: an admin, or a therapist of the practice who is not the patient's assigned therapist, may
    /// be granted a signed (or voided) note's content for a limited time, with a stated reason that is audited.
    /// Drafts stay private to their author; clients never break glass.
    public static func canBreakGlass(_ p: Principal, _ note: ClinicalNote, patient: Patient) -> Bool {
        guard p.tenantID == note.tenantID, patient.id == note.patientID, patient.tenantID == p.tenantID, note.status != .draft else { return false }
        switch p.role {
        case .admin: return true
        case .therapist: return patient.assignedTherapistID != p.userID
        case .client: return false
        }
    }

    /// Only the therapist assigned to the patient writes notes about them. On PostgreSQL the note's INSERT asks the
    /// same of the patient's row (`InsertNoteIfWritable`), so a change to this rule changes that statement too
    /// (`NoteCreationChecksTests` holds the two to the same answers).
    public static func canCreateNote(_ p: Principal, patient: Patient) -> Bool {
        canCreateNote(p, patient: patient.reference)
    }

    /// The same decision, from what it needs of the patient.
    public static func canCreateNote(_ p: Principal, patient: PatientReference) -> Bool {
        p.tenantID == patient.tenantID && p.role == .therapist && patient.assignedTherapistID == p.userID
    }

    /// The author, while still the assigned therapist. Whether the note is still a draft is a workflow question (409), asked separately.
    public static func canEditNote(_ p: Principal, _ note: ClinicalNote, patient: Patient) -> Bool {
        canCreateNote(p, patient: patient) && note.patientID == patient.id && note.authorID == p.userID && note.tenantID == p.tenantID
    }

    /// Therapists sign only their own notes.
    public static func canSignNote(_ p: Principal, _ note: ClinicalNote, patient: Patient) -> Bool {
        canEditNote(p, note, patient: patient)
    }

    public static func canVoidNote(_ p: Principal, _ note: ClinicalNote, patient: Patient) -> Bool {
        canEditNote(p, note, patient: patient)
    }

    /// The patient's assigned therapist (the author, or whoever took over the patient) may append an addendum.
    public static func canAddAddendum(_ p: Principal, _ note: ClinicalNote, patient: Patient) -> Bool {
        guard p.tenantID == note.tenantID, p.role == .therapist, patient.id == note.patientID, patient.tenantID == p.tenantID else { return false }
        return patient.assignedTherapistID == p.userID
    }
}
