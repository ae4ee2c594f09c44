import EHRDomain
import Foundation
import SQLKit

/// The repositories over SQLKit, for both SQLite and PostgreSQL. Reads decode rows straight into
/// `Decodable` structs (Fluent's reflection-based models are several times slower on lists).
public struct SQLStore: Sendable {
    public let database: EHRDatabase

    public init(database: EHRDatabase) {
        self.database = database
    }

    var sql: any SQLDatabase { database.sql }

    static let decoder = SQLRowDecoder()
    static let json = JSONEncoder()
    static let jsonDecoder = JSONDecoder()

    /// Fetches up to `limit + 1` rows: the extra row only tells whether a next page exists.
    static func page<Row: Decodable, Item: Sendable>(
        _ query: SQLQueryString, limit: Int, on sql: any SQLDatabase,
        map: (Row) throws -> Item, key: (Item) -> (Date, UUID)
    ) async throws -> Page<Item> {
        let rows = try await sql.raw(query + " LIMIT \(literal: limit + 1)").all(decoding: Row.self, with: decoder)
        let items = try rows.prefix(limit).map(map)
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
    return " AND (\(unsafeRaw: column) \(unsafeRaw: op) \(bind: cursor.key) OR (\(unsafeRaw: column) = \(bind: cursor.key) AND id \(unsafeRaw: op) \(bind: cursor.id)))"
}

/// Whether an error is a unique-constraint violation, in either dialect.
func isUniqueViolation(_ error: any Error) -> Bool {
    let text = String(reflecting: error)
    return text.contains("UNIQUE constraint failed") || text.contains("23505")
}
