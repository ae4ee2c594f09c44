import EHRDomain
import Foundation
import SQLKit

/// A browser session as stored, with what each request needs to trust it.
public struct WebSessionRecord: Sendable {
    public var tenantID: UUID
    public var userID: UUID
    public var familyID: UUID
    public var csrfToken: String
    public var createdAt: Date
    public var lastSeenAt: Date
    public var role: Role
    public var userActive: Bool
    /// The refresh-token family still has an unrevoked token for the user's current role.
    public var familyLive: Bool
}

extension SQLStore {
    public func createWebSession(tokenHash: String, tenantID: UUID, userID: UUID, familyID: UUID, csrfToken: String, at: Date) async throws {
        let now = millisecondPrecision(at)
        try await sql.raw(
            """
            INSERT INTO web_sessions (token_hash, tenant_id, user_id, family_id, csrf_token, created_at, last_seen_at)
            VALUES (\(bind: tokenHash), \(bind: tenantID), \(bind: userID), \(bind: familyID), \(bind: csrfToken), \(bind: now), \(bind: now))
            """
        ).run()
    }

    /// The session with this cookie hash, with its user's role and whether its token family is still live: one query.
    public func webSession(tokenHash: String) async throws -> WebSessionRecord? {
        struct Row: Decodable {
            var tenant_id: UUID
            var user_id: UUID
            var family_id: UUID
            var csrf_token: String
            var created_at: Date
            var last_seen_at: Date
            var role: String
            var active: Bool
            var live: Bool
        }
        let row = try await sql.raw(
            """
            SELECT s.tenant_id, s.user_id, s.family_id, s.csrf_token, s.created_at, s.last_seen_at, u.role, u.active,
                EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.family_id = s.family_id AND r.revoked_at IS NULL AND r.role = u.role) AS live
            FROM web_sessions s JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
            WHERE s.token_hash = \(bind: tokenHash)
            """
        ).first(decoding: Row.self, with: Self.decoder)
        guard let row, let role = Role(rawValue: row.role) else { return nil }
        return WebSessionRecord(
            tenantID: row.tenant_id, userID: row.user_id, familyID: row.family_id, csrfToken: row.csrf_token, createdAt: row.created_at,
            lastSeenAt: row.last_seen_at, role: role, userActive: row.active, familyLive: row.live)
    }

    public func touchWebSession(tokenHash: String, at: Date) async throws {
        try await sql.raw("UPDATE web_sessions SET last_seen_at = \(bind: millisecondPrecision(at)) WHERE token_hash = \(bind: tokenHash)").run()
    }

    public func deleteWebSession(tokenHash: String) async throws {
        try await sql.raw("DELETE FROM web_sessions WHERE token_hash = \(bind: tokenHash)").run()
    }
}
