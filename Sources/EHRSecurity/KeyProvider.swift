import Crypto
import Foundation

/// Wraps and unwraps per-tenant data keys with a master key that never leaves the provider.
///
/// `LocalKeyProvider` keeps the master key in process memory; a cloud KMS can implement
/// the same protocol later. `context` is bound to the wrapped key as associated data
/// (use ``KeyWrapContext/data(tenantID:keyVersion:)``), so a wrapped key copied to
/// another tenant or version fails to unwrap.
public protocol KeyProvider: Sendable {
    /// Identifies the master key (for example a KMS key ARN, or a fingerprint for local keys).
    var keyID: String { get }

    /// Encrypts `dataKey` under the master key, binding `context` as associated data.
    func wrap(_ dataKey: SymmetricKey, context: Data) throws -> Data

    /// Recovers a data key produced by ``wrap(_:context:)`` with the same `context`.
    /// Throws ``KeyProviderError/unwrapFailed`` for a wrong master key, wrong context or altered bytes.
    func unwrap(_ wrapped: Data, context: Data) throws -> SymmetricKey
}

/// Errors of key providers.
public enum KeyProviderError: Error, Equatable, Sendable {
    /// The master key is not 256 bits, or its base64 text is invalid.
    case invalidMasterKey
    /// The wrapped key is too short or has an unknown format byte.
    case malformedWrappedKey
    /// Authentication failed: wrong master key, wrong context, or altered wrapped key.
    case unwrapFailed
}

/// Builds the associated data that binds a wrapped data key to its tenant and key version.
public enum KeyWrapContext {
    /// Injective encoding of (tenant id, key version) for ``KeyProvider`` calls.
    public static func data(tenantID: String, keyVersion: UInt32) -> Data {
        var w = CanonicalWriter(domain: "ehr-keywrap-v1")
        w.string(tenantID)
        w.u32(keyVersion)
        return w.bytes
    }

    /// Injective encoding of (tenant id, version) for a tenant's blind-index key: distinct from every data-key context.
    public static func index(tenantID: String, version: UInt32) -> Data {
        var w = CanonicalWriter(domain: "ehr-keywrap-index-v1")
        w.string(tenantID)
        w.u32(version)
        return w.bytes
    }
}

/// A ``KeyProvider`` holding a 256-bit master key in memory; wraps with AES-256-GCM.
///
/// Wrapped format: format byte `0x01`, 12-byte random nonce, 32-byte encrypted key, 16-byte tag.
public struct LocalKeyProvider: KeyProvider {
    private static let formatByte: UInt8 = 0x01
    private let masterKey: SymmetricKey

    /// Fingerprint-derived identifier (`local-` + 16 hex digits) unless given explicitly.
    public let keyID: String

    /// Uses the 32 bytes of `masterKeyBytes` as master key.
    /// - Throws: ``KeyProviderError/invalidMasterKey`` unless exactly 32 bytes are given.
    public init(masterKeyBytes: Data, keyID: String? = nil) throws {
        guard masterKeyBytes.count == 32 else { throw KeyProviderError.invalidMasterKey }
        let key = SymmetricKey(data: masterKeyBytes)
        self.masterKey = key
        self.keyID = keyID ?? Self.fingerprint(of: key)
    }

    /// Loads the master key from base64 text (surrounding whitespace is ignored).
    /// - Throws: ``KeyProviderError/invalidMasterKey`` for invalid base64 or a length other than 32 bytes.
    public init(base64 text: String, keyID: String? = nil) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let bytes = Data(base64Encoded: trimmed) else { throw KeyProviderError.invalidMasterKey }
        try self.init(masterKeyBytes: bytes, keyID: keyID)
    }

    /// Generates a fresh random 256-bit master key, returned as base64 text for a key file or environment variable.
    public static func generateMasterKeyBase64() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString()
    }

    /// Generates a fresh random 256-bit data key.
    public static func generateDataKey() -> SymmetricKey { SymmetricKey(size: .bits256) }

    /// See ``KeyProvider/wrap(_:context:)``.
    public func wrap(_ dataKey: SymmetricKey, context: Data) throws -> Data {
        let raw = dataKey.withUnsafeBytes { Data($0) }
        let box = try AES.GCM.seal(raw, using: masterKey, nonce: AES.GCM.Nonce(), authenticating: context)
        var out = Data([Self.formatByte])
        out.append(contentsOf: box.nonce)
        out.append(box.ciphertext)
        out.append(box.tag)
        return out
    }

    /// See ``KeyProvider/unwrap(_:context:)``.
    public func unwrap(_ wrapped: Data, context: Data) throws -> SymmetricKey {
        let bytes = Data(wrapped)
        guard bytes.count == 1 + 12 + 32 + 16, bytes.first == Self.formatByte else {
            throw KeyProviderError.malformedWrappedKey
        }
        do {
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: bytes[1..<13]),
                ciphertext: bytes[13..<45],
                tag: bytes[45...])
            return SymmetricKey(data: try AES.GCM.open(box, using: masterKey, authenticating: context))
        } catch {
            throw KeyProviderError.unwrapFailed
        }
    }

    private static func fingerprint(of key: SymmetricKey) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("ehr-master-key-id-v1".utf8), using: key)
        return "local-" + Data(mac).prefix(8).hexString
    }
}
