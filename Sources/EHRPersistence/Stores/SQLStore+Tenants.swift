import EHRDomain
import Foundation
import SQLKit

struct TenantRow: Codable, Sendable {
    var id: UUID
    var slug: String
    var name: String
    var createdAt: Date
    var timeZone: String

    // Explicit column names: SQLKit's automatic snake-case conversion costs more than the query on lists.
    enum CodingKeys: String, CodingKey {
        case id
        case slug
        case name
        case createdAt = "created_at"
        case timeZone = "time_zone"
    }

    var tenant: Tenant { Tenant(id: id, slug: slug, name: name, createdAt: createdAt, timeZone: timeZone) }
}

extension SQLStore: TenantRepository {
    public func find(slug: String) async throws -> Tenant? {
        try await sql.raw("SELECT * FROM tenants WHERE slug = \(bind: slug)").first(decoding: TenantRow.self, with: Self.decoder)?.tenant
    }

    public func find(id: UUID) async throws -> Tenant? {
        try await sql.raw("SELECT * FROM tenants WHERE id = \(bind: id)").first(decoding: TenantRow.self, with: Self.decoder)?.tenant
    }

    /// Creates the practice together with its own data and blind-index keys.
    public func create(_ tenant: Tenant) async throws {
        let vault = self.vault
        do {
            try await database.transaction { db in
                try await db.raw(
                    """
                    INSERT INTO tenants (id, slug, name, created_at, time_zone)
                    VALUES (\(bind: tenant.id), \(bind: tenant.slug), \(bind: tenant.name), \(bind: millisecondPrecision(tenant.createdAt)),
                        \(bind: tenant.timeZone))
                    """
                ).run()
                try await vault.createKeys(for: tenant.id, on: db)
            }
        } catch  where isUniqueViolation(error) {
            throw DomainError.conflict("a practice with slug '\(tenant.slug)' already exists")
        }
    }

    /// Every practice, oldest first.
    public func allTenants() async throws -> [Tenant] {
        try await sql.raw("SELECT * FROM tenants ORDER BY created_at, id").all(decoding: TenantRow.self, with: Self.decoder).map(\.tenant)
    }
}
