import Crypto
import Foundation

/// One audit event as stored, with its chain fields. Contains no PHI values: only identifiers,
/// and for writes the names (never values) of changed fields.
public struct AuditRecord: Sendable, Hashable, Codable {
    /// Position in the tenant's chain, starting at 1, without gaps.
    public var sequence: UInt64
    /// Tenant the chain belongs to.
    public var tenantID: String
    /// Acting user id (or a service/system id).
    public var actorID: String
    /// Role of the actor at the time of the event.
    public var actorRole: String
    /// Action, e.g. `patient.read`.
    public var action: String
    /// Resource type, e.g. `patient`.
    public var resourceType: String
    /// Resource id, when there is one.
    public var resourceID: String?
    /// Patient concerned, when there is one.
    public var patientID: String?
    /// Outcome: `allowed`, `denied`, `not_found` or `error`.
    public var outcome: String
    /// Request correlation id.
    public var requestID: String
    /// Client IP address, when known.
    public var clientIP: String?
    /// Client user agent, when known.
    public var userAgent: String?
    /// UTC time in milliseconds since 1970.
    public var timeMillis: Int64
    /// Names of changed fields (writes only), never their values.
    public var changedFields: [String]
    /// Extra non-PHI detail, e.g. the id of a break-glass grant.
    public var detail: String?
    /// Patients whose records a list or search returned (lower-case ids, sorted).
    public var patientIDs: [String]
    /// Hash of the previous record (``AuditChain/genesisHash`` for the first).
    public var prevHash: Data
    /// `SHA-256(canonicalEncoding() || prevHash)`.
    public var hash: Data
    /// `HMAC-SHA256(auditKey, hash)`.
    public var mac: Data

    /// Creates a record; the chain fields are normally filled by ``AuditChain/seal(_:previousSequence:previousHash:key:)``.
    public init(
        sequence: UInt64 = 0, tenantID: String, actorID: String, actorRole: String, action: String,
        resourceType: String, resourceID: String? = nil, patientID: String? = nil, outcome: String,
        requestID: String, clientIP: String? = nil, userAgent: String? = nil, timeMillis: Int64,
        changedFields: [String] = [], detail: String? = nil, patientIDs: [String] = [], prevHash: Data = Data(), hash: Data = Data(),
        mac: Data = Data()
    ) {
        self.sequence = sequence
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
        self.timeMillis = timeMillis
        self.changedFields = changedFields
        self.detail = detail
        self.patientIDs = patientIDs
        self.prevHash = prevHash
        self.hash = hash
        self.mac = mac
    }

    /// Injective, length-prefixed encoding of every event field (not the chain fields).
    /// Optional fields carry a presence byte; lists a count, so no two distinct events encode alike. Events
    /// without `patientIDs` keep the original `ehr-audit-v1` form (so chains written before the field verify);
    /// events with them are `ehr-audit-v2`, which appends the list.
    public func canonicalEncoding() -> Data {
        var w = CanonicalWriter(domain: patientIDs.isEmpty ? "ehr-audit-v1" : "ehr-audit-v2")
        w.u64(sequence)
        w.string(tenantID)
        w.string(actorID)
        w.string(actorRole)
        w.string(action)
        w.string(resourceType)
        w.optionalString(resourceID)
        w.optionalString(patientID)
        w.string(outcome)
        w.string(requestID)
        w.optionalString(clientIP)
        w.optionalString(userAgent)
        w.i64(timeMillis)
        w.strings(changedFields)
        w.optionalString(detail)
        if !patientIDs.isEmpty { w.strings(patientIDs) }
        return w.bytes
    }

    /// Hash this record should carry given its fields and ``prevHash``.
    public func computedHash() -> Data {
        var hasher = SHA256()
        hasher.update(data: canonicalEncoding())
        hasher.update(data: prevHash)
        return Data(hasher.finalize())
    }
}
