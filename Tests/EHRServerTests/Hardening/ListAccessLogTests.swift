import EHRDomain
import Foundation
import SQLKit
import Testing

@testable import EHRPersistence
@testable import EHRServer

/// Lists and searches that return a patient's records show in that patient's access log, with the actor;
/// a list that returns nothing of the patient does not.
@Suite("List reads in the access log", .serialized) struct ListAccessLogTests {
    typealias Entry = (action: String, actor: String)

    static func accessLog(_ world: TestWorld, _ patient: UUID) async throws -> [Entry] {
        let reply = try await world.call(.get, "/api/v1/patients/\(patient.wire)/access-log?limit=100", as: .admin)
        #expect(reply.status == .ok, "\(reply.text)")
        return reply.items.map { ($0["action"] as? String ?? "", $0["actorId"] as? String ?? "") }
    }

    static func contains(_ log: [Entry], _ action: String, by actor: UUID) -> Bool {
        log.contains { $0.action == action && $0.actor == actor.wire }
    }

    struct StoredList: Decodable {
        var seq: Int64
        var patient_ids: String?
    }
    struct IndexRow: Decodable, Hashable {
        var patient_id: String
        var seq: Int64
    }

    /// SQLite: the practice's chained lists, the index rows they call for as the chain reads them, and the index's rows.
    static func indexRows(of tenantID: UUID, on sql: any SQLDatabase) async throws -> (lists: [StoredList], expected: Set<IndexRow>, indexed: [IndexRow]) {
        let lists = try await sql.raw("SELECT seq, patient_ids FROM audit_events WHERE tenant_id = \(bind: tenantID)").all(decoding: StoredList.self)
        let expected = Set(lists.flatMap { list in (list.patient_ids.flatMap(AuditLog.stringArray) ?? []).map { IndexRow(patient_id: $0, seq: list.seq) } })
        let indexed = try await sql.raw("SELECT patient_id, seq FROM audit_event_patients WHERE tenant_id = \(bind: tenantID)").all(decoding: IndexRow.self)
        return (lists, expected, indexed)
    }

    struct Mark: Decodable {
        var seq: Int64
        var patients_indexed_seq: Int64
    }

    /// SQLite: the practice's chain head and how far its listed patients are indexed.
    static func mark(of tenantID: UUID, on sql: any SQLDatabase) async throws -> Mark {
        try #require(try await sql.raw("SELECT seq, patients_indexed_seq FROM audit_heads WHERE tenant_id = \(bind: tenantID)").first(decoding: Mark.self))
    }

