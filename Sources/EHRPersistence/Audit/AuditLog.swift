import Crypto
import EHRDomain
import EHRSecurity
import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import SQLKit

/// The tamper-evident audit log: appends events to their tenant's hash chain (sealed with the audit key,
/// which is never stored in the database), lists them for admins, and verifies chains.
public final class AuditLog: Sendable {
    let dialect: SQLDialectKind
    let key: SymmetricKey
    /// The key made ready for the MAC of every event sealed or put in the inbox.
    let macKey: AuditMACKey
    /// Events per multi-row INSERT (keeps within both drivers' bind-parameter limits).
    static let maximumBatch = 500

    /// Events this process put in the PostgreSQL inbox, or chained with listed patients in SQLite, since its last
    /// seal (see ``enqueuedSinceSeal``).
    let enqueued = NIOLockedValueBox(0)

    /// SQLite: the chain heads this process last wrote outside a caller's transaction (see ``appendAlone(_:in:)``).
    /// Only a guess: the database checks every event against the real head.
    private let knownHeads = NIOLockedValueBox<[UUID: Head]>([:])
    private let headTriggers = NIOLockedValueBox<Bool?>(nil)

    public init(dialect: SQLDialectKind, key: SymmetricKey) {
        self.dialect = dialect
        self.key = key
        self.macKey = AuditMACKey(key)
    }

    /// Records `drafts` durably with the caller's transaction. SQLite seals them onto their practices' chains at
    /// once (it has one writer); PostgreSQL puts them in the inbox, for ``sealPending(in:)`` (see ``PostgresAuditInbox``).
    public func append(_ drafts: [AuditEventDraft], on db: any SQLDatabase) async throws {
        _ = try await appendReturningHeads(drafts, on: db)
    }

    /// ``append(_:on:)``, returning SQLite's new chain heads (empty on PostgreSQL).
    private func appendReturningHeads(_ drafts: [AuditEventDraft], on db: any SQLDatabase) async throws -> [UUID: Head] {
        var heads: [UUID: Head] = [:]
        for start in stride(from: 0, to: drafts.count, by: Self.maximumBatch) {
            heads.merge(try await appendBatch(Array(drafts[start..<min(start + Self.maximumBatch, drafts.count)]), on: db)) { $1 }
        }
        return heads
    }

    /// A chain's newest link, as `audit_heads` keeps it.
    typealias Head = (seq: Int64, hash: String)

    private func appendBatch(_ drafts: [AuditEventDraft], on db: any SQLDatabase) async throws -> [UUID: Head] {
        if dialect == .postgres, let postgres = db as? any PostgresDatabase {
            let logger = postgres.logger
            try await postgres.withConnection { connection in
                connection.eventLoop.makeFutureWithTask { try await self.enqueue(drafts, on: connection, logger: logger) }
            }.get()
            return [:]
        }
        let tenants = Array(Set(drafts.map(\.tenantID))).sorted { $0.lowercasedString < $1.lowercasedString }
        struct HeadRow: Decodable {
            var tenant_id: UUID
            var seq: Int64
            var hash: String
        }
        let selectHeads: SQLQueryString = "SELECT tenant_id, seq, hash FROM audit_heads WHERE tenant_id IN (\(binds: tenants))"
        var heads = try await db.raw(selectHeads).all(decoding: HeadRow.self)
        if heads.count < tenants.count {
            try await createHeads(tenants.filter { tenant in !heads.contains { $0.tenant_id == tenant } }, on: db)
            heads = try await db.raw(selectHeads).all(decoding: HeadRow.self)
        }
        let (sealed, chain) = try seal(drafts.map(Self.record), tenantIDs: drafts.map(\.tenantID), heads: heads.map { ($0.tenant_id, $0.seq, $0.hash) })
        // The heads move with the events (SQLiteAuditHeadTriggers). Remembered heads are forgotten: this may be
        // the caller's transaction, which can still roll back.
        knownHeads.withLockedValue { known in for tenant in tenants { known[tenant] = nil } }
        try await db.raw(Self.sqliteInsert(sealed, tenantIDs: drafts.map(\.tenantID))).run()
        noteListedPatients(drafts)
        // The same values again where the triggers moved the heads; the only move on a database not yet migrated.
        for tenant in tenants {
            let head = chain[tenant]!
            try await db.raw("UPDATE audit_heads SET seq = \(bind: Int64(head.seq)), hash = \(bind: head.hash.hexString) WHERE tenant_id = \(bind: tenant)")
                .run()
        }
        return chain.mapValues { (Int64($0.seq), $0.hash.hexString) }
    }

