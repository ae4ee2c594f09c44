import EHRDomain
import EHRSecurity
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

    func user(_ keys: TenantKeys) throws -> User {
        guard let role = Role(rawValue: role) else { throw StorageError.corrupt("users.role") }
        return User(
            id: id, tenantID: tenantId, email: try keys.open(email, "users", "email", row: id),
            displayName: try keys.open(displayName, "users", "display_name", row: id), role: role, active: active,
            passwordHash: passwordHash, createdAt: createdAt, updatedAt: updatedAt)
    }
}

/// A user's sealed email and name (a client's account carries the patient's name and email) and the email's blind index.
struct SealedUser {
    var email: String
    var displayName: String
    var emailIndex: String
    var keyVersion: Int

    init(_ user: User, _ keys: TenantKeys) throws {
        email = try keys.seal(user.email.lowercased(), "users", "email", row: user.id)
        displayName = try keys.seal(user.displayName, "users", "display_name", row: user.id)
        emailIndex = Self.index(user.email, keys)
        keyVersion = keys.currentVersion
    }

    static func index(_ email: String, _ keys: TenantKeys) -> String { keys.index.email(email, column: "users.email") }
}

/// A stored value the code cannot interpret; never expected, reported rather than guessed around.
public enum StorageError: Error, Sendable, CustomStringConvertible {
    /// A stored value is not of its column's form.
    case corrupt(String)
    /// An encrypted value does not open here: moved from another row, column or tenant, altered,
    /// or under a key version the tenant no longer holds.
    case undecryptable(String, FieldCipherError)
    /// A signed note or addendum no longer matches the content hash taken when it was signed.
    case integrityMismatch(String)
    /// The tenant's keys were destroyed (crypto-shredded): its protected data cannot be read.
    case keysDestroyed
    /// The database was shut down (the service is stopping).
    case unavailable

    public var description: String {
        switch self {
        case .corrupt(let column): return "unreadable stored value in \(column)"
        case .undecryptable(let column, let error): return "encrypted value in \(column) does not open here (\(error))"
        case .integrityMismatch(let what): return "\(what) does not match its signed content hash"
        case .keysDestroyed: return "the practice's keys were destroyed"
        case .unavailable: return "the database is shut down"
        }
    }
}

extension SQLStore: UserRepository {
    public func find(id: UUID, tenantID: UUID) async throws -> User? {
        guard
            let row = try await sql.raw("SELECT * FROM users WHERE tenant_id = \(bind: tenantID) AND id = \(bind: id)")
                .first(decoding: UserRow.self, with: Self.decoder)
        else { return nil }
        return try await opening(tenantID) { try row.user($0) }
    }

    public func find(email: String, tenantID: UUID) async throws -> User? {
        let index = SealedUser.index(email, try await vault.keys(for: tenantID))
        guard
            let row = try await sql.raw("SELECT * FROM users WHERE tenant_id = \(bind: tenantID) AND email_bidx = \(bind: index)")
                .first(decoding: UserRow.self, with: Self.decoder)
        else { return nil }
        return try await opening(tenantID) { try row.user($0) }
    }

    public func list(tenantID: UUID, role: Role?, page: PageRequest) async throws -> Page<User> {
        var query: SQLQueryString = "SELECT * FROM users WHERE tenant_id = \(bind: tenantID)"
        if let role { query += " AND role = \(bind: role.rawValue)" }
        query += after(page.after, column: "created_at") + " ORDER BY created_at, id"
        return try await self.page(
            query, limit: page.limit, tenantID: tenantID, map: { (row: UserRow, keys) in try row.user(keys) },
            key: { ($0.createdAt, $0.id) })
    }

    public func create(_ user: User, invitation: InvitationRecord?) async throws {
        let sealed = try SealedUser(user, try await vault.keys(for: user.tenantID))
        try await write { db in
            try await Self.insertUser(user, sealed: sealed, on: db)
            if let invitation { try await Self.insertInvitation(invitation, on: db) }
        }
    }

    public func update(_ user: User, fields: UserFields) async throws {
        let sealed = try SealedUser(user, try await vault.keys(for: user.tenantID))
        try await write { db in try await Self.updateUser(user, fields: fields, sealed: sealed, on: db) }
    }

    /// Writes only `fields`. The sealed columns go together (email is never changed by an update, but is
    /// re-sealed with the display name so the row stays under one key version).
    static func updateUser(_ user: User, fields: UserFields = .all, sealed: SealedUser, on db: any SQLDatabase) async throws {
        var query: SQLQueryString = "UPDATE users SET updated_at = \(bind: millisecondPrecision(user.updatedAt))"
        if fields.contains(.displayName) {
            query += """
                , display_name = \(bind: sealed.displayName), email = \(bind: sealed.email), email_bidx = \(bind: sealed.emailIndex),
                key_version = \(bind: sealed.keyVersion)
                """
        }
        if fields.contains(.active) { query += ", active = \(bind: user.active)" }
        if fields.contains(.role) { query += ", role = \(bind: user.role.rawValue)" }
        query += " WHERE tenant_id = \(bind: user.tenantID) AND id = \(bind: user.id)"
        try await db.raw(query).run()
    }

    static func insertUser(_ user: User, sealed: SealedUser, on db: any SQLDatabase) async throws {
        do {
            try await db.raw(
                """
                INSERT INTO users (id, tenant_id, email, display_name, role, active, password_hash, created_at, updated_at, email_bidx, key_version)
                VALUES (\(bind: user.id), \(bind: user.tenantID), \(bind: sealed.email), \(bind: sealed.displayName),
                        \(bind: user.role.rawValue), \(bind: user.active), \(bind: user.passwordHash),
                        \(bind: millisecondPrecision(user.createdAt)), \(bind: millisecondPrecision(user.updatedAt)),
                        \(bind: sealed.emailIndex), \(bind: sealed.keyVersion))
                """
            ).run()
        } catch  where isUniqueViolation(error) {
            throw DomainError.conflict("an account with this email already exists in this practice")
        }
    }

    static func insertInvitation(_ invitation: InvitationRecord, on db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO invitations (id, tenant_id, user_id, token_hash, expires_at, used_at)
            VALUES (\(bind: invitation.id), \(bind: invitation.tenantID), \(bind: invitation.userID), \(bind: invitation.tokenHash),
                    \(bind: millisecondPrecision(invitation.expiresAt)), \(bind: invitation.usedAt))
            """
        ).run()
    }
}
