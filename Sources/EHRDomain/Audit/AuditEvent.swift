import Foundation

/// How a request that touched protected data ended, as the audit log records it.
public enum AuditOutcome: String, Sendable, Codable, CaseIterable {
    /// The operation was permitted and done.
    case allowed
    /// The record exists in the caller's practice but policy refused the caller (answered 404 all the same).
    case denied
    /// No such record in the caller's practice.
    case notFound = "not_found"
    /// The request failed: invalid input, a conflict, or a server-side failure.
    case error
}

/// One audit event before it is sealed into its tenant's chain. Holds identifiers and field names only:
/// never a name, a note's text, a password or a token.
public struct AuditEventDraft: Sendable, Hashable {
    public var tenantID: UUID
    /// The acting user, or a system actor such as `system:cli` for command-line key operations.
    public var actorID: String
    public var actorRole: String
    /// What was done, e.g. `patient.read`, `note.sign`, `auth.login`.
    public var action: String
    /// The kind of record, e.g. `patient`, `note`, `session`.
    public var resourceType: String
    public var resourceID: String?
    public var patientID: UUID?
    public var outcome: AuditOutcome
    public var requestID: String
    public var clientIP: String?
    public var userAgent: String?
    public var occurredAt: Date
    /// For writes: the names of the fields the request set or changed, never their values.
    public var changedFields: [String]
    /// Extra non-PHI detail (for example the id of a break-glass grant).
    public var detail: String?
    /// For lists and searches: every patient whose records the answer held (a page holds at most 100), sorted.
    public var patientIDs: [UUID]

    public init(
        tenantID: UUID, actorID: String, actorRole: String, action: String, resourceType: String, resourceID: String? = nil,
        patientID: UUID? = nil, outcome: AuditOutcome, requestID: String, clientIP: String? = nil, userAgent: String? = nil,
        occurredAt: Date = Date(), changedFields: [String] = [], detail: String? = nil, patientIDs: [UUID] = []
    ) {
        self.tenantID = tenantID
        self.actorID = actorID
        self.actorRole = actorRole
        self.action = action
        self.resourceType = resourceType
        self.resourceID = resourceID
        self.patientID = patientID
        self.outcome = outcome
        self.requestID = requestID
        self.clientIP = clientIP
        self.userAgent = userAgent
        self.occurredAt = occurredAt
        self.changedFields = changedFields
        self.detail = detail
        self.patientIDs = patientIDs
    }
}

/// A sealed event as read back from the log.
public struct AuditEvent: Sendable, Hashable {
    /// Position in the tenant's chain (1, 2, 3, …).
    public var sequence: Int64
    public var draft: AuditEventDraft

    public init(sequence: Int64, draft: AuditEventDraft) {
        self.sequence = sequence
        self.draft = draft
    }
}

/// Filters of the admin audit list. All conditions must hold.
public struct AuditEventFilter: Sendable, Hashable {
    public var actorID: String?
    public var patientID: UUID?
    public var resourceType: String?
    public var action: String?
    public var outcome: AuditOutcome?
    public var from: Date?
    public var to: Date?

    public init(
        actorID: String? = nil, patientID: UUID? = nil, resourceType: String? = nil, action: String? = nil,
        outcome: AuditOutcome? = nil, from: Date? = nil, to: Date? = nil
    ) {
        self.actorID = actorID
        self.patientID = patientID
        self.resourceType = resourceType
        self.action = action
        self.outcome = outcome
        self.from = from
        self.to = to
    }
}
