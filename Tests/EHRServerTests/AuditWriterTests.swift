import EHRDomain
import EHRPersistence
import Foundation
import SQLKit
import Testing

@testable import EHRServer

/// The audit writer's group commit, under many callers at once: a call returns only once its event is stored, a
/// flush the database refuses fails its callers (never silently) and no later flush, and the writer keeps going.
@Suite("Audit writer", .serialized)
struct AuditWriterTests {
    @Test(.timeLimit(.minutes(2)), arguments: TestBackend.all)
    func aCallReturnsOnlyOnceItsEventIsStoredAndARefusedFlushFailsOnlyItsOwn(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let writer = try #require(world.services.auditWriter)
            let postgres = world.services.database.dialect == .postgres
            // The database refuses events whose request id says so, and with them the rest of their flush.
            try await setRefusal(world, on: true)

            // Thirty waves of ten callers at once, one after the other, so no flush holds two waves' events; every
            // third wave holds one refused event.
            var outcomes: [(id: String, wave: Int, returned: Bool, stored: Int)] = []
            for wave in 0..<30 {
                let refused = wave.isMultiple(of: 3) ? wave % 10 : nil
                outcomes += try await withThrowingTaskGroup(of: (id: String, wave: Int, returned: Bool, stored: Int).self) { group in
                    for index in 0..<10 {
                        group.addTask {
                            let id = index == refused ? "refuse-\(wave)-\(index)" : "keep-\(wave)-\(index)"
                            let returned: Bool
                            do {
                                try await writer.record(Self.draft(id, index.isMultiple(of: 2) ? TestWorld.demo : TestWorld.other))
                                returned = true
                            } catch {
                                returned = false
                            }
                            // Asked the moment the call ends: on PostgreSQL the event is in the inbox or, sealed, in the chain.
                            return (id, wave, returned, try await Self.stored(id, in: world, postgres: postgres))
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            #expect(outcomes.count == 300)
            for outcome in outcomes {
                if outcome.returned {
                    #expect(outcome.stored == 1, "\(outcome.id) returned but its event is not stored")
                } else {
                    #expect(outcome.stored == 0, "\(outcome.id) failed but its event is stored")
                }
                if outcome.id.hasPrefix("refuse-") { #expect(!outcome.returned, "\(outcome.id)") }
                // A refused flush fails no later one: waves without a refused event are written whole.
                if !outcome.wave.isMultiple(of: 3) { #expect(outcome.returned, "\(outcome.id)") }
            }
            let kept = outcomes.filter(\.returned).count

            // The writer goes on: with the refusal gone every call returns, its event stored, and the chains hold.
            try await setRefusal(world, on: false)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<40 {
                    group.addTask {
                        let id = "after-\(index)"
                        try await writer.record(Self.draft(id, index.isMultiple(of: 2) ? TestWorld.demo : TestWorld.other))
                        #expect(try await Self.stored(id, in: world, postgres: postgres) == 1, "\(id)")
                    }
                }
                try await group.waitForAll()
            }
            try await world.sealAudit()
            for practice in [TestWorld.demo, TestWorld.other] {
                let report = try await world.services.auditLog.verify(tenantID: practice.tenantID, on: world.services.database.sql)
                #expect(report.isIntact, "\(practice.slug)")
            }
            let events = try await world.storedEvents()
            #expect(Set(events.map(\.request_id)).count == events.count, "every event stored once")
            #expect(events.filter { $0.request_id.hasPrefix("keep-") || $0.request_id.hasPrefix("after-") }.count == kept + 40)
        }
    }

    /// Callers on every event loop of the server and off them, at once: every call returns with its event stored once.
    @Test(.timeLimit(.minutes(2)), arguments: TestBackend.all)
    func callersOnEveryEventLoopHaveTheirEventsStored(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let writer = try #require(world.services.auditWriter)
            let postgres = world.services.database.dialect == .postgres
            let executors: [EventLoopTaskExecutor?] = EventLoopTaskExecutor.all + [nil]
            #expect(!EventLoopTaskExecutor.all.isEmpty)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (loop, executor) in executors.enumerated() {
                    for index in 0..<25 {
                        group.addTask(executorPreference: executor) {
                            let id = "loop-\(loop)-\(index)"
                            try await writer.record(Self.draft(id, index.isMultiple(of: 2) ? TestWorld.demo : TestWorld.other))
                            #expect(try await Self.stored(id, in: world, postgres: postgres) == 1, "\(id)")
                        }
                    }
                }
                try await group.waitForAll()
            }
            try await world.sealAudit()
            let events = try await world.storedEvents().filter { $0.request_id.hasPrefix("loop-") }
            #expect(events.count == executors.count * 25)
            #expect(Set(events.map(\.request_id)).count == events.count, "every event stored once")
        }
    }

    /// PostgreSQL: a flush that hangs (here a trigger sleeping on one event, in the field a checkout of a connection
    /// the database dropped) does not hold back the events recorded after it: the next caller's event goes in a
    /// second flush and returns long before the stalled one.
    @Test(.timeLimit(.minutes(2)), arguments: TestBackend.all.filter { $0 != .sqlite })
    func aStalledFlushDoesNotHoldBackLaterEvents(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let writer = try #require(world.services.auditWriter)
            try await world.owner.sql.raw(
                """
                CREATE FUNCTION test_stall_event() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN IF NEW.request_id LIKE 'stall-%' THEN PERFORM pg_sleep(4); END IF; RETURN NEW; END $$
                """
            ).run()
            try await world.owner.sql.raw("CREATE TRIGGER test_stall_event BEFORE INSERT ON audit_inbox FOR EACH ROW EXECUTE FUNCTION test_stall_event()")
                .run()
            let clock = ContinuousClock()
            let start = clock.now
            async let stalled: Void = writer.record(Self.draft("stall-1", TestWorld.demo))
            try await Task.sleep(for: .milliseconds(300))
            try await writer.record(Self.draft("after-stall-1", TestWorld.demo))
            let after = clock.now - start
            #expect(try await Self.stored("after-stall-1", in: world, postgres: true) == 1)
            #expect(try await Self.stored("stall-1", in: world, postgres: true) == 0, "the stalled flush is still under way")
            #expect(after < .seconds(2), "the later event waited \(after) for the stalled flush")
            try await stalled
            #expect(clock.now - start >= .seconds(4))
            #expect(try await Self.stored("stall-1", in: world, postgres: true) == 1)
        }
    }

