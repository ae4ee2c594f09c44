import Crypto
import EHRDomain
import EHRSecurity
import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import SQLKit

/// PostgreSQL's two steps of an append (see ``PostgresAuditInbox``): events go durably into `audit_inbox`
/// before anyone is answered, each with a MAC under the audit key, and ``sealPending(in:)`` moves them onto
/// their practices' chains in batches: one sealer at a time across every instance (an advisory lock), in the
/// order they arrived. Anything that reads the chain (lists, verification, checkpoints) seals first, so it
/// never sees less than what was recorded.
extension AuditLog {
    /// Events sealed per transaction.
    static let sealBatch = 500
    /// The advisory lock that makes one sealer at a time (across instances) work on the inbox.
    public static let sealerLock: Int64 = 0x6568_725F_6175_6469  // "ehr_audi"

    /// Inserts `drafts` into the inbox in one statement on `connection` (inside the caller's transaction, if any).
    func enqueue(_ drafts: [AuditEventDraft], on connection: PostgresConnection, logger: Logger) async throws {
        guard !drafts.isEmpty else { return }
        for start in stride(from: 0, to: drafts.count, by: Self.maximumBatch) {
            let insert = inboxInsert(drafts[start..<min(start + Self.maximumBatch, drafts.count)])
            if insert.records.count == 1 {
                for try await _ in try await connection.execute(AuditPostgres.InsertOneInbox(event: insert), logger: logger) {}
            } else {
                for try await _ in try await connection.execute(insert, logger: logger) {}
            }
        }
        didEnqueue(drafts.count)
    }

    /// The inbox insert of `drafts` (at most ``maximumBatch``), each with its MAC, for a statement of its own or
    /// one that writes a change and its event together (``InsertNoteAudited``).
    func inboxInsert(_ drafts: some Collection<AuditEventDraft>) -> AuditPostgres.InsertInbox {
        let records = drafts.map(Self.record)
        return AuditPostgres.InsertInbox(
            tenantIDs: drafts.map(\.tenantID), records: records, changedFields: records.map(Self.changedFieldsText),
            patientLists: records.map(Self.patientsText), macs: records.map { inboxMAC($0).hexString })
    }

    /// Counts events put in the inbox, so the sealer seals soon (see ``enqueuedSinceSeal``).
    func didEnqueue(_ count: Int) {
        enqueued.withLockedValue { $0 += count }
    }

    /// Inserts `drafts` into the inbox as one statement of its own (atomic, durable at its commit), on a
    /// connection in the narrowest scope that may write them all: their practice when there is one.
    public func enqueue(_ drafts: [AuditEventDraft], in database: EHRDatabase) async throws {
        let tenants = Set(drafts.map(\.tenantID))
        let scope: DatabaseScope = tenants.count == 1 ? .tenant(tenants.first!) : .system(.auditWriter)
        _ = try await DatabaseScope.$current.withValue(scope) {
            try await database.withScopedConnection { connection, logger in try await self.enqueue(drafts, on: connection, logger: logger) }
        }
    }

    /// Events this process put in the inbox (SQLite: chained with listed patients) since it last sealed (a hint
    /// for the sealer; other instances' events are found by its periodic pass).
    public var enqueuedSinceSeal: Int { enqueued.withLockedValue { $0 } }

    /// Seals everything in the inbox onto the chains; returns how many events were sealed. SQLite seals on
    /// append; there it indexes the listed patients of the events chained since the last pass instead (see
    /// ``indexListedPatients(in:)``) and returns how many events it indexed.
    @discardableResult
    public func sealPending(in database: EHRDatabase) async throws -> Int {
        let started = ContinuousClock.now
        defer { BackgroundWorkMetrics.sealPass(since: started) }
        enqueued.withLockedValue { $0 = 0 }
        guard dialect == .postgres else { return try await indexListedPatients(in: database) }
        var total = 0
        let giveUp = ContinuousClock.now + .seconds(120)
        while true {
            let sealed = try await DatabaseScope.system(.auditWriter) {
                try await database.transaction { db in
                    let postgres = db as! any PostgresDatabase
                    return try await self.sealBatch(on: try await EHRDatabase.postgresConnection(of: postgres), logger: postgres.logger)
                }
            }
            guard let sealed else {
                // Another sealer holds the lock. Waiting outside a transaction holds no connection (and no
                // statement deadline runs out) while it works; then this caller seals what is left.
                if ContinuousClock.now > giveUp { throw StorageError.unavailable }
                try await Task.sleep(for: .milliseconds(10))
                continue
            }
            total += sealed
            if sealed < Self.sealBatch { return total }
        }
    }

