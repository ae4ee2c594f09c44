import EHRDomain
import Foundation
import SQLKit

struct GrantRow: Decodable {
    var id: UUID
    var tenant_id: UUID
    var user_id: UUID
    var note_id: UUID
    var patient_id: UUID
    var reason: String
    var granted_at: Date
    var expires_at: Date

    func grant(_ keys: TenantKeys) throws -> BreakGlassGrant {
        BreakGlassGrant(
            id: id, tenantID: tenant_id, userID: user_id, noteID: note_id, patientID: patient_id,
            reason: try keys.open(reason, "break_glass_grants", "reason", row: id), grantedAt: granted_at, expiresAt: expires_at)
    }
}

extension SQLStore {
    /// Stores a grant (its reason sealed like any clinical text) with the request's audit event.
    public func createGrant(_ grant: BreakGlassGrant) async throws {
        let keys = try await vault.keys(for: grant.tenantID)
        let reason = try keys.seal(grant.reason, "break_glass_grants", "reason", row: grant.id)
        try await write { db in
            try await db.raw(
                """
                INSERT INTO break_glass_grants (id, tenant_id, user_id, note_id, patient_id, reason, granted_at, expires_at, key_version)
                VALUES (\(bind: grant.id), \(bind: grant.tenantID), \(bind: grant.userID), \(bind: grant.noteID), \(bind: grant.patientID),
                    \(bind: reason), \(bind: millisecondPrecision(grant.grantedAt)), \(bind: millisecondPrecision(grant.expiresAt)),
                    \(bind: keys.currentVersion))
                """
            ).run()
        }
    }

    /// The caller's unexpired grant for the note, if any.
    public func activeGrant(userID: UUID, noteID: UUID, tenantID: UUID, at now: Date) async throws -> BreakGlassGrant? {
        guard
            let row = try await sql.raw(
                """
                SELECT * FROM break_glass_grants
                WHERE tenant_id = \(bind: tenantID) AND user_id = \(bind: userID) AND note_id = \(bind: noteID) AND expires_at > \(bind: now)
                ORDER BY expires_at DESC LIMIT 1
                """
            ).first(decoding: GrantRow.self)
        else { return nil }
        return try await opening(tenantID) { try row.grant($0) }
    }

    /// Every grant on the patient's notes, newest first (for the patient's access log).
    public func grants(patientID: UUID, tenantID: UUID) async throws -> [BreakGlassGrant] {
        let rows = try await sql.raw(
            """
            SELECT * FROM break_glass_grants WHERE tenant_id = \(bind: tenantID) AND patient_id = \(bind: patientID) ORDER BY granted_at DESC
            """
        ).all(decoding: GrantRow.self)
        return try await opening(tenantID) { keys in try rows.map { try $0.grant(keys) } }
    }
}