    private static func draft(_ requestID: String, _ practice: TestWorld.Practice) -> AuditEventDraft {
        AuditEventDraft(
            tenantID: practice.tenantID, actorID: practice.smith.lowercasedString, actorRole: "therapist", action: "appointment.list",
            resourceType: "appointment", outcome: .allowed, requestID: requestID, patientIDs: [practice.john])
    }

    /// How many stored events carry `requestID` (PostgreSQL: in the inbox and the chain, read in one snapshot).
    private static func stored(_ requestID: String, in world: TestWorld, postgres: Bool) async throws -> Int {
        struct Row: Decodable { var count: Int }
        let sql: SQLQueryString =
            postgres
            ? """
            SELECT (SELECT count(*) FROM audit_inbox WHERE request_id = \(bind: requestID))
                + (SELECT count(*) FROM audit_events WHERE request_id = \(bind: requestID)) AS count
            """
            : "SELECT count(*) AS count FROM audit_events WHERE request_id = \(bind: requestID)"
        return try await world.services.database.sql.raw(sql).first(decoding: Row.self)?.count ?? -1
    }

    /// Installs (or drops) a trigger that refuses every event whose request id starts with `refuse-`.
    private func setRefusal(_ world: TestWorld, on: Bool) async throws {
        if world.services.database.dialect == .postgres {
            // As the owner (statements otherwise run as the service role), for this transaction only.
            try await world.services.database.transaction { db in
                try await db.raw("SELECT set_config('role', session_user::text, true)").run()
                if on {
                    try await db.raw(
                        """
                        CREATE FUNCTION test_refuse_event() RETURNS trigger LANGUAGE plpgsql AS $$
                        BEGIN IF NEW.request_id LIKE 'refuse-%' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$
                        """
                    ).run()
                    try await db.raw("CREATE TRIGGER test_refuse_event BEFORE INSERT ON audit_inbox FOR EACH ROW EXECUTE FUNCTION test_refuse_event()")
                        .run()
                } else {
                    try await db.raw("DROP TRIGGER test_refuse_event ON audit_inbox").run()
                }
            }
        } else if on {
            try await world.services.database.sql.raw(
                "CREATE TRIGGER test_refuse_event BEFORE INSERT ON audit_events WHEN NEW.request_id LIKE 'refuse-%' BEGIN SELECT RAISE(ABORT, 'refused'); END"
            ).run()
        } else {
            try await world.services.database.sql.raw("DROP TRIGGER test_refuse_event").run()
        }
    }
}
