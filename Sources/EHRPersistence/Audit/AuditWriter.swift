import EHRDomain
import Foundation
import Metrics

/// Group commit for audit events of reads: events of concurrent requests are written together, one
/// transaction and one multi-row INSERT per flush, and each caller resumes only once the flush holding its
/// event has committed. A flush starts as soon as the previous one ends, so an idle service adds one
/// round of latency and a busy one amortises the commit over every waiting request.
public actor AuditWriter {
    let database: EHRDatabase
    let log: AuditLog
    private var pending: [(draft: AuditEventDraft, done: CheckedContinuation<Void, any Error>)] = []
    private var flushing = false
    /// Events written and flushes done since start (for the bench and metrics).
    public private(set) var eventsWritten = 0
    public private(set) var flushes = 0

    public init(database: EHRDatabase, log: AuditLog) {
        self.database = database
        self.log = log
    }

    /// Returns once `draft` is committed; throws when its flush failed (the caller must not answer with the data).
    public func record(_ draft: AuditEventDraft) async throws {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            pending.append((draft, done))
            if !flushing {
                flushing = true
                Task { await self.flushUntilEmpty() }
            }
        }
    }

    private func flushUntilEmpty() async {
        while !pending.isEmpty {
            let batch = pending.prefix(AuditLog.maximumBatch)
            pending.removeFirst(batch.count)
            let drafts = batch.map(\.draft)
            let start = ContinuousClock.now
            do {
                // One flush seals events of several practices: the writer's named path (see SystemAccess).
                try await DatabaseScope.system(.auditWriter) {
                    try await database.transaction { [log] db in try await log.append(drafts, on: db) }
                }
                eventsWritten += drafts.count
                flushes += 1
                let (seconds, attoseconds) = (ContinuousClock.now - start).components
                Metrics.Timer(label: "ehr_audit_flush_duration_seconds").recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
                Recorder(label: "ehr_audit_batch_size", aggregate: true).record(drafts.count)
                for item in batch { item.done.resume() }
            } catch {
                Counter(label: "ehr_audit_flush_failures_total").increment()
                for item in batch { item.done.resume(throwing: error) }
            }
        }
        flushing = false
    }
}
