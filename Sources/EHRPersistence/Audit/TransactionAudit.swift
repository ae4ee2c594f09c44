import EHRDomain
import Foundation

/// The audit event of the request being served, committed by the repositories in the same transaction
/// as the change it describes (so no change can exist without its event).
public protocol PendingAuditEvent: AnyObject, Sendable {
    /// The event to write with the current change, or nil when it was already written by an earlier change.
    func draftForCommit() -> AuditEventDraft?
    /// Called once the transaction that held the event has committed.
    func didCommit()
}

/// Where the repositories find the current request's pending audit event.
public enum TransactionAudit {
    @TaskLocal public static var current: (any PendingAuditEvent)?
}
