import EHRDomain
import Foundation
import Metrics

/// Group commit for audit events of reads: events of concurrent requests are written together, one statement
/// per flush, and each caller resumes only once the flush holding its event has committed. An idle service
/// adds one round of latency and a busy one amortises the commit over every waiting request. On PostgreSQL a
/// flush is one INSERT into the inbox (no chain lock; the server's sealer seals later), and two may be under way at
/// once: after a database restart the audited reads must not queue behind a flush stuck on a dead checkout
/// (`scripts/crash-test` measured 13 s to the first audited read with one, 0.13 s with two). SQLite has one
/// writer, seals in the flush, and flushes one at a time.
public actor AuditWriter {
    let database: EHRDatabase
    let log: AuditLog
    private var pending: [(draft: AuditEventDraft, done: CheckedContinuation<Void, any Error>)] = []
    private var flushing = 0
    /// Flushes under way at once (see above).
    private let concurrentFlushes: Int
    /// Events written and flushes done since start (for the bench and metrics).
    public private(set) var eventsWritten = 0
    public private(set) var flushes = 0

    public init(database: EHRDatabase, log: AuditLog) {
        self.database = database
        self.log = log
        self.concurrentFlushes = database.dialect == .postgres ? 2 : 1
    }

    /// Returns once `draft` is committed; throws when its flush failed (the caller must not answer with the data).
    public func record(_ draft: AuditEventDraft) async throws {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            pending.append((draft, done))
            if flushing < concurrentFlushes {
                flushing += 1
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
                try await write(drafts)
                eventsWritten += drafts.count
                flushes += 1
                Metrics.Timer(label: "ehr_audit_flush_duration_seconds").recordNanoseconds(BackgroundWorkMetrics.nanoseconds(since: start))
                Recorder(label: "ehr_audit_batch_size", aggregate: true).record(drafts.count)
                for item in batch { item.done.resume() }
            } catch {
                Counter(label: "ehr_audit_flush_failures_total").increment()
                for item in batch { item.done.resume(throwing: error) }
            }
        }
        flushing -= 1
    }

    /// One flush. PostgreSQL: one statement into the inbox, sealed later (see ``PostgresAuditInbox``). SQLite: one
    /// statement that seals the events onto their chains (see ``AuditLog/appendAlone(_:in:)``); a flush may hold
    /// several practices' events, so it runs on the writer's named path (see SystemAccess).
    private func write(_ drafts: [AuditEventDraft]) async throws {
        if database.dialect == .postgres { return try await log.enqueue(drafts, in: database) }
        try await log.appendAlone(drafts, in: database)
    }
}
