import EHRPersistence
import Logging
import ServiceLifecycle

/// Keeps SQLite's write-ahead log short while the server runs: every `interval` a checkpoint that copies it into
/// the database file and lets the next commit start it over (see ``EHRDatabase/checkpointWAL(restart:)``), or,
/// while a long reader holds that up, one that does not wait (``SQLiteCheckpointPolicy``). Nothing to do on
/// PostgreSQL.
struct SQLiteCheckpointService: Service {
    let database: EHRDatabase
    let logger: Logger
    var interval: Duration = .seconds(1)

    func run() async throws {
        // A service that returns ends the whole group: on PostgreSQL, just wait for the shutdown.
        guard database.dialect == .sqlite else {
            try? await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            var policy = SQLiteCheckpointPolicy()
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled else { return }
                do {
                    let restart = policy.restarts(at: .now)
                    let frames = try await database.checkpointWAL(restart: restart)
                    if restart, let frames { policy.record(frames, at: .now) }
                } catch {
                    // The log keeps growing until the next pass, or the writer's own far-out checkpoint.
                    logger.warning("SQLite checkpoint failed; retrying", metadata: ["error.type": "\(type(of: error))"])
                }
            }
        }
    }
}

/// When the checkpoint may wait for readers. A RESTART checkpoint holds the writer while it waits for readers
/// still on the old log (a list's read: under a millisecond); a reader that stays there longer (a long export or
/// verification) would hold the writer for the whole wait every pass. After a pass it held up, the passes of the
/// next `backOff` copy what they can without waiting; then the checkpoint tries to restart the log again.
struct SQLiteCheckpointPolicy {
    let backOff: Duration
    private var waitFreeUntil: ContinuousClock.Instant?

    init(backOff: Duration = .seconds(10)) {
        self.backOff = backOff
    }

    /// Whether the pass at `now` may wait for readers and restart the log.
    func restarts(at now: ContinuousClock.Instant) -> Bool {
        guard let waitFreeUntil else { return true }
        return now >= waitFreeUntil
    }

    /// Records what a restarting pass at `now` copied: short of the whole log, a reader held it up.
    mutating func record(_ frames: (logFrames: Int, checkpointedFrames: Int), at now: ContinuousClock.Instant) {
        waitFreeUntil = frames.checkpointedFrames < frames.logFrames ? now + backOff : nil
    }
}
