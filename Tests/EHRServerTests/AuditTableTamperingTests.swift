import EHRDomain
import EHRSecurity
import Foundation
import HTTPTypes
import SQLKit
import Testing

@testable import EHRPersistence
@testable import EHRServer

/// The audit log in the database, attacked as someone with write access to it would: the append-only
/// triggers dropped, then a field edited, a row deleted, inserted or swapped, or the tail truncated.
/// Every such change must be caught by verification against a checkpoint taken before; and the
/// append-only rules must refuse the change to anyone who does not first remove them.
@Suite("Audit table tampering")
struct AuditTableTamperingTests {
    /// One row of `audit_events`, every column, read the way the service reads it (`AuditRow.record`).
    typealias Row = AuditRow
    /// The columns an edit may change (tenant_id and seq form the key; moving a row is a delete plus an insert).
    enum Column: String, CaseIterable, Sendable {
        case actor_id, actor_role, action, resource_type, resource_id, patient_id, outcome, request_id, client_ip, user_agent
        case occurred_ms, changed_fields, detail, prev_hash, hash, mac

        /// The hash covers it, so an attacker may recompute the hash after changing it (only the MAC then tells).
        var isHashed: Bool { self != .hash && self != .mac }
    }

    enum Kind: String, CaseIterable, Sendable {
        case edit, delete, insert, swap, truncate
    }

    /// One change to the table, done inside a transaction that is then rolled back.
    enum Step: Sendable {
        /// Replaces every column of the row at (tenant_id, seq) but those two.
        case overwrite(Row)
        case insert(Row)
        case delete(tenant: UUID, seq: Int64)
        case deleteAfter(tenant: UUID, seq: Int64)
        /// Rewrites the service's record of the chain head, as a careful attacker would.
        case setHead(tenant: UUID, seq: Int64, hash: String)

        func apply(on db: any SQLDatabase) async throws {
            switch self {
            case .overwrite(let r):
                try await db.raw(
                    """
                    UPDATE audit_events SET occurred_ms = \(bind: r.occurred_ms), actor_id = \(bind: r.actor_id), actor_role = \(bind: r.actor_role),
                        action = \(bind: r.action), resource_type = \(bind: r.resource_type), resource_id = \(bind: r.resource_id),
                        patient_id = \(bind: r.patient_id), outcome = \(bind: r.outcome), request_id = \(bind: r.request_id),
                        client_ip = \(bind: r.client_ip), user_agent = \(bind: r.user_agent), changed_fields = \(bind: r.changed_fields),
                        detail = \(bind: r.detail), prev_hash = \(bind: r.prev_hash), hash = \(bind: r.hash), mac = \(bind: r.mac)
                    WHERE tenant_id = \(bind: r.tenant_id) AND seq = \(bind: r.seq)
                    """
                ).run()
            case .insert(let r):
                try await db.raw(
                    """
                    INSERT INTO audit_events (tenant_id, seq, occurred_ms, actor_id, actor_role, action, resource_type, resource_id, patient_id,
                        outcome, request_id, client_ip, user_agent, changed_fields, detail, prev_hash, hash, mac)
                    VALUES (\(bind: r.tenant_id), \(bind: r.seq), \(bind: r.occurred_ms), \(bind: r.actor_id), \(bind: r.actor_role),
                        \(bind: r.action), \(bind: r.resource_type), \(bind: r.resource_id), \(bind: r.patient_id), \(bind: r.outcome),
                        \(bind: r.request_id), \(bind: r.client_ip), \(bind: r.user_agent), \(bind: r.changed_fields), \(bind: r.detail),
                        \(bind: r.prev_hash), \(bind: r.hash), \(bind: r.mac))
                    """
                ).run()
            case .delete(let tenant, let seq):
                try await db.raw("DELETE FROM audit_events WHERE tenant_id = \(bind: tenant) AND seq = \(bind: seq)").run()
            case .deleteAfter(let tenant, let seq):
                try await db.raw("DELETE FROM audit_events WHERE tenant_id = \(bind: tenant) AND seq > \(bind: seq)").run()
            case .setHead(let tenant, let seq, let hash):
                try await db.raw("UPDATE audit_heads SET seq = \(bind: seq), hash = \(bind: hash) WHERE tenant_id = \(bind: tenant)").run()
            }
        }
    }

