import EHRDomain
import Foundation
import SQLKit

struct RefreshTokenRow: Codable, Sendable {
    var id: UUID
    var tenantId: UUID
    var userId: UUID
    var familyId: UUID
    var tokenHash: String
    var role: String
    var issuedAt: Date
    var expiresAt: Date
    var rotatedAt: Date?
    var revokedAt: Date?

    // Explicit column names: SQLKit's automatic snake-case conversion costs more than the query on lists.
    enum CodingKeys: String, CodingKey {
        case id
        case tenantId = "tenant_id"
        case userId = "user_id"
        case familyId = "family_id"
        case tokenHash = "token_hash"
        case role
        case issuedAt = "issued_at"
        case expiresAt = "expires_at"
        case rotatedAt = "rotated_at"
        case revokedAt = "revoked_at"
    }

    func record() throws -> RefreshTokenRecord {
        guard let role = Role(rawValue: role) else { throw StorageError.corrupt("refresh_tokens.role") }
        return RefreshTokenRecord(
            id: id, tenantID: tenantId, userID: userId, familyID: familyId, tokenHash: tokenHash, role: role,
            issuedAt: issuedAt, expiresAt: expiresAt, rotatedAt: rotatedAt, revokedAt: revokedAt)
    }
}

struct InvitationRow: Codable, Sendable {
    var id: UUID
    var tenantId: UUID
    var userId: UUID
    var tokenHash: String
    var expiresAt: Date
    var usedAt: Date?

    // Explicit column names: SQLKit's automatic snake-case conversion costs more than the query on lists.
    enum CodingKeys: String, CodingKey {
        case id
        case tenantId = "tenant_id"
        case userId = "user_id"
        case tokenHash = "token_hash"
        case expiresAt = "expires_at"
        case usedAt = "used_at"
    }

    var record: InvitationRecord {
        InvitationRecord(id: id, tenantID: tenantId, userID: userId, tokenHash: tokenHash, expiresAt: expiresAt, usedAt: usedAt)
    }
}

extension SQLStore: AuthRepository {
    public func insertRefreshToken(_ r: RefreshTokenRecord) async throws {
        try await Self.insertRefreshToken(r, on: sql)
    }