    @Test(arguments: TestBackend.all)
    func listsAndSearchesAppearInTheAccessLogsOfThePatientsTheyReturned(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let d = TestWorld.demo
            #expect(try await world.call(.get, "/api/v1/notes?patientId=\(d.john.wire)", as: .smith).items.count == 1)
            #expect(try await world.call(.get, "/api/v1/notes?patientId=\(d.jane.wire)", as: .smith).items.isEmpty)
            #expect(try await world.call(.get, "/api/v1/appointments", as: .smith).items.count == 1)
            #expect(try await world.call(.get, "/api/v1/patients?lastName=doe&dateOfBirth=1985-04-12", as: .admin).items.count == 1)
            #expect(try await world.call(.get, "/api/v1/patients", as: .smith).items.count == 2)
            #expect(try await world.call(.get, "/api/v1/notes", as: .johnson).items.count == 1)

            let john = try await Self.accessLog(world, d.john)
            #expect(Self.contains(john, "note.list", by: d.smith))
            #expect(Self.contains(john, "appointment.list", by: d.smith))
            #expect(Self.contains(john, "patient.list", by: d.admin), "blind-index search")
            #expect(Self.contains(john, "patient.list", by: d.smith))
            #expect(!Self.contains(john, "note.list", by: d.johnson))

            let jane = try await Self.accessLog(world, d.jane)
            #expect(Self.contains(jane, "patient.list", by: d.smith))
            #expect(!Self.contains(jane, "note.list", by: d.smith), "an empty list of Jane's notes returned nothing of hers")
            #expect(!Self.contains(jane, "appointment.list", by: d.smith))
            #expect(!Self.contains(jane, "patient.list", by: d.admin), "the search found only John")

            let bob = try await Self.accessLog(world, d.bob)
            #expect(Self.contains(bob, "note.list", by: d.johnson))
            #expect(!Self.contains(bob, "patient.list", by: d.smith))

            let verified = try await world.call(.get, "/api/v1/audit/verify", as: .admin)
            #expect(verified.json["intact"] as? Bool == true, "\(verified.text)")
        }
    }

    /// SQLite's access log reads a table indexing the listed patients; the chain holds the lists themselves, so a
    /// row removed from the table (to hide a read) breaks verification. PostgreSQL's index is a GIN index over the
    /// chained column itself (`PostgresAuditListIndex`), with no copy to remove: see the test below.
    @Test(arguments: [TestBackend.sqlite])
    func removingAnIndexRowIsDetected(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let d = TestWorld.demo
            _ = try await world.call(.get, "/api/v1/patients", as: .smith)
            try await world.sealAudit()
            let sql = world.owner.sql
            if case .postgres = backend {
                try await sql.raw("ALTER TABLE audit_event_patients DISABLE TRIGGER USER").run()
            } else {
                try await sql.raw("DROP TRIGGER audit_event_patients_no_delete").run()
            }
            try await sql.raw("DELETE FROM audit_event_patients WHERE patient_id = \(bind: d.jane.wire)").run()
            #expect(!(try await Self.accessLog(world, d.jane)).contains { $0.action == "patient.list" })
            let report = try await world.services.auditLog.verify(tenantID: d.tenantID, on: sql)
            #expect(report.patientIndexMismatch && !report.isIntact)
            let verified = try await world.call(.get, "/api/v1/audit/verify", as: .admin)
            #expect(verified.json["intact"] as? Bool == false)
        }
    }

    /// SQLite writes the index behind the chain, up to a mark per practice. Moving the mark past events that were
    /// never indexed (to hide reads from the access log) is found by verification, which compares up to the mark.
    @Test(arguments: [TestBackend.sqlite])
    func aMarkMovedPastUnindexedEventsIsDetected(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let d = TestWorld.demo
            try await world.sealAudit()
            let log = world.services.auditLog
            let draft = AuditEventDraft(
                tenantID: d.tenantID, actorID: d.smith.wire, actorRole: "therapist", action: "patient.list", resourceType: "patient",
                outcome: .allowed, requestID: "hidden-read", patientIDs: [d.jane])
            // Chained, and the mark moved over it in the same transaction, so no indexing pass can come between.
            try await world.services.database.transaction { db in
                try await log.append([draft], on: db)
                try await db.raw("UPDATE audit_heads SET patients_indexed_seq = seq WHERE tenant_id = \(bind: d.tenantID)").run()
            }
            #expect(!(try await Self.accessLog(world, d.jane)).contains { $0.action == "patient.list" && $0.actor == d.smith.wire })
            let verified = try await world.call(.get, "/api/v1/audit/verify", as: .admin)
            #expect(verified.json["intact"] as? Bool == false, "\(verified.text)")
        }
    }

    /// Many concurrent lists, then the access log and verification: every listed patient is indexed, once.
    @Test(arguments: [TestBackend.sqlite])
    func concurrentListsAreAllIndexed(_ backend: TestBackend) async throws {
        try await withWorld(backend, concurrent: true) { world in
            let d = TestWorld.demo
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<40 { group.addTask { _ = try await world.call(.get, "/api/v1/patients", as: .smith) } }
                try await group.waitForAll()
            }
            let listed = try await Self.accessLog(world, d.jane).filter { $0.action == "patient.list" && $0.actor == d.smith.wire }
            #expect(listed.count == 40)
            struct MarkRow: Decodable {
                var seq: Int64
                var patients_indexed_seq: Int64
            }
            let mark = try #require(
                try await world.owner.sql.raw("SELECT seq, patients_indexed_seq FROM audit_heads WHERE tenant_id = \(bind: d.tenantID)")
                    .first(decoding: MarkRow.self))
            #expect(mark.patients_indexed_seq <= mark.seq && mark.patients_indexed_seq >= 40)
            let verified = try await world.call(.get, "/api/v1/audit/verify", as: .admin)
            #expect(verified.json["intact"] as? Bool == true, "\(verified.text)")
        }
    }

    /// SQLite indexes the lists itself (`json_each`): the index must hold exactly the patients each event's stored
    /// list names as the chain reads it (`AuditLog.stringArray`), escapes decoded, and skip a list that is not a JSON
    /// array of strings (a forged event) without holding up the events after it.
    @Test(arguments: [TestBackend.sqlite])
    func theIndexHoldsExactlyTheStoredListsAsTheChainReadsThem(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let d = TestWorld.demo
            let (log, database, sql) = (world.services.auditLog, world.services.database, world.owner.sql)
            func drafts(_ prefix: String, _ lists: [[UUID]]) -> [AuditEventDraft] {
                lists.enumerated().map { i, patients in
                    AuditEventDraft(
                        tenantID: d.tenantID, actorID: "system:test", actorRole: "system", action: "test.list", resourceType: "test",
                        outcome: .allowed, requestID: "\(prefix)-\(i)", patientIDs: patients)
                }
            }
            try await log.appendAlone(drafts("before", [[d.jane, d.bob], [], [d.john], [d.bob, d.jane, d.john]]), in: database)
            // Events whose stored lists are not what the writer writes, linked onto the chain as the head trigger demands
            // (their hashes are wrong: verification reports them; the index must just read them as the chain does).
            struct Head: Decodable { var seq: Int64, hash: String }
            for (i, list) in [#"["not closed"#, "[1,2]", #"{"a":"b"}"#, #"["a\/b","c\u0064"]"#, "[]", #"["x",null]"#].enumerated() {
                let head = try #require(try await sql.raw("SELECT seq, hash FROM audit_heads WHERE tenant_id = \(bind: d.tenantID)").first(decoding: Head.self))
                try await sql.raw(
                    """
                    INSERT INTO audit_events (tenant_id, seq, occurred_ms, actor_id, actor_role, action, resource_type, outcome, request_id,
                        changed_fields, patient_ids, prev_hash, hash, mac)
                    VALUES (\(bind: d.tenantID), \(bind: head.seq + 1), 0, 'x', 'system', 'forged', 'test', 'allowed', \(bind: "forged-\(i)"), '[]',
                        \(bind: list), \(bind: head.hash), \(bind: String(format: "%064d", i)), 'm')
                    """
                ).run()
            }
            try await log.appendAlone(drafts("after", [[d.john, d.jane], [d.bob]]), in: database)
            try await world.sealAudit()

            let (events, expected, indexed) = try await Self.indexRows(of: d.tenantID, on: sql)
            #expect(indexed.count == Set(indexed).count, "each entry once")
            #expect(Set(indexed) == expected)
            #expect(expected.contains { $0.patient_id == "a/b" } && expected.contains { $0.patient_id == "cd" }, "escapes decoded")
            #expect(expected.contains { $0.patient_id == d.jane.wire && $0.seq > events.first { $0.patient_ids == "[]" }!.seq }, "events after the forged ones")
            let mark = try await Self.mark(of: d.tenantID, on: sql)
            #expect(mark.patients_indexed_seq == mark.seq)
        }
    }

    /// A pass of more index rows than one writer statement takes (``AuditLog/indexChunk``) is written in several
    /// statements: every listed patient is indexed once, the mark reaches the head, and the chain verifies.
    @Test(arguments: [TestBackend.sqlite])
    func aPassOfSeveralChunksIndexesEveryPatientOnce(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let d = TestWorld.demo
            let (log, database, sql) = (world.services.auditLog, world.services.database, world.owner.sql)
            try await world.sealAudit()
            let patients = (0..<300).map { _ in UUID() }
            // 200 lists of 20 distinct patients (13 and 300 are coprime): 4,000 rows, more than one chunk.
            let drafts = (0..<200).map { i in
                AuditEventDraft(
                    tenantID: d.tenantID, actorID: "system:test", actorRole: "system", action: "test.list", resourceType: "test",
                    outcome: .allowed, requestID: "chunked-\(i)", patientIDs: (0..<20).map { patients[(i * 7 + $0 * 13) % patients.count] })
            }
            #expect(drafts.count * 20 > AuditLog.indexChunk)
            for start in stride(from: 0, to: drafts.count, by: 50) { try await log.appendAlone(Array(drafts[start..<start + 50]), in: database) }
            try await world.sealAudit()

            let (_, expected, indexed) = try await Self.indexRows(of: d.tenantID, on: sql)
            #expect(expected.count >= 4000)
            #expect(indexed.count == expected.count, "each entry once")
            #expect(Set(indexed) == expected)
            struct Mark: Decodable { var seq: Int64, patients_indexed_seq: Int64 }
            let mark = try #require(
                try await sql.raw("SELECT seq, patients_indexed_seq FROM audit_heads WHERE tenant_id = \(bind: d.tenantID)").first(decoding: Mark.self))
            #expect(mark.patients_indexed_seq == mark.seq)
            #expect(try await log.verify(tenantID: d.tenantID, on: sql).isIntact)
        }
    }

    /// A pass cut short between its statements leaves rows past the practice's mark: not a mismatch (verification
    /// compares only up to the mark), and the next pass writes the rest without writing any row twice.
    @Test(arguments: [TestBackend.sqlite])
    func aPassCutShortIsFinishedByTheNext(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let d = TestWorld.demo
            let (log, database, sql) = (world.services.auditLog, world.services.database, world.owner.sql)
            _ = try await world.call(.get, "/api/v1/patients", as: .smith)
            try await world.sealAudit()
            func mark() async throws -> Mark { try await Self.mark(of: d.tenantID, on: sql) }
            let before = try await mark()
            let drafts = (0..<30).map { i in
                AuditEventDraft(
                    tenantID: d.tenantID, actorID: "system:test", actorRole: "system", action: "test.list", resourceType: "test",
                    outcome: .allowed, requestID: "cut-\(i)", patientIDs: [d.jane, d.bob, d.john])
            }
            try await log.appendAlone(drafts, in: database)
            // What a pass cut short leaves: the rows of its first statement (here: of the first ten events), mark unmoved.
            try await sql.raw(
                """
                INSERT INTO audit_event_patients (tenant_id, patient_id, seq)
                SELECT tenant_id, p.value, e.seq FROM audit_events e, json_each(e.patient_ids) p
                WHERE e.tenant_id = \(bind: d.tenantID) AND e.seq > \(bind: before.seq) AND e.seq <= \(bind: before.seq + 10)
                """
            ).run()
            #expect(try await mark().patients_indexed_seq == before.seq)
            #expect(try await log.verify(tenantID: d.tenantID, on: sql).isIntact, "rows past the mark are not compared")

            try await world.sealAudit()
            struct Count: Decodable { var count: Int }
            let rows = try await sql.raw(
                "SELECT count(*) AS count FROM audit_event_patients WHERE tenant_id = \(bind: d.tenantID) AND seq > \(bind: before.seq)"
            ).first(decoding: Count.self)
            #expect(rows?.count == 90)
            let after = try await mark()
            #expect(after.patients_indexed_seq == after.seq && after.seq == before.seq + 30)
            #expect(try await log.verify(tenantID: d.tenantID, on: sql).isIntact)
            #expect(try await Self.accessLog(world, d.jane).contains { $0.action == "test.list" && $0.actor == "system:test" })
        }
    }

    /// The groups of a pass join, in order, into statements of at most ``AuditLog/indexChunk`` rows (a larger group
    /// whole); every item is kept, once, in order, and each statement's value is one JSON array.
    @Test func indexGroupsJoinIntoChunksOfTheLimit() throws {
        var next = 0
        func group(_ count: Int) throws -> AuditLog.GroupRow {
            // Quotes, backslashes and characters of several UTF-8 bytes (one of them combining), at the ends too.
            let items = (next..<next + count).map { "\($0 + 1) p\"\\é\($0 + 1)👩‍⚕️e\u{301}" }
            next += count
            let json = String(decoding: try JSONSerialization.data(withJSONObject: items), as: UTF8.self)
            return AuditLog.GroupRow(count: count, pairs: json)
        }
        let limit = AuditLog.indexChunk
        let groups = try [group(limit / 2), group(limit / 2), group(limit / 2), group(0), group(limit + 7), group(3), group(4)]
        let chunks = AuditLog.chunks(of: groups)
        let counts = try chunks.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String]).count }
        #expect(counts == [limit / 2 * 2, limit / 2, limit + 7, 7])
        let items = try chunks.flatMap { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String]) }
        let all = try groups.flatMap { try #require(try JSONSerialization.jsonObject(with: Data($0.pairs.utf8)) as? [String]) }
        #expect(items == all && items.count == next)
        #expect(try AuditLog.chunks(of: []).isEmpty && AuditLog.chunks(of: [group(0)]).isEmpty)
    }

    /// SQLite's index table is append-only like the log.
    @Test(arguments: [TestBackend.sqlite])
    func theIndexRefusesChanges(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            _ = try await world.call(.get, "/api/v1/patients", as: .smith)
            try await world.sealAudit()
            let sql = world.owner.sql
            await #expect(throws: (any Error).self) { try await sql.raw("DELETE FROM audit_event_patients").run() }
            await #expect(throws: (any Error).self) { try await sql.raw("UPDATE audit_event_patients SET patient_id = 'x'").run() }
        }
    }

    /// SQLite's index keeps its rows in its key's B-tree alone (`WITHOUT ROWID`, SQLiteCompactAccessIndex): made
    /// again from a table with rows in it, every row is kept, the triggers still refuse changes, and the access
    /// log still finds the patient.
    @Test(arguments: [TestBackend.sqlite])
    func theCompactIndexKeepsEveryRow(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let d = TestWorld.demo
            _ = try await world.call(.get, "/api/v1/patients", as: .smith)
            _ = try await world.call(.get, "/api/v1/appointments", as: .smith)
            try await world.sealAudit()
            let sql = world.owner.sql
            struct Row: Decodable, Hashable { var tenant_id: String, patient_id: String, seq: Int64 }
            struct Schema: Decodable { var sql: String }
            func rows() async throws -> Set<Row> {
                Set(try await sql.raw("SELECT CAST(tenant_id AS TEXT) AS tenant_id, patient_id, seq FROM audit_event_patients").all(decoding: Row.self))
            }
            func schema() async throws -> String {
                try await sql.raw("SELECT sql FROM sqlite_master WHERE name = 'audit_event_patients'").first(decoding: Schema.self)?.sql ?? ""
            }
            let before = try await rows()
            #expect(!before.isEmpty)
            #expect(try await schema().contains("WITHOUT ROWID"))
            let migration = SQLiteCompactAccessIndex()
            let database = world.services.database.fluent
            try await migration.revert(on: database)
            #expect(try await !schema().contains("WITHOUT ROWID"))
            #expect(try await rows() == before)
            try await migration.prepare(on: database)
            #expect(try await schema().contains("WITHOUT ROWID"))
            #expect(try await rows() == before)
            await #expect(throws: (any Error).self) { try await sql.raw("DELETE FROM audit_event_patients").run() }
            await #expect(throws: (any Error).self) { try await sql.raw("UPDATE audit_event_patients SET patient_id = 'x'").run() }
            #expect(Self.contains(try await Self.accessLog(world, d.jane), "patient.list", by: d.smith))
        }
    }

    /// PostgreSQL answers the access log from the chained lists through a GIN index; there is no separate
    /// table of listed patients to edit, and the query uses the index.
    @Test(arguments: TestBackend.all.filter { $0 != .sqlite })
    func postgresReadsTheChainedListsThroughAnIndex(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            struct Exists: Decodable { var table: Bool, index: Bool }
            let found = try await world.owner.sql.raw(
                """
                SELECT to_regclass('audit_event_patients') IS NOT NULL AS table, to_regclass('audit_events_patient_lists') IS NOT NULL AS index
                """
            ).first(decoding: Exists.self)
            #expect(found?.table == false && found?.index == true)
            let jane = TestWorld.demo.jane.wire
            // The seed's table is tiny, so a sequential scan would win on cost; with it off the access log's condition
            // must be answered by the index (it could not if the expression or operator did not match the index's).
            let plan = try await world.owner.transaction { db in
                try await db.raw("SET LOCAL enable_seqscan = off").run()
                return try await db.raw(
                    """
                    EXPLAIN (COSTS OFF) SELECT seq FROM audit_events WHERE patient_ids::jsonb ? \(bind: jane)
                    """
                ).all().map { try $0.decode(column: "QUERY PLAN", as: String.self) }.joined(separator: "\n")
            }
            #expect(plan.contains("audit_events_patient_lists"), "\(plan)")
        }
    }
}
