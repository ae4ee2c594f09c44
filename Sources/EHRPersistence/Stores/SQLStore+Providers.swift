import EHRDomain
import Foundation
import SQLKit

struct ProviderRow: Codable, Sendable {
    var id: UUID
    var tenantId: UUID
    var email: String
    var displayName: String
    var role: String
    var active: Bool
    var passwordHash: String?
    var createdAt: Date
    var updatedAt: Date
    var licenseNumber: String
    var licenseState: String
    var credentials: String
    var specialties: String
    var profileUpdatedAt: Date

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
        case licenseNumber = "license_number"
        case licenseState = "license_state"
        case credentials
        case specialties
        case profileUpdatedAt = "profile_updated_at"
    }

    func provider(_ keys: TenantKeys) throws -> Provider {
        let user = try UserRow(
            id: id, tenantId: tenantId, email: email, displayName: displayName, role: role, active: active,
            passwordHash: passwordHash, createdAt: createdAt, updatedAt: updatedAt
        ).user(keys)
        let specialties = try SQLStore.decodeJSON([String].self, specialties) ?? []
        return Provider(
            user: user, licenseNumber: licenseNumber, licenseState: licenseState, credentials: credentials,
            specialties: specialties, updatedAt: max(profileUpdatedAt, updatedAt))
    }
}

extension SQLStore: ProviderRepository {
    private static let select: SQLQueryString = """
        SELECT u.id, u.tenant_id, u.email, u.display_name, u.role, u.active, u.password_hash, u.created_at, u.updated_at,
               p.license_number, p.license_state, p.credentials, p.specialties, p.updated_at AS profile_updated_at
        FROM providers p JOIN users u ON u.tenant_id = p.tenant_id AND u.id = p.user_id
        """

    public func find(id: UUID, tenantID: UUID) async throws -> Provider? {
        guard
            let row = try await sql.raw(Self.select + " WHERE p.tenant_id = \(bind: tenantID) AND p.user_id = \(bind: id)")
                .first(decoding: ProviderRow.self, with: Self.decoder)
        else { return nil }
        return try await opening(tenantID) { try row.provider($0) }
    }

    public func list(scope: ProviderScope, page: PageRequest) async throws -> Page<Provider> {
        var query = Self.select
        let tenant: UUID
        switch scope {
        case .tenant(let tenantID):
            tenant = tenantID
            query += " WHERE p.tenant_id = \(bind: tenantID)"
        case .assignedToPortalUser(let tenantID, let userID):
            tenant = tenantID
            query += """
                 WHERE p.tenant_id = \(bind: tenantID) AND p.user_id IN
                    (SELECT assigned_therapist_id FROM patients WHERE tenant_id = \(bind: tenantID) AND user_id = \(bind: userID))
                """
        }
        if let cursor = page.after {
            query += " AND (u.created_at > \(bind: cursor.key) OR (u.created_at = \(bind: cursor.key) AND u.id > \(bind: cursor.id)))"
        }
        query += " ORDER BY u.created_at, u.id"
        return try await self.page(
            query, limit: page.limit, tenantID: tenant, map: { (row: ProviderRow, keys) in try row.provider(keys) },
            key: { ($0.user.createdAt, $0.id) })
    }

    public func create(_ provider: Provider, invitation: InvitationRecord?) async throws {
        let specialties = try Self.encodeJSON(provider.specialties) ?? "[]"
        let sealed = try SealedUser(provider.user, try await vault.keys(for: provider.tenantID))
        try await write { db in
            try await Self.insertUser(provider.user, sealed: sealed, on: db)
            try await db.raw(
                """
                INSERT INTO providers (user_id, tenant_id, license_number, license_state, credentials, specialties, updated_at)
                VALUES (\(bind: provider.id), \(bind: provider.tenantID), \(bind: provider.licenseNumber), \(bind: provider.licenseState),
                        \(bind: provider.credentials), \(bind: specialties), \(bind: millisecondPrecision(provider.updatedAt)))
                """
            ).run()
            if let invitation { try await Self.insertInvitation(invitation, on: db) }
        }
    }

    public func update(_ provider: Provider, fields: ProviderFields) async throws {
        let now = millisecondPrecision(provider.updatedAt)
        let sealed = try SealedUser(provider.user, try await vault.keys(for: provider.tenantID))
        var profile: SQLQueryString = "UPDATE providers SET updated_at = \(bind: now)"
        if fields.contains(.licenseNumber) { profile += ", license_number = \(bind: provider.licenseNumber)" }
        if fields.contains(.licenseState) { profile += ", license_state = \(bind: provider.licenseState)" }
        if fields.contains(.credentials) { profile += ", credentials = \(bind: provider.credentials)" }
        if fields.contains(.specialties) { profile += ", specialties = \(bind: try Self.encodeJSON(provider.specialties) ?? "[]")" }
        profile += " WHERE tenant_id = \(bind: provider.tenantID) AND user_id = \(bind: provider.id)"
        try await write { [profile] db in
            try await Self.updateUser(provider.user, fields: fields.userFields, sealed: sealed, on: db)
            try await db.raw(profile).run()
        }
    }
}
