import EHRDomain
import EHRSecurity
import Foundation
import SQLKit

/// Re-encryption of a tenant's rows, in batches, while the service keeps serving: after a rotation
/// (rows under older key versions move to the current one) and at upgrade (rows written before
/// encryption, `key_version = 0`, are sealed and get their blind indexes).
public struct KeyMaintenance: Sendable {
    let database: EHRDatabase
    let vault: KeyVault
    /// Rows per batch (one short transaction each).
    public var batchSize = 200

    public init(database: EHRDatabase, vault: KeyVault) {
        self.database = database
        self.vault = vault
    }

    /// A table with sealed columns, and the blind indexes to compute when sealing plaintext of an old row.
    struct SealedTable: Sendable {
        var name: String
        var columns: [String]
        var indexes: @Sendable ([String: Data], TenantKeys) -> [String: String?]
    }

    static let tables: [SealedTable] = [
        SealedTable(name: "users", columns: ["email", "display_name"]) { plain, keys in
            ["email_bidx": plain["email"].map { SealedUser.index(String(decoding: $0, as: UTF8.self), keys) }]
        },
        SealedTable(
            name: "patients", columns: ["first_name", "last_name", "date_of_birth", "email", "phone", "address", "emergency_contact", "discharge_reason"]
        ) { plain, keys in
            func text(_ c: String) -> String? { plain[c].map { String(decoding: $0, as: UTF8.self) } }
            var indexes: [String: String?] = [
                "email_bidx": text("email").map { PatientSearchIndex.email($0, keys) },
                "phone_bidx": text("phone").map { PatientSearchIndex.phone($0, keys) },
            ]
            if let last = text("last_name"), let dob = text("date_of_birth").flatMap(CalendarDate.init(iso:)) {
                indexes["name_dob_bidx"] = PatientSearchIndex.nameAndBirthDate(last, dob, keys)
            }
            return indexes
        },
        SealedTable(name: "appointments", columns: ["reason", "cancellation_reason"]) { _, _ in [:] },
        SealedTable(name: "clinical_notes", columns: ["sections", "void_reason"]) { _, _ in [:] },
        SealedTable(name: "note_addenda", columns: ["text"]) { _, _ in [:] },
        SealedTable(name: "break_glass_grants", columns: ["reason"]) { _, _ in [:] },
        SealedTable(name: "messages", columns: ["body"]) { _, _ in [:] },
    ]

    /// Moves every row of the tenant to the current key version, batch after batch until none is left;
    /// then waits `settle` seconds (default: the key cache lifetime, so every server has picked up the new
    /// version) and moves any row written meanwhile under the old one.
    /// - Returns: rows re-encrypted.
    @discardableResult
    public func reencryptTenant(_ tenantID: UUID, settle: TimeInterval? = nil) async throws -> Int {
        var total = try await drain(tenantID)
        let wait = settle ?? vault.cacheLifetime + 1
        if wait > 0 {
            try await Task.sleep(for: .seconds(wait))
            total += try await drain(tenantID)
        }
        return total
    }

    private func drain(_ tenantID: UUID) async throws -> Int {
        var total = 0
        while true {
            let moved = try await reencryptBatch(tenantID)
            if moved == 0 { return total }
            total += moved
        }
    }

    /// Rows of the tenant not yet under the current key version.
    public func remainingRows(_ tenantID: UUID) async throws -> Int {
        struct Count: Decodable { var n: Int }
        let current = try await vault.reload(tenantID).currentVersion
        var total = 0
        for table in Self.tables {
            total +=
                try await database.sql.raw(
                    """
                    SELECT COUNT(*) AS n FROM \(unsafeRaw: table.name) WHERE tenant_id = \(bind: tenantID) AND key_version < \(bind: current)
                    """
                ).first(decoding: Count.self)?.n ?? 0
        }
        return total
    }

    /// Re-encrypts up to ``batchSize`` rows per table; returns how many moved.
    func reencryptBatch(_ tenantID: UUID) async throws -> Int {
        let keys = try await vault.keys(for: tenantID)
        let current = keys.currentVersion
        var moved = 0
        for table in Self.tables {
            let select: SQLQueryString = """
                SELECT id, key_version, \(unsafeRaw: table.columns.joined(separator: ", ")) FROM \(unsafeRaw: table.name)
                WHERE tenant_id = \(bind: tenantID) AND key_version < \(bind: current) ORDER BY id LIMIT \(literal: batchSize)
                """
            let rows = try await database.sql.raw(select).all()
            guard !rows.isEmpty else { continue }
            var updates: [SQLQueryString] = []
            for row in rows {
                let id = try row.decode(column: "id", as: UUID.self)
                let version = try row.decode(column: "key_version", as: Int.self)
                var plain: [String: Data] = [:]
                var update: SQLQueryString = "UPDATE \(unsafeRaw: table.name) SET key_version = \(bind: current)"
                for column in table.columns {
                    guard let stored = try row.decodeNil(column: column) ? nil : row.decode(column: column, as: String.self) else {
                        continue
                    }
                    let context = keys.context(table.name, column, id)
                    let bytes: Data
                    if version == 0 {
                        bytes = Data(stored.utf8)
                    } else {
                        do { bytes = try keys.cipher.decrypt(stored, context: context) } catch let error as FieldCipherError {
                            throw StorageError.undecryptable("\(table.name).\(column)", error)
                        }
                    }
                    plain[column] = bytes
                    update += ", \(unsafeRaw: column) = \(bind: try keys.cipher.encrypt(bytes, context: context))"
                }
                if version == 0 {
                    for (column, value) in table.indexes(plain, keys) { update += ", \(unsafeRaw: column) = \(bind: value)" }
                }
                // Only if nobody rewrote the row meanwhile (a request writes it under the current version anyway).
                update += " WHERE tenant_id = \(bind: tenantID) AND id = \(bind: id) AND key_version = \(bind: version)"
                updates.append(update)
            }
            // One short transaction per batch: row locks are held for milliseconds, and a batch is all or nothing.
            try await database.transaction { [updates] db in
                for update in updates { try await db.raw(update).run() }
            }
            moved += updates.count
        }
        return moved
    }

    /// Gives every tenant that has no keys (created before encryption) its keys, unless it was shredded,
    /// and seals its rows. Run at start-up, after migrations.
    public func encryptLegacyTenants() async throws {
        struct Row: Decodable { var id: UUID }
        let tenants = try await database.sql.raw(
            """
            SELECT id FROM tenants t WHERE shredded_at IS NULL AND NOT EXISTS (SELECT 1 FROM tenant_keys k WHERE k.tenant_id = t.id)
            """
        ).all(decoding: Row.self)
        for tenant in tenants {
            try await database.transaction { [vault] db in try await vault.createKeys(for: tenant.id, on: db) }
            try await reencryptTenant(tenant.id, settle: 0)
        }
    }
}
