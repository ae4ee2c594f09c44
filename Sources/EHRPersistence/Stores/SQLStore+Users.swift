import EHRDomain
import Foundation
import SQLKit

struct UserRow: Codable, Sendable {
    var id: UUID
    var tenantId: UUID
    var email: String
    var displayName: String
    var role: String
    var active: Bool
    var passwordHash: String?
    var createdAt: Date
    var updatedAt: Date

    // Explicit column names: SQLKit's automatic snake-case conversion costs more than the query on lists.
    enum CodingKeys: String, CodingKey {
        case id
        case tenantId = "tenant_id"
        case email
        case displayName = "display_name"
        case role
        case active
        case passwordHash = "password_hash"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    func user() throws -> User {
        guard let role = Role(rawValue: role) else { throw StorageError.corrupt("users.role") }
        return User(id: id, tenantID: tenantId, email: email, displayName: displayName, role: role, active: active,
                    passwordHash: passwordHash, createdAt: createdAt, updatedAt: updatedAt)
    }
}

/// A stored value the code cannot interpret; never expected, reported rather than guessed around.
public enum StorageError: Error, Sendable, CustomStringConvertible {
    case corrupt(String)
    public var description: String {
        switch self { case .corrupt(let column): return "unreadable stored value in \(column)" }
    }
}

extension SQLStore: UserRepository {
    public func find(id: UUID, tenantID: UUID) async throws -> User? {
        try await sql.raw("SELECT * FROM users WHERE tenant_id = \(bind: tenantID) AND id = \(bind: id)")
            .first(decoding: UserRow.self, with: Self.decoder)?.user()
    }

    public func find(email: String, tenantID: UUID) async throws -> User? {
        try await sql.raw("SELECT * FROM users WHERE tenant_id = \(bind: tenantID) AND email = \(bind: email.lowercased())")
            .first(decoding: UserRow.self, with: Self.decoder)?.user()
    }

    public func list(tenantID: UUID, role: Role?, page: PageRequest) async throws -> Page<User> {
        var query: SQLQueryString = "SELECT * FROM users WHERE tenant_id = \(bind: tenantID)"
        if let role { query += " AND role = \(bind: role.rawValue)" }
        query += after(page.after, column: "created_at") + " ORDER BY created_at, id"
        return try await Self.page(query, limit: page.limit, on: sql, map: { (row: UserRow) in try row.user() }, key: { ($0.createdAt, $0.id) })
    }

    public func create(_ user: User, invitation: InvitationRecord?) async throws {
        try await database.transaction { db in
            try await Self.insertUser(user, on: db)
            if let invitation { try await Self.insertInvitation(invitation, on: db) }
        }
    }

    public func update(_ user: User) async throws {
        try await sql.raw("""
            UPDATE users SET display_name = \(bind: user.displayName), active = \(bind: user.active),
                role = \(bind: user.role.rawValue), updated_at = \(bind: millisecondPrecision(user.updatedAt))
            WHERE tenant_id = \(bind: user.tenantID) AND id = \(bind: user.id)
            """).run()
    }

    static func insertUser(_ user: User, on db: any SQLDatabase) async throws {
        do {
            try await db.raw("""
                INSERT INTO users (id, tenant_id, email, display_name, role, active, password_hash, created_at, updated_at)
                VALUES (\(bind: user.id), \(bind: user.tenantID), \(bind: user.email.lowercased()), \(bind: user.displayName),
                        \(bind: user.role.rawValue), \(bind: user.active), \(bind: user.passwordHash),
                        \(bind: millisecondPrecision(user.createdAt)), \(bind: millisecondPrecision(user.updatedAt)))
                """).run()
        } catch where isUniqueViolation(error) {
            throw DomainError.conflict("an account with this email already exists in this practice")
        }
    }

    static func insertInvitation(_ invitation: InvitationRecord, on db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO invitations (id, tenant_id, user_id, token_hash, expires_at, used_at)
            VALUES (\(bind: invitation.id), \(bind: invitation.tenantID), \(bind: invitation.userID), \(bind: invitation.tokenHash),
                    \(bind: millisecondPrecision(invitation.expiresAt)), \(bind: invitation.usedAt))
            """).run()
    }
}
