import Crypto
import Foundation

/// Errors of ``TenantKeyring``.
public enum TenantKeyringError: Error, Equatable, Sendable {
    /// The named current version has no key in the ring.
    case missingCurrentVersion(UInt32)
    /// A data key is not 256 bits.
    case invalidKeySize(version: UInt32)
    /// A version is already present with a different key.
    case versionExists(UInt32)
}

/// A tenant's versioned data keys with one current version used for new encryptions.
/// Older versions stay available for decryption while rotation re-encrypts rows.
public struct TenantKeyring: Sendable {
    /// The tenant these keys belong to.
    public let tenantID: String
    /// Version used by ``FieldCipher`` for new ciphertexts.
    public private(set) var currentVersion: UInt32
    private var keys: [UInt32: SymmetricKey] {
        didSet { contexts = Self.contexts(keys) }
    }
    /// Each key's schedule made once, for ``FieldCipher`` (see ``AESGCMContext``).
    private var contexts: [UInt32: AESGCMContext]

    /// Creates a keyring from explicit keys.
    /// - Throws: ``TenantKeyringError`` when `currentVersion` is absent or a key is not 256 bits.
    public init(tenantID: String, keys: [UInt32: SymmetricKey], currentVersion: UInt32) throws {
        guard keys[currentVersion] != nil else { throw TenantKeyringError.missingCurrentVersion(currentVersion) }
        for (v, k) in keys where k.bitCount != 256 { throw TenantKeyringError.invalidKeySize(version: v) }
        self.tenantID = tenantID
        self.keys = keys
        self.contexts = Self.contexts(keys)
        self.currentVersion = currentVersion
    }

    private static func contexts(_ keys: [UInt32: SymmetricKey]) -> [UInt32: AESGCMContext] {
        keys.compactMapValues { AESGCMContext(key: $0) }
    }

    /// Creates a keyring holding one freshly generated key as version `version` (default 1).
    public static func generate(tenantID: String, version: UInt32 = 1) -> TenantKeyring {
        // Cannot fail: the only key is the current one and is 256 bits.
        try! TenantKeyring(tenantID: tenantID, keys: [version: SymmetricKey(size: .bits256)], currentVersion: version)
    }

    /// All versions held, ascending.
    public var versions: [UInt32] { keys.keys.sorted() }

    /// The key for `version`, or nil when unknown.
    public func key(version: UInt32) -> SymmetricKey? { keys[version] }

    /// The kept schedule of `version`'s key, or nil when unknown.
    func context(version: UInt32) -> AESGCMContext? { contexts[version] }

    /// The key for ``currentVersion``.
    public var currentKey: SymmetricKey { keys[currentVersion]! }

    /// Adds `key` as `version`, optionally making it current.
    /// - Throws: ``TenantKeyringError/versionExists(_:)`` if the version already holds a key, or `.invalidKeySize`.
    public mutating func add(_ key: SymmetricKey, version: UInt32, makeCurrent: Bool = true) throws {
        guard key.bitCount == 256 else { throw TenantKeyringError.invalidKeySize(version: version) }
        guard keys[version] == nil else { throw TenantKeyringError.versionExists(version) }
        keys[version] = key
        if makeCurrent { currentVersion = version }
    }

    /// Generates a new key as version (highest + 1), makes it current and returns that version.
    @discardableResult
    public mutating func rotate() -> UInt32 {
        let next = (keys.keys.max() ?? 0) + 1
        keys[next] = SymmetricKey(size: .bits256)
        currentVersion = next
        return next
    }

    /// Removes a non-current version (after rotation finished re-encrypting its rows).
    public mutating func remove(version: UInt32) {
        guard version != currentVersion else { return }
        keys[version] = nil
    }

    /// Wraps every key with `provider`, each bound to (tenant, version), for storage.
    public func wrapped(using provider: some KeyProvider) throws -> [UInt32: Data] {
        var out: [UInt32: Data] = [:]
        for (v, k) in keys {
            out[v] = try provider.wrap(k, context: KeyWrapContext.data(tenantID: tenantID, keyVersion: v))
        }
        return out
    }

    /// Rebuilds a keyring from wrapped keys loaded from storage.
    /// - Throws: the provider's error (e.g. ``KeyProviderError/unwrapFailed``) or ``TenantKeyringError``.
    public static func unwrap(
        tenantID: String, wrapped: [UInt32: Data], currentVersion: UInt32, using provider: some KeyProvider
    ) throws -> TenantKeyring {
        var keys: [UInt32: SymmetricKey] = [:]
        for (v, w) in wrapped {
            keys[v] = try provider.unwrap(w, context: KeyWrapContext.data(tenantID: tenantID, keyVersion: v))
        }
        return try TenantKeyring(tenantID: tenantID, keys: keys, currentVersion: currentVersion)
    }
}
