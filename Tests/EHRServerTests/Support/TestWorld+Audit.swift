import EHRDomain
import Foundation
import SQLKit

@testable import EHRServer

extension TestWorld {
    /// One stored audit event, the columns tests look at.
    struct StoredEvent: Decodable, Sendable {
        var tenant_id: UUID
        var seq: Int64
        var actor_id: String
        var action: String
        var outcome: String
        var patient_id: String?
        var patient_ids: String?
        var client_ip: String?
        var detail: String?
        var request_id: String
    }

    /// Seals PostgreSQL's audit inbox, so the chain holds every event recorded so far (a no-op on SQLite).
    func sealAudit() async throws {
        try await services.auditLog.sealPending(in: services.database)
    }

    /// Every audit event of every practice, oldest first per practice (after sealing the inbox).
    func storedEvents() async throws -> [StoredEvent] {
        try await sealAudit()
        return try await services.database.sql.raw(
            """
            SELECT tenant_id, seq, actor_id, action, outcome, patient_id, patient_ids, client_ip, detail, request_id
            FROM audit_events ORDER BY tenant_id, seq
            """
        ).all(decoding: StoredEvent.self)
    }

    /// How many audit events all practices hold (after sealing the inbox).
    func eventCount() async throws -> Int {
        struct Row: Decodable { var count: Int }
        try await sealAudit()
        return try await services.database.sql.raw("SELECT COUNT(*) AS count FROM audit_events").first(decoding: Row.self)?.count ?? 0
    }

    /// A working refresh token for a seeded account, stored directly (no bcrypt, no audit event).
    func refreshToken(_ account: Account, in practice: Practice = TestWorld.demo) async throws -> String {
        let token = Secrets.randomToken()
        try await services.store.insertRefreshToken(
            RefreshTokenRecord(
                tenantID: practice.tenantID, userID: account.userID(in: practice), familyID: UUID(), tokenHash: Secrets.hash(token),
                role: account.role, issuedAt: Date(), expiresAt: Date().addingTimeInterval(3600)))
        return token
    }
}