    private static func insertRefreshToken(_ r: RefreshTokenRecord, on db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO refresh_tokens (id, tenant_id, user_id, family_id, token_hash, role, issued_at, expires_at, rotated_at, revoked_at)
            VALUES (\(bind: r.id), \(bind: r.tenantID), \(bind: r.userID), \(bind: r.familyID), \(bind: r.tokenHash), \(bind: r.role.rawValue),
                \(bind: millisecondPrecision(r.issuedAt)), \(bind: millisecondPrecision(r.expiresAt)), \(bind: r.rotatedAt), \(bind: r.revokedAt))
            """
        ).run()
    }

    public func findRefreshToken(hash: String) async throws -> RefreshTokenRecord? {
        try await sql.raw("SELECT * FROM refresh_tokens WHERE token_hash = \(bind: hash)")
            .first(decoding: RefreshTokenRow.self, with: Self.decoder)?.record()
    }

    public func rotateRefreshToken(id: UUID, at: Date, successor: RefreshTokenRecord) async throws -> Bool {
        struct IDRow: Decodable { var id: UUID }
        return try await database.transaction { db in
            try await lockFamily(successor.familyID, on: db)
            let rotated = try await db.raw(
                """
                UPDATE refresh_tokens SET rotated_at = \(bind: millisecondPrecision(at))
                WHERE id = \(bind: id) AND rotated_at IS NULL AND revoked_at IS NULL
                RETURNING id
                """
            ).all(decoding: IDRow.self)
            guard !rotated.isEmpty else { return false }
            try await Self.insertRefreshToken(successor, on: db)
            return true
        }
    }

    public func revokeFamily(_ familyID: UUID, at: Date) async throws {
        try await database.transaction { db in
            try await lockFamily(familyID, on: db)
            try await db.raw(
                "UPDATE refresh_tokens SET revoked_at = \(bind: millisecondPrecision(at)) WHERE family_id = \(bind: familyID) AND revoked_at IS NULL"
            ).run()
        }
    }

    /// Serialises rotation and revocation of one token family until the transaction ends. Without it, under
    /// READ COMMITTED a revocation does not see the successor a concurrent rotation is inserting, and that
    /// successor would outlive the logout. (SQLite has one writer: its transactions are serial already.)
    private func lockFamily(_ familyID: UUID, on db: any SQLDatabase) async throws {
        guard database.dialect == .postgres else { return }
        try await db.raw("SELECT pg_advisory_xact_lock(hashtextextended(\(bind: familyID.lowercasedString), 0))").run()
    }

    public func revokeAll(userID: UUID, tenantID: UUID, at: Date) async throws {
        try await sql.raw(
            """
            UPDATE refresh_tokens SET revoked_at = \(bind: millisecondPrecision(at))
            WHERE tenant_id = \(bind: tenantID) AND user_id = \(bind: userID) AND revoked_at IS NULL
            """
        ).run()
    }

    public func findInvitation(hash: String) async throws -> InvitationRecord? {
        try await sql.raw("SELECT * FROM invitations WHERE token_hash = \(bind: hash)")
            .first(decoding: InvitationRow.self, with: Self.decoder)?.record
    }

    public func acceptInvitation(id: UUID, userID: UUID, tenantID: UUID, passwordHash: String, at: Date) async throws -> Bool {
        struct IDRow: Decodable { var id: UUID }
        let now = millisecondPrecision(at)
        return try await database.transaction { db in
            let used = try await db.raw(
                """
                UPDATE invitations SET used_at = \(bind: now) WHERE id = \(bind: id) AND used_at IS NULL RETURNING id
                """
            ).all(decoding: IDRow.self)
            guard !used.isEmpty else { return false }
            try await db.raw(
                """
                UPDATE users SET password_hash = \(bind: passwordHash), updated_at = \(bind: now)
                WHERE tenant_id = \(bind: tenantID) AND id = \(bind: userID)
                """
            ).run()
            return true
        }
    }

    public func reserveSignInAttempt(keys: [String], at: Date, window: TimeInterval) async throws -> [SignInWindow] {
        struct Row: Decodable {
            var attempts: Int
            var window_start: Date
        }
        let now = millisecondPrecision(at)
        let expired = now.addingTimeInterval(-window)
        var windows: [SignInWindow] = []
        for key in keys {
            // One statement: concurrent attempts on one key serialise on its row, so each sees the count
            // including every attempt before it.
            let row = try await sql.raw(
                """
                INSERT INTO login_throttle (key, window_start, attempts) VALUES (\(bind: key), \(bind: now), 1)
                ON CONFLICT (key) DO UPDATE SET
                    attempts = CASE WHEN login_throttle.window_start <= \(bind: expired) THEN 1 ELSE login_throttle.attempts + 1 END,
                    window_start = CASE WHEN login_throttle.window_start <= \(bind: expired) THEN excluded.window_start ELSE login_throttle.window_start END
                RETURNING attempts, window_start
                """
            ).first(decoding: Row.self)
            guard let row else { throw StorageError.corrupt("login_throttle") }
            windows.append(SignInWindow(attempts: row.attempts, windowStart: row.window_start))
        }
        if Int.random(in: 0..<100) == 0 {
            // Keys untouched for a day are useless to every window; prune now and then.
            try await sql.raw("DELETE FROM login_throttle WHERE window_start < \(bind: now.addingTimeInterval(-24 * 3600))").run()
        }
        return windows
    }

    public func releaseSignInAttempt(key: String) async throws {
        try await sql.raw("UPDATE login_throttle SET attempts = attempts - 1 WHERE key = \(bind: key) AND attempts > 0").run()
    }

    public func clearSignInAttempts(key: String) async throws {
        try await sql.raw("DELETE FROM login_throttle WHERE key = \(bind: key)").run()
    }
}