    /// Inbox rows that name no practice: never chained (``AuditPostgres/TakeInbox`` leaves them), so only a row made
    /// by hand in the database can be one. 0 on SQLite, which has no inbox.
    public func strandedInboxRows(in database: EHRDatabase) async throws -> Int {
        guard dialect == .postgres else { return 0 }
        let count = try await DatabaseScope.system(.auditWriter) {
            try await database.withScopedConnection { connection, logger in
                var count: Int64 = 0
                for try await row in try await connection.execute(AuditPostgres.CountStranded(), logger: logger) { count = row }
                return count
            }
        }
        return Int(count ?? 0)
    }

    /// One batch: take the sealer lock (nil when another sealer holds it), take the oldest inbox rows, seal them
    /// onto their chains.
    private func sealBatch(on connection: PostgresConnection, logger: Logger) async throws -> Int? {
        let locked = try await connection.query("SELECT pg_try_advisory_xact_lock(\(Self.sealerLock))", logger: logger).collect()
        guard try locked.first?.decode(Bool.self) == true else { return nil }
        var rows: [AuditPostgres.InboxRow] = []
        for try await row in try await connection.execute(AuditPostgres.TakeInbox(limit: Self.sealBatch), logger: logger) { rows.append(row) }
        guard !rows.isEmpty else { return 0 }
        rows.sort { $0.id < $1.id }
        let tenants = Array(Set(rows.map(\.tenantID))).sorted { $0.lowercasedString < $1.lowercasedString }
        let records = rows.map { row in authentic(row, logger: logger) }
        try await seal(records, tenantIDs: rows.map(\.tenantID), tenants: tenants, on: connection, logger: logger)
        return rows.count
    }

    /// The inbox row as a record to seal, or, when its MAC is not the audit key's (a row forged or edited in
    /// the inbox), an event saying so in its place.
    private func authentic(_ row: AuditPostgres.InboxRow, logger: Logger) -> AuditRecord {
        let fields = Self.stringArray(row.changedFields)
        let patients = row.patientIDs.map(Self.stringArray) ?? []
        if let fields, let patients {
            let record = AuditRecord(
                tenantID: row.tenantID.lowercasedString, actorID: row.actorID, actorRole: row.actorRole, action: row.action,
                resourceType: row.resourceType, resourceID: row.resourceID, patientID: row.patientID, outcome: row.outcome,
                requestID: row.requestID, clientIP: row.clientIP, userAgent: row.userAgent, timeMillis: row.occurredMillis,
                changedFields: fields, detail: row.detail, patientIDs: patients)
            if let mac = Data(hexString: row.mac), Self.constantTimeEqual(mac, inboxMAC(record)) { return record }
        }
        logger.error("audit inbox row failed its MAC; chained as a tampering event", metadata: ["audit.inbox.id": "\(row.id)"])
        return AuditRecord(
            tenantID: row.tenantID.lowercasedString, actorID: "system:audit-sealer", actorRole: "system", action: "audit.inbox_tampered",
            resourceType: "audit_inbox", resourceID: String(row.id), outcome: AuditOutcome.error.rawValue, requestID: "inbox-\(row.id)",
            timeMillis: Self.millis(Date()), detail: "an inbox row failed its MAC and was not chained as written")
    }

    /// The MAC an inbox row carries: the record sealed as if it were the first of its chain.
    func inboxMAC(_ record: AuditRecord) -> Data {
        AuditChain.seal(record, previousSequence: 0, previousHash: AuditChain.genesisHash, macKey: macKey).mac
    }

    private static func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
