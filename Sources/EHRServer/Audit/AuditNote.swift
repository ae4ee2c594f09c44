import EHRDomain
import EHRPersistence
import Foundation
import NIOConcurrencyHelpers

/// The audit event of one request, filled in as the request proceeds: the middleware knows the route and
/// caller, handlers add the record's patient and the fields a write changed. A repository write commits it
/// with the change (``PendingAuditEvent``); otherwise the middleware sends it to the group-commit writer
/// before the answer goes out. Holds identifiers and field names only.
final class AuditNote: PendingAuditEvent {
    struct State {
        var tenantID: UUID?
        var actorID: String = "anonymous"
        var actorRole: String = "anonymous"
        var route: AuditRoute
        var resourceID: String?
        var patientID: UUID?
        var listedPatients: Set<UUID> = []
        var changedFields: [String] = []
        var detail: String?
        var denied = false
        var committed = false
    }

    let requestID: String
    let clientIP: String?
    let userAgent: String?
    private let state: NIOLockedValueBox<State>

    init(route: AuditRoute, resourceID: String?, requestID: String, clientIP: String?, userAgent: String?) {
        self.requestID = requestID
        self.clientIP = clientIP
        self.userAgent = userAgent
        // Only a well-formed id is recorded: a path segment is caller input and could carry anything.
        let id = resourceID.flatMap(UUID.init(uuidString:))?.lowercasedString
        self.state = NIOLockedValueBox(State(route: route, resourceID: id))
    }

    /// Who acts, once known (from the access token, or from the account a sign-in names).
    func identify(tenantID: UUID, actorID: UUID?, role: String?) {
        state.withLockedValue {
            $0.tenantID = tenantID
            if let actorID { $0.actorID = actorID.lowercasedString }
            if let role { $0.actorRole = role }
        }
    }

    /// The record concerned (for creates, known only once made).
    func resource(_ id: UUID) { state.withLockedValue { $0.resourceID = id.lowercasedString } }
    /// The patient whose record this is.
    func patient(_ id: UUID?) { state.withLockedValue { $0.patientID = id } }
    /// Patients whose records a list or search answers with (they see the read in their access log).
    func listed(patients ids: some Sequence<UUID>) { state.withLockedValue { $0.listedPatients.formUnion(ids) } }
    /// Names of the fields the write sets or changes.
    func changed(_ fields: [String]) { state.withLockedValue { $0.changedFields = fields.sorted() } }
    /// What the event says so far, to put back (``restore(_:)``) when a write it was filled in for did not happen.
    func saved() -> State { state.withLockedValue { $0 } }
    func restore(_ saved: State) { state.withLockedValue { $0 = saved } }
    /// Extra non-PHI detail (a break-glass grant id).
    func detail(_ text: String) { state.withLockedValue { $0.detail = text } }
    /// Records nothing for this request: a sign-in refused by the throttle after the first refusal of its
    /// window (that first refusal's event says the rest are not recorded one by one).
    func suppress() { state.withLockedValue { $0.committed = true } }
    /// Policy refused an existing record: recorded as `denied` although the answer is a plain 404.
    func markDenied() { state.withLockedValue { $0.denied = true } }

    var isDenied: Bool { state.withLockedValue { $0.denied } }

    func draftForCommit() -> AuditEventDraft? {
        state.withLockedValue { s in s.committed ? nil : Self.draft(s, outcome: .allowed, note: self) }
    }

    func didCommit() { state.withLockedValue { $0.committed = true } }

    /// The event for the writer once the answer is known; nil when a write already committed it,
    /// or when no practice is known (an unknown practice slug at sign-in: there is no chain to hold it).
    func finalDraft(outcome: AuditOutcome) -> AuditEventDraft? {
        state.withLockedValue { s in s.committed ? nil : Self.draft(s, outcome: outcome, note: self) }
    }

    private static func draft(_ s: State, outcome: AuditOutcome, note: AuditNote) -> AuditEventDraft? {
        guard let tenantID = s.tenantID else { return nil }
        return AuditEventDraft(
            tenantID: tenantID, actorID: s.actorID, actorRole: s.actorRole, action: s.route.action, resourceType: s.route.resourceType,
            resourceID: s.resourceID, patientID: s.patientID, outcome: outcome, requestID: note.requestID, clientIP: note.clientIP,
            userAgent: note.userAgent, occurredAt: Date(), changedFields: s.changedFields, detail: s.detail,
            patientIDs: s.listedPatients.map { ($0.lowercasedString, $0) }.sorted { $0.0 < $1.0 }.map(\.1))
    }
}
