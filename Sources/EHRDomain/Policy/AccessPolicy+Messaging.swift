import Foundation

extension AccessPolicy {
    /// Only the patient's own portal account and the therapist the patient is assigned to now read and write
    /// the patient's thread. Admins never read message bodies; another therapist of the practice has no way in
    /// (messages are not notes: there is no break-glass on them).
    public static func canMessage(_ p: Principal, patient: Patient) -> Bool {
        guard p.tenantID == patient.tenantID else { return false }
        switch p.role {
        case .admin: return false
        case .therapist: return patient.assignedTherapistID == p.userID
        case .client: return patient.userID == p.userID
        }
    }

    /// The threads a caller's list holds: the threads of the patients they may message.
    public static func threadScope(_ p: Principal) -> ThreadScope? {
        switch p.role {
        case .admin: return nil
        case .therapist: return .assignedTo(tenantID: p.tenantID, therapistID: p.userID)
        case .client: return .portalUser(tenantID: p.tenantID, userID: p.userID)
        }
    }
}

/// Which threads a caller's list holds.
public enum ThreadScope: Sendable, Equatable {
    /// Threads of the patients assigned to this therapist.
    case assignedTo(tenantID: UUID, therapistID: UUID)
    /// The thread of the patient linked to this portal user.
    case portalUser(tenantID: UUID, userID: UUID)

    public var tenantID: UUID {
        switch self {
        case .assignedTo(let tenantID, _), .portalUser(let tenantID, _): return tenantID
        }
    }
}
