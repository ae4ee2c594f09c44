import Crypto
import EHRDomain
import EHRSecurity
import Foundation
import NIOConcurrencyHelpers
import SQLKit

/// Loads, creates, rotates and destroys tenants' keys. Keys live in `tenant_keys` wrapped by the
/// ``KeyProvider``'s master key; unwrapped keys are cached in memory for `cacheLifetime` seconds, so a
/// rotation done by another process (`ehr keys rotate`) is picked up within that time, and at once when
/// a value names a key version this process has not loaded.
public final class KeyVault: Sendable {
    let database: EHRDatabase
    let provider: any KeyProvider
    let cacheLifetime: TimeInterval
    private let cache = NIOLockedValueBox<[UUID: (keys: TenantKeys, loadedAt: Date)]>([:])

    public init(database: EHRDatabase, provider: any KeyProvider, cacheLifetime: TimeInterval = 10) {
        self.database = database
        self.provider = provider
        self.cacheLifetime = cacheLifetime
    }

    /// The tenant's keys, from cache when fresh.
    /// - Throws: ``StorageError/keysDestroyed`` when the tenant has no keys (shredded).
    public func keys(for tenantID: UUID) async throws -> TenantKeys {
        if let cached = cache.withLockedValue({ $0[tenantID] }), Date().timeIntervalSince(cached.loadedAt) < cacheLifetime {
            return cached.keys
        }
        return try await reload(tenantID)
    }

    /// Reads the tenant's keys from the database, bypassing the cache.
    @discardableResult
    public func reload(_ tenantID: UUID, on db: (any SQLDatabase)? = nil) async throws -> TenantKeys {
        struct KeyRow: Decodable {
            var purpose: String
            var version: Int
            var wrapped_key: String
            var is_current: Bool
        }
        let rows = try await (db ?? database.sql).raw(
            """
            SELECT purpose, version, wrapped_key, is_current FROM tenant_keys WHERE tenant_id = \(bind: tenantID)
            """
        ).all(decoding: KeyRow.self)
        let tenant = tenantID.lowercasedString
        var data: [UInt32: Data] = [:]
        var current: UInt32?
        var indexKey: SymmetricKey?
        for row in rows {
            guard let wrapped = Data(base64Encoded: row.wrapped_key) else { throw StorageError.corrupt("tenant_keys.wrapped_key") }
            let version = UInt32(row.version)
            if row.purpose == "index" {
                indexKey = try provider.unwrap(wrapped, context: KeyWrapContext.index(tenantID: tenant, version: version))
            } else {
                data[version] = wrapped
                if row.is_current { current = max(current ?? 0, version) }
            }
        }
        guard let current, let indexKey else {
            cache.withLockedValue { $0[tenantID] = nil }
            throw StorageError.keysDestroyed
        }
        let keyring = try TenantKeyring.unwrap(tenantID: tenant, wrapped: data, currentVersion: current, using: provider)
        let keys = TenantKeys(
            tenantID: tenantID, cipher: FieldCipher(keyring: keyring),
            index: BlindIndex(tenantID: tenant, tenantIndexKey: indexKey))
        cache.withLockedValue { $0[tenantID] = (keys, Date()) }
        return keys
    }

    /// Creates a new tenant's first data key and its blind-index key (inside the tenant's creating transaction).
    public func createKeys(for tenantID: UUID, on db: any SQLDatabase) async throws {
        let tenant = tenantID.lowercasedString
        let dataKey = LocalKeyProvider.generateDataKey()
        let indexKey = LocalKeyProvider.generateDataKey()
        try await insertKey(
            tenantID, purpose: "data", version: 1,
            wrapped: try provider.wrap(dataKey, context: KeyWrapContext.data(tenantID: tenant, keyVersion: 1)), on: db)
        try await insertKey(
            tenantID, purpose: "index", version: 1,
            wrapped: try provider.wrap(indexKey, context: KeyWrapContext.index(tenantID: tenant, version: 1)), on: db)
    }

    /// Adds a new data-key version and makes it current; older versions stay for decryption.
    /// - Returns: the new version.
    public func addDataKeyVersion(for tenantID: UUID) async throws -> Int {
        let version = try await database.transaction { db in
            struct MaxRow: Decodable { var v: Int? }
            let max = try await db.raw("SELECT MAX(version) AS v FROM tenant_keys WHERE tenant_id = \(bind: tenantID) AND purpose = 'data'")
                .first(decoding: MaxRow.self)?.v
            guard let max else { throw StorageError.keysDestroyed }
            let next = UInt32(max + 1)
            let key = LocalKeyProvider.generateDataKey()
            let wrapped = try self.provider.wrap(key, context: KeyWrapContext.data(tenantID: tenantID.lowercasedString, keyVersion: next))
            try await db.raw("UPDATE tenant_keys SET is_current = \(bind: false) WHERE tenant_id = \(bind: tenantID) AND purpose = 'data'").run()
            try await self.insertKey(tenantID, purpose: "data", version: next, wrapped: wrapped, on: db)
            return Int(next)
        }
        try await reload(tenantID)
        return version
    }

    /// Deletes every key of the tenant: its encrypted values can never be read again (crypto-shredding).
    public func destroyKeys(for tenantID: UUID) async throws {
        try await database.sql.raw("DELETE FROM tenant_keys WHERE tenant_id = \(bind: tenantID)").run()
        cache.withLockedValue { $0[tenantID] = nil }
    }

    /// Drops every cached key (tests; after a shred in another process).
    public func forgetCachedKeys() {
        cache.withLockedValue { $0.removeAll() }
    }

    private func insertKey(_ tenantID: UUID, purpose: String, version: UInt32, wrapped: Data, on db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO tenant_keys (tenant_id, purpose, version, wrapped_key, master_key_id, is_current, created_at)
            VALUES (\(bind: tenantID), \(bind: purpose), \(bind: Int(version)), \(bind: wrapped.base64EncodedString()),
                \(bind: provider.keyID), \(bind: true), \(bind: millisecondPrecision(Date())))
            """
        ).run()
    }
}