    /// SQLite: appends `drafts` (one flush of the audit writer) in a statement of its own, sealed on the heads this
    /// process last wrote: one round trip to the writer instead of five (a transaction that reads and moves the
    /// heads). The database accepts the events only as the next links of their chains (SQLiteAuditHeadTriggers);
    /// when a head is unknown or moved meanwhile, nothing was written and the events go through a transaction
    /// that reads the heads.
    public func appendAlone(_ drafts: [AuditEventDraft], in database: EHRDatabase) async throws {
        guard !drafts.isEmpty else { return }
        let tenantIDs = drafts.map(\.tenantID)
        let tenants = Set(tenantIDs)
        let remembered = knownHeads.withLockedValue { known in tenants.compactMap { tenant in known[tenant].map { (tenant, $0.seq, $0.hash) } } }
        if dialect == .sqlite, drafts.count <= Self.maximumBatch, remembered.count == tenants.count,
            try await headTriggersInstalled(in: database)
        {
            let (sealed, chain) = try seal(drafts.map(Self.record), tenantIDs: tenantIDs, heads: remembered)
            do {
                try await DatabaseScope.system(.auditWriter) { try await database.sql.raw(Self.sqliteInsert(sealed, tenantIDs: tenantIDs)).run() }
                noteListedPatients(drafts)
                remember(chain.mapValues { (Int64($0.seq), $0.hash.hexString) })
                return
            } catch {
                // A head moved (or the statement failed otherwise): the transaction below reads the heads, or fails too.
                knownHeads.withLockedValue { known in for tenant in tenants { known[tenant] = nil } }
            }
        }
        let heads = try await DatabaseScope.system(.auditWriter) {
            try await database.transaction { db in try await self.appendReturningHeads(drafts, on: db) }
        }
        remember(heads)
    }

    /// Whether the database moves and checks the heads itself (SQLiteAuditHeadTriggers has run); asked once.
    private func headTriggersInstalled(in database: EHRDatabase) async throws -> Bool {
        if let known = headTriggers.withLockedValue({ $0 }) { return known }
        struct Row: Decodable { var count: Int }
        let row = try await DatabaseScope.system(.auditWriter) {
            try await database.sql.raw(
                "SELECT count(*) AS count FROM sqlite_master WHERE type = 'trigger' AND name IN ('audit_events_extend_head', 'audit_events_move_head')"
            ).first(decoding: Row.self)
        }
        let installed = row?.count == 2
        headTriggers.withLockedValue { $0 = installed }
        return installed
    }

    private func remember(_ heads: [UUID: Head]) {
        knownHeads.withLockedValue { known in
            if known.count > 10_000 { known.removeAll() }
            for (tenant, head) in heads { known[tenant] = head }
        }
    }

    /// The access-log index of listed patients is filled later, in batches (see SQLiteDeferredAccessIndex).
    private func noteListedPatients(_ drafts: [AuditEventDraft]) {
        if drafts.contains(where: { !$0.patientIDs.isEmpty }) { enqueued.withLockedValue { $0 += drafts.count } }
    }

    /// One multi-row INSERT of sealed events (SQLite).
    private static func sqliteInsert(_ sealed: [AuditRecord], tenantIDs: [UUID]) -> SQLQueryString {
        var insert: SQLQueryString = """
            INSERT INTO audit_events (tenant_id, seq, occurred_ms, actor_id, actor_role, action, resource_type, resource_id, patient_id,
                outcome, request_id, client_ip, user_agent, changed_fields, detail, patient_ids, prev_hash, hash, mac) VALUES
            """
        for (i, (r, tenantID)) in zip(sealed, tenantIDs).enumerated() {
            insert += (i == 0 ? " " : ", ") as SQLQueryString
            insert += """
                (\(bind: tenantID), \(bind: Int64(r.sequence)), \(bind: r.timeMillis), \(bind: r.actorID), \(bind: r.actorRole),
                \(bind: r.action), \(bind: r.resourceType), \(bind: r.resourceID), \(bind: r.patientID), \(bind: r.outcome),
                \(bind: r.requestID), \(bind: r.clientIP), \(bind: r.userAgent), \(bind: Self.changedFieldsText(r)), \(bind: r.detail),
                \(bind: Self.patientsText(r)), \(bind: r.prevHash.hexString), \(bind: r.hash.hexString), \(bind: r.mac.hexString))
                """
        }
        return insert
    }

