import EHRSecurity
import Foundation

/// One tenant's unwrapped keys, ready for the repositories: seals values into their column and opens
/// them again, bound to (tenant, table, column, row) so a value moved anywhere else does not open.
public struct TenantKeys: Sendable {
    public let tenantID: UUID
    public let cipher: FieldCipher
    public let index: BlindIndex

    /// The data-key version new values are sealed under.
    public var currentVersion: Int { Int(cipher.keyring.currentVersion) }

    func context(_ table: String, _ column: String, _ row: UUID) -> FieldContext {
        FieldContext(tenantID: tenantID.lowercasedString, table: table, column: column, rowID: row.lowercasedString)
    }

    /// Encrypts `value` for `table.column` of row `row`.
    public func seal(_ value: String, _ table: String, _ column: String, row: UUID) throws -> String {
        try cipher.encrypt(value, context: context(table, column, row))
    }

    public func seal(_ value: String?, _ table: String, _ column: String, row: UUID) throws -> String? {
        try value.map { try seal($0, table, column, row: row) }
    }

    public func seal<T: Encodable>(codable value: T?, _ table: String, _ column: String, row: UUID) throws -> String? {
        try value.map { try cipher.encrypt(codable: $0, context: context(table, column, row)) }
    }

    /// Encrypts `members` as ``seal(codable:_:_:row:)`` would, without an encoder (``FieldCipher/encrypt(members:context:)``).
    public func seal(members: [String: String], _ table: String, _ column: String, row: UUID) throws -> String {
        try cipher.encrypt(members: members, context: context(table, column, row))
    }

    /// Decrypts a stored value. A value that fails authentication (moved from another row, column or tenant,
    /// or altered) or names a key the tenant no longer has is reported as ``StorageError/undecryptable(_:)``.
    public func open(_ stored: String, _ table: String, _ column: String, row: UUID) throws -> String {
        do {
            return try cipher.decryptString(stored, context: context(table, column, row))
        } catch let error as FieldCipherError {
            throw StorageError.undecryptable("\(table).\(column)", error)
        }
    }

    public func open(_ stored: String?, _ table: String, _ column: String, row: UUID) throws -> String? {
        try stored.map { try open($0, table, column, row: row) }
    }

    public func open<T: Decodable>(_ type: T.Type, _ stored: String?, _ table: String, _ column: String, row: UUID) throws -> T? {
        guard let stored else { return nil }
        do {
            return try cipher.decrypt(type, from: stored, context: context(table, column, row))
        } catch let error as FieldCipherError {
            throw StorageError.undecryptable("\(table).\(column)", error)
        }
    }
}
