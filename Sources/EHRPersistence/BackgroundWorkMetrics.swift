import Metrics

/// How long the background work that shares the database with requests takes, exported at `/metrics`: each pass
/// of the audit sealer (PostgreSQL: inbox events onto their chains; SQLite: the access-log index, which holds the
/// single writer meanwhile), and each step of SQLite's checkpoint (the passive copy beside the writer, then the
/// writer's own step, from asking for the writer to the end of the RESTART). A stall of requests lines up with
/// these without a profiler.
enum BackgroundWorkMetrics {
    static func sealPass(since start: ContinuousClock.Instant) {
        Metrics.Timer(label: "ehr_audit_seal_pass_duration_seconds").recordNanoseconds(nanoseconds(since: start))
    }

    static func checkpointStep(_ step: String, since start: ContinuousClock.Instant) {
        Metrics.Timer(label: "ehr_sqlite_checkpoint_duration_seconds", dimensions: [("step", step)]).recordNanoseconds(nanoseconds(since: start))
    }

    /// Nanoseconds from `start` to now, as swift-metrics' timers take them.
    static func nanoseconds(since start: ContinuousClock.Instant) -> Int64 {
        let (seconds, attoseconds) = (ContinuousClock.now - start).components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