    /// PostgreSQL: lock the heads, seal, and write everything in one more round trip (see ``AuditPostgres``).
    /// `tenantIDs` are the records' practices in order, `tenants` the same set sorted (the order heads are locked in).
    func seal(_ records: [AuditRecord], tenantIDs: [UUID], tenants: [UUID], on connection: PostgresConnection, logger: Logger) async throws {
        func lockHeads() async throws -> [(UUID, Int64, String)] {
            var heads: [(UUID, Int64, String)] = []
            for try await head in try await connection.execute(AuditPostgres.LockHeads(tenants: tenants), logger: logger) { heads.append(head) }
            return heads
        }
        var heads = try await lockHeads()
        if heads.count < tenants.count {
            try await createHeads(tenants.filter { tenant in !heads.contains { $0.0 == tenant } }, on: connection.sql())
            heads = try await lockHeads()
        }
        let (sealed, chain) = try seal(records, tenantIDs: tenantIDs, heads: heads)
        let insert = AuditPostgres.InsertBatch(
            records: sealed, tenantIDs: tenantIDs,
            heads: tenants.map { tenant in (tenant, Int64(chain[tenant]!.seq), chain[tenant]!.hash.hexString) },
            changedFields: sealed.map(Self.changedFieldsText), patientLists: sealed.map(Self.patientsText))
        for try await _ in try await connection.execute(insert, logger: logger) {}
    }

    /// A practice's first event: create its head (racing creators are fine), then lock as usual.
    private func createHeads(_ tenants: [UUID], on db: any SQLDatabase) async throws {
        for tenant in tenants {
            try await db.raw(
                """
                INSERT INTO audit_heads (tenant_id, seq, hash) VALUES (\(bind: tenant), 0, \(bind: AuditChain.genesisHash.hexString))
                ON CONFLICT (tenant_id) DO NOTHING
                """
            ).run()
        }
    }

    /// Seals `records` (of the practices `tenantIDs`, in order) onto the chains whose heads are given; returns
    /// the sealed records and the new heads.
    private func seal(_ records: [AuditRecord], tenantIDs: [UUID], heads: [(UUID, Int64, String)]) throws -> (
        [AuditRecord], [UUID: (seq: UInt64, hash: Data)]
    ) {
        var chain: [UUID: (seq: UInt64, hash: Data)] = [:]
        for (tenant, seq, hashText) in heads {
            guard let hash = Data(hexString: hashText) else { throw StorageError.corrupt("audit_heads.hash") }
            chain[tenant] = (UInt64(seq), hash)
        }
        var sealed: [AuditRecord] = []
        sealed.reserveCapacity(records.count)
        for (record, tenant) in zip(records, tenantIDs) {
            guard let previous = chain[tenant] else { throw StorageError.corrupt("audit_heads") }
            let record = AuditChain.seal(record, previousSequence: previous.seq, previousHash: previous.hash, macKey: macKey)
            chain[tenant] = (record.sequence, record.hash)
            sealed.append(record)
        }
        return (sealed, chain)
    }

    static func changedFieldsText(_ r: AuditRecord) -> String { jsonArray(r.changedFields) }

    static func patientsText(_ r: AuditRecord) -> String? { r.patientIDs.isEmpty ? nil : jsonArray(r.patientIDs) }

    /// A JSON array of strings as Foundation's default `JSONEncoder` writes it (``EncoderJSON``).
    static func jsonArray(_ values: [String]) -> String { EncoderJSON.array(values) }