    /// A planned tampering and what verification against the checkpoint must say about it.
    struct Tampering: Sendable {
        let kind: Kind
        let label: String
        let tenant: UUID
        let steps: [Step]
        /// The first break the verification must report.
        let expectedSequence: UInt64?
        let expectedReason: AuditBreakReason
        /// What is left is a sound prefix of the chain with a matching head: only the checkpoint can tell.
        let onlyCheckpointCanTell: Bool
    }

    /// The verifications done inside the tampering's transaction, carried out by the error that rolls it back.
    struct Rollback: Error {
        let withCheckpoint: AuditChainReport
        let withoutCheckpoint: AuditChainReport
        /// The other practice's chain, checked on every tenth tampering.
        let bystander: AuditChainReport?
    }

    /// SplitMix64: small, seedable, so a failing run can be replayed with `EHR_AUDIT_TAMPER_SEED`.
    struct Generator: RandomNumberGenerator {
        var state: UInt64

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        mutating func coin() -> Bool { next() & 1 == 0 }

        mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

        mutating func pick<T>(_ list: [T]) -> T { list[Int.random(in: 0..<list.count, using: &self)] }

        mutating func hex(bytes: Int) -> String {
            (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &self)) }.joined()
        }

        mutating func uuid() -> String {
            let h = Array(hex(bytes: 16))
            return [h[0..<8], h[8..<12], h[12..<16], h[16..<20], h[20..<32]].map { String($0) }.joined(separator: "-")
        }

        /// `hex` with one digit changed to another (still valid hex, so the row reads as different bytes).
        mutating func flipDigit(_ hex: String) -> String {
            var chars = Array(hex)
            let i = int(0...(chars.count - 1))
            chars[i] = pick(Array("0123456789abcdef").filter { $0 != chars[i] })
            return String(chars)
        }
    }

    // MARK: Chains

    /// Makes both practices' chains through the API: reads, denied reads, a write and a break-glass grant.
    /// Returns the number of audited calls per tenant.
    static func makeChains(_ world: TestWorld, rounds: Int) async throws -> [UUID: Int] {
        var calls: [UUID: Int] = [:]
        for practice in [TestWorld.demo, TestWorld.other] {
            func call(_ method: HTTPRequest.Method, _ path: String, as account: TestWorld.Account, json: [String: any Sendable]? = nil) async throws {
                try await world.call(method, "/api/v1" + path, as: account, in: practice, json: json)
                calls[practice.tenantID, default: 0] += 1
            }
            for round in 0..<rounds {
                try await call(.get, "/patients", as: .smith)
                try await call(.get, "/appointments", as: .admin)
                try await call(.get, "/notes", as: .smith)
                try await call(.get, "/patients/\(practice.john.wire)", as: .smith)
                // Not John's therapist: answered 404, recorded as denied.
                try await call(.get, "/patients/\(practice.john.wire)", as: .johnson)
                try await call(.get, "/notes/\(practice.johnSignedNote.wire)", as: .smith)
                try await call(.get, "/appointments/\(practice.bobAppointment.wire)", as: .bob)
                try await call(.get, "/auth/me", as: .john)
                try await call(.get, "/users", as: .admin)
                try await call(.get, "/providers", as: .jane)
                try await call(.patch, "/patients/\(practice.bob.wire)", as: .admin, json: ["phone": "+1-555-01\(10 + round)"])
            }
            try await call(.post, "/notes/\(practice.johnSignedNote.wire)/break-glass", as: .johnson, json: ["reason": "Covering clinician in a crisis"])
        }
        // PostgreSQL: the last events may still be in the inbox; the tests read the chained table directly (a busy
        // machine showed a chain one event short of the calls when the server's own sealer had not come round yet).
        try await world.services.auditLog.sealPending(in: world.services.database)
        return calls
    }

    static func rows(of tenant: UUID, on db: any SQLDatabase) async throws -> [Row] {
        try await db.raw("SELECT * FROM audit_events WHERE tenant_id = \(bind: tenant) ORDER BY seq").all(decoding: Row.self)
    }

    // MARK: Planning

    /// `row` with `column` changed to a different value.
    static func edit(_ row: Row, _ column: Column, actions: [String], using rng: inout Generator) -> Row {
        var r = row
        func other(_ current: String?, _ make: (inout Generator) -> String) -> String {
            var value = make(&rng)
            while value == current { value = make(&rng) }
            return value
        }
        func optional(_ current: String?, _ make: (inout Generator) -> String) -> String? {
            current != nil && rng.coin() ? nil : other(current, make)
        }
        switch column {
        case .actor_id: r.actor_id = other(r.actor_id) { $0.uuid() }
        case .actor_role: r.actor_role = other(r.actor_role) { $0.pick(["admin", "therapist", "client", "anonymous"]) }
        case .action: r.action = other(r.action) { $0.pick(actions + ["patient.delete", "note.sign"]) }
        case .resource_type: r.resource_type = other(r.resource_type) { $0.pick(["patient", "appointment", "note", "user", "provider", "session"]) }
        case .resource_id: r.resource_id = optional(r.resource_id) { $0.uuid() }
        case .patient_id: r.patient_id = optional(r.patient_id) { $0.uuid() }
        case .outcome: r.outcome = other(r.outcome) { $0.pick(AuditOutcome.allCases.map(\.rawValue)) }
        case .request_id: r.request_id = other(r.request_id) { $0.uuid() }
        case .client_ip: r.client_ip = optional(r.client_ip) { "198.51.100.\($0.int(1...254))" }
        case .user_agent: r.user_agent = optional(r.user_agent) { "curl/8.\($0.int(0...99))" }
        case .occurred_ms: r.occurred_ms += Int64(rng.int(1...86_400_000)) * (rng.coin() ? 1 : -1)
        case .changed_fields:
            let fields = (try? JSONDecoder().decode([String].self, from: Data(r.changed_fields.utf8))) ?? []
            let edited =
                fields.isEmpty ? [rng.pick(["firstName", "dateOfBirth", "diagnosis"])] : rng.coin() ? Array(fields.dropLast()) : fields + ["dateOfBirth"]
            r.changed_fields = String(decoding: try! JSONEncoder().encode(edited), as: UTF8.self)
        case .detail: r.detail = optional(r.detail) { "break-glass:\($0.uuid())" }
        case .prev_hash: r.prev_hash = rng.flipDigit(r.prev_hash)
        case .hash: r.hash = rng.flipDigit(r.hash)
        case .mac: r.mac = rng.flipDigit(r.mac)
        }
        return r
    }

    /// Steps that make `audit_heads` agree with `remaining`, the rows the tampering leaves.
    static func head(of tenant: UUID, after remaining: [Row]) -> Step {
        .setHead(tenant: tenant, seq: Int64(remaining.count), hash: remaining.last?.hash ?? AuditChain.genesisHash.hexString)
    }

    /// A random tampering of `rows` (one tenant's intact chain); `foreign` is the other practice's chain.
    static func plan(_ kind: Kind, rows: [Row], foreign: [Row], actions: [String], using rng: inout Generator) -> Tampering {
        let tenant = rows[0].tenant_id
        let count = rows.count
        let careful = rng.coin()
        switch kind {
        case .edit:
            let target = rng.pick(rows)
            let column = rng.pick(Column.allCases)
            var edited = edit(target, column, actions: actions, using: &rng)
            let recompute = column.isHashed && rng.coin()
            if recompute { edited.hash = edited.record.computedHash().hexString }
            return Tampering(
                kind: kind, label: "edit \(column.rawValue) of #\(target.seq)\(recompute ? ", hash recomputed" : "")",
                tenant: tenant, steps: [.overwrite(edited)], expectedSequence: UInt64(target.seq),
                expectedReason: column == .mac || recompute ? .badMAC : .editedRecord, onlyCheckpointCanTell: false)
        case .delete:
            let target = rng.pick(rows)
            let remaining = rows.filter { $0.seq != target.seq }
            let isLast = target.seq == Int64(count)
            return Tampering(
                kind: kind, label: "delete #\(target.seq) of \(count)\(careful ? ", head rewritten" : "")", tenant: tenant,
                steps: [.delete(tenant: tenant, seq: target.seq)] + (careful ? [head(of: tenant, after: remaining)] : []),
                expectedSequence: isLast ? nil : UInt64(target.seq + 1),
                expectedReason: isLast
                    ? .truncated(checkpointCount: UInt64(count), actualCount: UInt64(count - 1))
                    : .missingRecord(expected: UInt64(target.seq), found: UInt64(target.seq + 1)),
                onlyCheckpointCanTell: isLast && careful)
        case .insert:
            let last = rows[count - 1]
            var forged: Row
            let variant = rng.int(0...3)
            let label: String
            switch variant {
            case 0, 1:
                // A plausible new event linked to the head, its hash random or properly computed (no key for the MAC).
                forged = last
                forged.seq = last.seq + 1
                forged.occurred_ms = last.occurred_ms + Int64(rng.int(1...60_000))
                forged.request_id = rng.uuid()
                forged.actor_id = rng.pick(rows).actor_id
                forged.prev_hash = last.hash
                forged.hash = variant == 0 ? rng.hex(bytes: 32) : forged.record.computedHash().hexString
                forged.mac = rng.hex(bytes: 32)
                label = variant == 0 ? "insert forged #\(forged.seq) (random hash)" : "insert forged #\(forged.seq) (computed hash)"
            case 2:
                let copied = rng.pick(rows)
                forged = copied
                forged.seq = last.seq + 1
                label = "insert copy of #\(copied.seq) as #\(forged.seq)"
            default:
                let copied = rng.pick(foreign)
                forged = copied
                forged.tenant_id = tenant
                forged.seq = last.seq + 1
                label = "insert copy of the other practice's #\(copied.seq) as #\(forged.seq)"
            }
            return Tampering(
                kind: kind, label: label + (careful ? ", head rewritten" : ""), tenant: tenant,
                steps: [.insert(forged)] + (careful ? [head(of: tenant, after: rows + [forged])] : []),
                expectedSequence: UInt64(forged.seq), expectedReason: variant == 1 ? .badMAC : .editedRecord,
                onlyCheckpointCanTell: false)
        case .swap:
            let a = rng.int(0...(count - 2))
            let b = rng.int((a + 1)...(count - 1))
            return Tampering(
                kind: kind, label: "swap #\(rows[a].seq) and #\(rows[b].seq)", tenant: tenant,
                steps: [.overwrite(rows[a].withContent(of: rows[b])), .overwrite(rows[b].withContent(of: rows[a]))],
                expectedSequence: UInt64(rows[a].seq), expectedReason: .editedRecord, onlyCheckpointCanTell: false)
        case .truncate:
            let keep = rng.int(0...(count - 1))
            return Tampering(
                kind: kind, label: "truncate after #\(keep) of \(count)\(careful ? ", head rewritten" : "")", tenant: tenant,
                steps: [.deleteAfter(tenant: tenant, seq: Int64(keep))] + (careful ? [head(of: tenant, after: Array(rows.prefix(keep)))] : []),
                expectedSequence: nil, expectedReason: .truncated(checkpointCount: UInt64(count), actualCount: UInt64(keep)),
                onlyCheckpointCanTell: careful)
        }
    }

    // MARK: Tests

    @Test(arguments: TestBackend.all)
    func thousandRandomTamperingsOfTheTableAreAllDetected(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let log = world.services.auditLog
            let database = world.services.database
            let sql = world.owner.sql
            let dialect = database.dialect
            let tenants = [TestWorld.demo.tenantID, TestWorld.other.tenantID]

            let calls = try await Self.makeChains(world, rounds: 2)
            var chains: [UUID: [Row]] = [:]
            var checkpoints: [UUID: AuditCheckpoint] = [:]
            for tenant in tenants {
                let report = try await log.verify(tenantID: tenant, on: sql)
                #expect(report.isIntact && report.eventCount == calls[tenant], "chain before tampering: \(report)")
                let rows = try await Self.rows(of: tenant, on: sql)
                // The test reads rows as the service does: else a recomputed hash would prove nothing.
                #expect(rows.allSatisfy { $0.record.computedHash().hexString == $0.hash })
                chains[tenant] = rows
                checkpoints[tenant] = try await log.checkpoint(tenantID: tenant, on: sql)
            }
            let allRows = tenants.flatMap { chains[$0]! }
            #expect(allRows.contains { $0.outcome == AuditOutcome.denied.rawValue }, "the chains hold denials")
            #expect(allRows.contains { $0.changed_fields != "[]" }, "the chains hold writes")
            let actions = Array(Set(allRows.map(\.action))).sorted()

            let seed = ProcessInfo.processInfo.environment["EHR_AUDIT_TAMPER_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1...UInt64.max)
            var rng = Generator(state: seed)
            let dropTriggers: [SQLQueryString] =
                dialect == .postgres
                ? ["DROP TRIGGER audit_events_append_only ON audit_events", "DROP TRIGGER audit_events_no_truncate ON audit_events"]
                : [
                    "DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete", "DROP TRIGGER audit_events_extend_head",
                    "DROP TRIGGER audit_events_move_head",
                ]

            let trials = 1_000
            var tried: [Kind: Int] = [:]
            var detected: [Kind: Int] = [:]
            var missed: [String] = []
            var wrongReason: [String] = []
            var missedWithoutCheckpoint: [String] = []
            var carefulTruncations = 0
            var onlyCheckpointTold = 0
            var falseAlarms: [String] = []
            let clock = ContinuousClock()
            let started = clock.now
            for trial in 0..<trials {
                let tenant = rng.pick(tenants)
                let bystander = tenants.first { $0 != tenant }!
                let t = Self.plan(rng.pick(Kind.allCases), rows: chains[tenant]!, foreign: chains[bystander]!, actions: actions, using: &rng)
                tried[t.kind, default: 0] += 1
                let (checkpoint, bystanderCheckpoint) = (checkpoints[tenant]!, checkpoints[bystander]!)
                let steps = t.steps
                let checkBystander = trial % 10 == 0
                do {
                    try await world.owner.transaction { db in
                        for statement in dropTriggers { try await db.raw(statement).run() }
                        for step in steps { try await step.apply(on: db) }
                        let withCheckpoint = try await log.verify(tenantID: tenant, checkpoint: checkpoint, on: db)
                        let withoutCheckpoint = try await log.verify(tenantID: tenant, on: db)
                        let untouched = checkBystander ? try await log.verify(tenantID: bystander, checkpoint: bystanderCheckpoint, on: db) : nil
                        throw Rollback(withCheckpoint: withCheckpoint, withoutCheckpoint: withoutCheckpoint, bystander: untouched)
                    }
                    Issue.record("the tampering transaction committed")
                    return
                } catch let result as Rollback {
                    let label = "trial \(trial): \(t.label)"
                    let report = result.withCheckpoint
                    if report.isIntact {
                        missed.append(label)
                    } else {
                        detected[t.kind, default: 0] += 1
                        if report.firstBreak?.reason != t.expectedReason || report.firstBreak?.sequence != t.expectedSequence {
                            wrongReason.append(
                                "\(label): expected \(t.expectedReason) at \(t.expectedSequence.map(String.init) ?? "end"), got \(String(describing: report.firstBreak))"
                            )
                        }
                    }
                    if t.onlyCheckpointCanTell {
                        carefulTruncations += 1
                        if result.withoutCheckpoint.isIntact { onlyCheckpointTold += 1 }
                    } else if result.withoutCheckpoint.isIntact {
                        missedWithoutCheckpoint.append(label)
                    }
                    if let report = result.bystander, !report.isIntact { falseAlarms.append("\(label): \(report)") }
                }
            }
            let elapsed = (clock.now - started).components
            let seconds = String(format: "%.1f s", Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18)

            let total = detected.values.reduce(0, +)
            let perKind = Kind.allCases.map { "\($0.rawValue) \(detected[$0] ?? 0)" }.joined(separator: ", ")
            print("audit tampering (\(backend.testDescription)): \(total) of \(trials) tamperings detected (\(perKind)); seed \(seed); \(seconds)")
            print(
                "audit tampering (\(backend.testDescription)): without the checkpoint \(trials - missedWithoutCheckpoint.count - onlyCheckpointTold) detected; "
                    + "\(onlyCheckpointTold) of \(carefulTruncations) careful truncations (tail cut, head rewritten) caught only by the checkpoint")
            #expect(tried.values.reduce(0, +) == trials)
            #expect(Kind.allCases.allSatisfy { (tried[$0] ?? 0) > 0 }, "every kind tried: \(tried)")
            #expect(missed.isEmpty, "seed \(seed), undetected: \(missed.prefix(10))")
            #expect(total == trials, "seed \(seed)")
            #expect(wrongReason.isEmpty, "seed \(seed), unexpected reasons: \(wrongReason.prefix(10))")
            #expect(missedWithoutCheckpoint.isEmpty, "seed \(seed), not detected without the checkpoint: \(missedWithoutCheckpoint.prefix(10))")
            #expect(carefulTruncations > 0, "seed \(seed): careful truncations tried")
            #expect(falseAlarms.isEmpty, "seed \(seed), untouched chain reported broken: \(falseAlarms.prefix(5))")

            // Every tampering was rolled back, the dropped triggers with it.
            for tenant in tenants {
                let report = try await log.verify(tenantID: tenant, checkpoint: checkpoints[tenant]!, on: sql)
                #expect(report.isIntact && report.eventCount == chains[tenant]!.count, "chain after the rollbacks: \(report)")
                #expect(try await Self.rows(of: tenant, on: sql) == chains[tenant]!)
                await #expect(throws: (any Error).self, "the triggers are back") {
                    try await sql.raw("DELETE FROM audit_events WHERE tenant_id = \(bind: tenant) AND seq = 1").run()
                }
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func auditEventsAreAppendOnly(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let sql = world.owner.sql
            let tenant = TestWorld.demo.tenantID
            let calls = try await Self.makeChains(world, rounds: 1)
            let before = try await Self.rows(of: tenant, on: sql)
            #expect(before.count == calls[tenant])
            let isPostgres = world.services.database.dialect == .postgres

            // As the role the service migrated with (the superuser, on the test cluster): the triggers refuse.
            var refused: [String] = []
            let attempts: [(String, SQLQueryString)] =
                [
                    ("UPDATE", "UPDATE audit_events SET actor_id = 'forged' WHERE tenant_id = \(bind: tenant) AND seq = 1"),
                    ("DELETE", "DELETE FROM audit_events WHERE tenant_id = \(bind: tenant) AND seq = \(bind: Int64(before.count))"),
                    ("DELETE all", "DELETE FROM audit_events"),
                ] + (isPostgres ? [("TRUNCATE", "TRUNCATE audit_events")] : [])
            for (name, statement) in attempts {
                do {
                    try await sql.raw(statement).run()
                    Issue.record("\(name) on audit_events was allowed")
                } catch {
                    let message = String(reflecting: error)
                    let byTrigger = isPostgres ? message.contains("append-only") : message.contains("audit_append_only")
                    #expect(byTrigger, "\(name) refused, but not by the append-only trigger: \(message)")
                    if byTrigger { refused.append(name) }
                }
            }
            #expect(try await Self.rows(of: tenant, on: sql) == before)
            let report = try await world.services.auditLog.verify(tenantID: tenant, on: sql)
            #expect(report.isIntact && report.eventCount == before.count)
            guard isPostgres else {
                print("audit append-only (\(backend.testDescription)): \(refused.joined(separator: ", ")) refused by trigger")
                return
            }

            struct Flag: Decodable { var value: Bool }
            let superuser = try await sql.raw("SELECT rolsuper AS value FROM pg_roles WHERE rolname = current_user").first(decoding: Flag.self)?.value
            var granted: [String] = []
            for privilege in ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"] {
                let has = try await sql.raw("SELECT has_table_privilege('ehr_service', 'audit_events', '\(unsafeRaw: privilege)') AS value").first(
                    decoding: Flag.self)
                if has?.value == true { granted.append(privilege) }
            }
            #expect(granted == ["SELECT", "INSERT"], "ehr_service's rights on audit_events: \(granted)")

            // As the service role: the privileges refuse before any trigger runs. Savepoints keep the transaction
            // usable after each refusal; the whole of it is rolled back.
            struct Count: Decodable { var n: Int64 }
            struct Name: Decodable { var name: String }
            let forged = before[before.count - 1].with(seq: Int64(before.count + 1))
            var roleRefusals: [String] = []
            do {
                try await world.services.database.transaction { db in
                    try await db.raw("SET ROLE ehr_service").run()
                    let role = try await db.raw("SELECT current_user AS name").first(decoding: Name.self)?.name
                    #expect(role == "ehr_service")
                    let visible = try await db.raw("SELECT count(*) AS n FROM audit_events WHERE tenant_id = \(bind: tenant)").first(decoding: Count.self)?.n
                    #expect(visible == Int64(before.count), "SELECT as ehr_service")
                    var denied: [String] = []
                    let writes: [(String, SQLQueryString)] = [
                        ("UPDATE", "UPDATE audit_events SET actor_id = 'forged' WHERE tenant_id = \(bind: tenant)"),
                        ("DELETE", "DELETE FROM audit_events WHERE tenant_id = \(bind: tenant)"),
                        ("TRUNCATE", "TRUNCATE audit_events"),
                    ]
                    for (name, statement) in writes {
                        try await db.raw("SAVEPOINT probe").run()
                        do {
                            try await db.raw(statement).run()
                            Issue.record("\(name) on audit_events allowed to ehr_service")
                        } catch {
                            let message = String(reflecting: error)
                            let byPrivilege = message.contains("permission denied for table audit_events")
                            #expect(byPrivilege, "\(name) as ehr_service refused, but not for lack of the privilege: \(message)")
                            if byPrivilege { denied.append(name) }
                        }
                        try await db.raw("ROLLBACK TO SAVEPOINT probe").run()
                    }
                    // INSERT is the one write it has (rolled back with the rest).
                    try await Step.insert(forged).apply(on: db)
                    try await db.raw("RESET ROLE").run()
                    let reset = try await db.raw("SELECT current_user AS name").first(decoding: Name.self)?.name
                    #expect(reset != "ehr_service")
                    throw RoleProbe(denied: denied)
                }
                Issue.record("the role probe committed")
            } catch let probe as RoleProbe {
                roleRefusals = probe.denied
            }
            #expect(roleRefusals == ["UPDATE", "DELETE", "TRUNCATE"])
            #expect(try await Self.rows(of: tenant, on: sql) == before)
            print(
                "audit append-only (\(backend.testDescription)): \(refused.joined(separator: ", ")) refused by trigger "
                    + "(as superuser: \(superuser.map(String.init) ?? "?")); ehr_service has \(granted.joined(separator: ", ")) only, "
                    + "\(roleRefusals.joined(separator: ", ")) refused with permission denied")
        }
    }

    /// Carries the refusals out of the role probe's transaction, rolling it back.
    struct RoleProbe: Error {
        let denied: [String]
    }
}

extension AuditRow {
    /// This row's tenant and sequence number with every other column from `other`.
    func withContent(of other: AuditRow) -> AuditRow {
        var row = other
        row.tenant_id = tenant_id
        row.seq = seq
        return row
    }

    /// The same row under another sequence number.
    func with(seq: Int64) -> AuditRow {
        var row = self
        row.seq = seq
        return row
    }
}
