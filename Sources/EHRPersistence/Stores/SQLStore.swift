import EHRDomain
import Foundation
import PostgresNIO
import SQLKit

/// The repositories over SQLKit, for both SQLite and PostgreSQL. Reads decode rows straight into
/// `Decodable` structs (Fluent's reflection-based models are several times slower on lists).
///
/// Protected columns are sealed with the tenant's keys (``KeyVault``) on the way in and opened on the way
/// out; exact search on them goes through blind-index columns. Writes that carry a request's pending audit
/// event (``TransactionAudit``) commit it in the same transaction.
public struct SQLStore: Sendable {
    public let database: EHRDatabase
    public let vault: KeyVault
    /// Nil only when the audit writer is switched off for a benchmark.
    public let auditLog: AuditLog?

    public init(database: EHRDatabase, vault: KeyVault, auditLog: AuditLog?) {
        self.database = database
        self.vault = vault
        self.auditLog = auditLog
    }

    var sql: any SQLDatabase { database.sql }
    /// Lists: read-only connections of their own in SQLite (see ``EHRDatabase/reads``).
    var reads: any SQLDatabase { database.reads }

    /// Runs `body` in one transaction together with the request's pending audit event, if any.
    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let pending = TransactionAudit.current
        let auditLog = self.auditLog
        let result = try await database.transaction { db in
            let result = try await body(db)
            if let auditLog, let pending, let draft = pending.draftForCommit() {
                try await auditLog.append([draft], on: db)
            }
            return result
        }
        pending?.didCommit()
        return result
    }

    /// Opens rows with the tenant's keys; when a value names a key version this process has not loaded
    /// (a rotation by another process), reloads the keys once and tries again.
    func opening<T>(_ tenantID: UUID, _ body: (TenantKeys) throws -> T) async throws -> T {
        let keys = try await vault.keys(for: tenantID)
        do {
            return try body(keys)
        } catch StorageError.undecryptable(_, .unknownKeyVersion) {
            return try body(try await vault.reload(tenantID))
        }
    }

    static let decoder = SQLRowDecoder()
    static let json = JSONEncoder()
    static let jsonDecoder = JSONDecoder()

    /// Fetches up to `limit + 1` rows: the extra row only tells whether a next page exists.
    func page<Row: Decodable, Item: Sendable>(
        _ query: SQLQueryString, limit: Int, tenantID: UUID,
        map: (Row, TenantKeys) throws -> Item, key: (Item) -> (Date, UUID)
    ) async throws -> Page<Item> {
        let rows = try await reads.raw(query + " LIMIT \(literal: limit + 1)").all(decoding: Row.self, with: Self.decoder)
        let items = try await opening(tenantID) { keys in try rows.prefix(limit).map { try map($0, keys) } }
        let next = rows.count > limit ? items.last.map { PageCursor(key: key($0).0, id: key($0).1) } : nil
        return Page(items: items, next: next)
    }

    static func encodeJSON<T: Encodable>(_ value: T?) throws -> String? {
        guard let value else { return nil }
        return String(decoding: try json.encode(value), as: UTF8.self)
    }

    static func decodeJSON<T: Decodable>(_ type: T.Type, _ text: String?) throws -> T? {
        guard let text else { return nil }
        return try jsonDecoder.decode(T.self, from: Data(text.utf8))
    }
}

/// Keyset condition for ascending order by `(column, id)`.
func after(_ cursor: PageCursor?, column: String, descending: Bool = false) -> SQLQueryString {
    guard let cursor else { return "" }
    let op = descending ? "<" : ">"
    return
        " AND (\(unsafeRaw: column) \(unsafeRaw: op) \(bind: cursor.key) OR (\(unsafeRaw: column) = \(bind: cursor.key) AND id \(unsafeRaw: op) \(bind: cursor.id)))"
}

/// Whether an error is a unique-constraint violation, in either dialect.
func isUniqueViolation(_ error: any Error) -> Bool {
    let text = String(reflecting: error)
    return text.contains("UNIQUE constraint failed") || text.contains("23505")
}

/// Whether PostgreSQL aborted the transaction to resolve a deadlock (40P01) or a serialization conflict
/// (40001): the work may simply be tried again.
func isTransientConflict(_ error: any Error) -> Bool {
    let text = String(reflecting: error)
    return text.contains("40P01") || text.contains("40001")
}

/// PostgreSQL's SQLSTATE for a database error (for example `40P01`), or nil. Only the five-character code: a
/// server message can quote the values of a row, so it never goes into a log.
public func databaseErrorCode(_ error: any Error) -> String? {
    guard let code = (error as? PSQLError)?.serverInfo?[.sqlState], code.count == 5, code.allSatisfy({ $0.isASCII && ($0.isNumber || $0.isUppercase) })
    else { return nil }
    return code
}