    /// Reads a JSON array of strings. The form ``jsonArray(_:)`` writes for plain values (no escapes, no spaces) is
    /// split directly; anything else goes through `JSONDecoder`, so every JSON array of strings reads as it did and
    /// nothing else reads at all. (The sealer reads two per event; a decoder each was its largest single cost.)
    static func stringArray(_ text: String) -> [String]? {
        let direct = text.utf8.withContiguousStorageIfAvailable { bytes -> [String]? in
            let quote = UInt8(ascii: "\"")
            let comma = UInt8(ascii: ",")
            let close = UInt8(ascii: "]")
            guard bytes.count >= 2, bytes[0] == UInt8(ascii: "["), bytes[bytes.count - 1] == close else { return nil }
            var values: [String] = []
            var i = 1
            if bytes[i] == close { return i == bytes.count - 1 ? values : nil }
            while i < bytes.count {
                guard bytes[i] == quote else { return nil }
                let start = i + 1
                var end = start
                while end < bytes.count, bytes[end] != quote {
                    if bytes[end] == UInt8(ascii: "\\") || bytes[end] < 0x20 { return nil }
                    end += 1
                }
                guard end < bytes.count - 1 else { return nil }
                values.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self))
                i = end + 1
                if bytes[i] == close { return i == bytes.count - 1 ? values : nil }
                guard bytes[i] == comma else { return nil }
                i += 1
            }
            return nil
        }
        if let direct, let values = direct { return values }
        return try? JSONDecoder().decode([String].self, from: Data(text.utf8))
    }

    /// The chain record for a draft (identifiers as lower-case text, time in milliseconds).
    static func record(_ d: AuditEventDraft) -> AuditRecord {
        AuditRecord(
            tenantID: d.tenantID.lowercasedString, actorID: d.actorID, actorRole: d.actorRole, action: d.action,
            resourceType: d.resourceType, resourceID: d.resourceID, patientID: d.patientID?.lowercasedString,
            outcome: d.outcome.rawValue, requestID: d.requestID, clientIP: d.clientIP, userAgent: d.userAgent,
            timeMillis: Int64((d.occurredAt.timeIntervalSince1970 * 1000).rounded()), changedFields: d.changedFields, detail: d.detail,
            patientIDs: d.patientIDs.map { $0.lowercasedString }.sorted())
    }
}

/// One stored row of `audit_events`.
struct AuditRow: Decodable, Sendable, Hashable {
    var tenant_id: UUID
    var seq: Int64
    var occurred_ms: Int64
    var actor_id: String
    var actor_role: String
    var action: String
    var resource_type: String
    var resource_id: String?
    var patient_id: String?
    var outcome: String
    var request_id: String
    var client_ip: String?
    var user_agent: String?
    var changed_fields: String
    var detail: String?
    var patient_ids: String?
    var prev_hash: String
    var hash: String
    var mac: String

    /// The chained list of patients (empty when none); nil when the stored text is not a list of strings.
    var patientIDs: [String]? {
        guard let patient_ids else { return [] }
        return AuditLog.stringArray(patient_ids)
    }

    /// The row as a chain record. Unreadable hex becomes empty values and unreadable JSON an empty hash, which
    /// verification then reports as an edited or forged event (never silently as some other valid value).
    var record: AuditRecord {
        let fields = AuditLog.stringArray(changed_fields)
        let patients = patientIDs
        return AuditRecord(
            sequence: UInt64(clamping: seq), tenantID: tenant_id.lowercasedString, actorID: actor_id, actorRole: actor_role,
            action: action, resourceType: resource_type, resourceID: resource_id, patientID: patient_id, outcome: outcome,
            requestID: request_id, clientIP: client_ip, userAgent: user_agent, timeMillis: occurred_ms,
            changedFields: fields ?? [], detail: detail, patientIDs: patients ?? [],
            prevHash: Data(hexString: prev_hash) ?? Data(), hash: fields == nil || patients == nil ? Data() : Data(hexString: hash) ?? Data(),
            mac: Data(hexString: mac) ?? Data())
    }

    var event: AuditEvent {
        AuditEvent(
            sequence: seq,
            draft: AuditEventDraft(
                tenantID: tenant_id, actorID: actor_id, actorRole: actor_role, action: action, resourceType: resource_type,
                resourceID: resource_id, patientID: patient_id.flatMap(UUID.init(uuidString:)), outcome: AuditOutcome(rawValue: outcome) ?? .error,
                requestID: request_id, clientIP: client_ip, userAgent: user_agent,
                occurredAt: Date(timeIntervalSince1970: Double(occurred_ms) / 1000),
                changedFields: AuditLog.stringArray(changed_fields) ?? [], detail: detail,
                patientIDs: (patientIDs ?? []).compactMap(UUID.init(uuidString:))))
    }
}
