import EHRDomain
import EHRPersistence
import EHRSecurity
import Foundation

/// A practice-level operation's failure, worded for the command line.
public struct ComplianceOperationError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// Operator actions on a practice's audit chain and keys, used by `ehr audit …`, `ehr keys …` and
/// `ehr tenant shred`. Key operations are themselves audited (actor `system:cli`).
extension AppServices {
    /// The practice with this slug.
    public func practice(slug: String) async throws -> Tenant {
        guard let tenant = try await store.find(slug: slug.lowercased()) else {
            throw ComplianceOperationError(description: "no practice with slug '\(slug)'")
        }
        return tenant
    }

    /// Every practice, for `ehr audit verify` without `--tenant`.
    public func allPractices() async throws -> [Tenant] {
        try await store.allTenants()
    }

    /// Walks the practice's chain (against `checkpoint` when given).
    public func verifyAudit(of tenant: Tenant, checkpoint: AuditCheckpoint? = nil) async throws -> AuditChainReport {
        if let checkpoint, checkpoint.tenantID != tenant.id.wire {
            throw ComplianceOperationError(description: "the checkpoint belongs to another practice")
        }
        return try await auditLog.verify(tenantID: tenant.id, checkpoint: checkpoint, in: database)
    }

    /// A signed head of the practice's chain to keep outside the database. Refused for a broken chain.
    public func auditCheckpoint(of tenant: Tenant) async throws -> AuditCheckpoint {
        do {
            return try await auditLog.checkpoint(tenantID: tenant.id, in: database)
        } catch let broken as AuditBreak {
            throw ComplianceOperationError(description: "the chain is broken (\(AuditBreakDescription.text(broken.reason))); no checkpoint issued")
        }
    }

    /// Creates a new data-key version for the practice and re-encrypts its rows in batches while the
    /// service keeps serving. Rows under the old version keep decrypting until they are moved.
    /// - Parameter settle: seconds to wait for other processes' key caches before the final pass (default: cache lifetime + 1).
    /// - Returns: the new version and the number of rows moved.
    public func rotateKeys(of tenant: Tenant, settle: TimeInterval? = nil) async throws -> (version: Int, rows: Int) {
        let version = try await vault.addDataKeyVersion(for: tenant.id)
        let rows = try await keyMaintenance.reencryptTenant(tenant.id, settle: settle)
        try await recordSystemEvent(tenant, action: "keys.rotate", detail: "data key version \(version); \(rows) rows re-encrypted")
        return (version, rows)
    }

    /// Destroys every key of the practice (crypto-shredding): its encrypted data becomes unreadable for good.
    /// The practice is marked shredded (it never gets new keys), its sessions end, and the audit chain,
    /// which holds no PHI, is kept and records the shredding.
    public func shredPractice(_ tenant: Tenant) async throws {
        try await database.transaction { db in
            try await db.raw("UPDATE tenants SET shredded_at = \(bind: millisecondPrecision(Date())) WHERE id = \(bind: tenant.id)").run()
            try await db.raw(
                "UPDATE refresh_tokens SET revoked_at = \(bind: millisecondPrecision(Date())) WHERE tenant_id = \(bind: tenant.id) AND revoked_at IS NULL"
            ).run()
        }
        try await vault.destroyKeys(for: tenant.id)
        try await recordSystemEvent(tenant, action: "keys.shred", detail: "all data and index keys destroyed")
    }

    private func recordSystemEvent(_ tenant: Tenant, action: String, detail: String) async throws {
        let draft = AuditEventDraft(
            tenantID: tenant.id, actorID: "system:cli", actorRole: "system", action: action, resourceType: "keys",
            outcome: .allowed, requestID: UUID().lowercasedString, clientIP: nil,
            userAgent: "ehr-cli", detail: detail)
        let log = auditLog
        try await database.transaction { db in try await log.append([draft], on: db) }
        // On the chain before the command exits, not whenever a server next seals the inbox.
        try await log.sealPending(in: database)
    }
}
