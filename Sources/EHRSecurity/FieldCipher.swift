import Crypto
import Foundation

/// Errors of ``FieldCipher``.
public enum FieldCipherError: Error, Equatable, Sendable {
    /// Authentication failed: the ciphertext belongs to another tenant, table, column or row,
    /// or its bytes were altered. (GCM cannot tell these apart.)
    case wrongContext
    /// The header names a key version the keyring does not hold (e.g. shredded or not yet loaded).
    case unknownKeyVersion(UInt32)
    /// Not a ciphertext of this format: missing prefix, bad base64, unknown format byte, too short,
    /// or decrypted bytes that are not valid UTF-8 / JSON for the requested type.
    case malformed
}

/// AES-256-GCM encryption of single column values.
///
/// Stored text: `ehr1:` + base64 of
/// `format byte 0x01 | key version (UInt32, big-endian) | 12-byte random nonce | ciphertext | 16-byte tag`.
/// The associated data binds the ``FieldContext`` and the 5-byte header. Decryption picks the key named
/// in the header from the ``TenantKeyring``, so rows under older versions decrypt during rotation.
public struct FieldCipher: Sendable {
    /// Text prefix marking an encrypted value.
    public static let prefix = "ehr1:"
    /// Binary format byte.
    public static let formatByte: UInt8 = 0x01
    static let headerSize = 5
    static let nonceSize = 12
    static let tagSize = 16

    /// Keys used to encrypt (current version) and decrypt (any held version).
    public let keyring: TenantKeyring

    /// Creates a cipher over `keyring`.
    public init(keyring: TenantKeyring) { self.keyring = keyring }

    /// True when `stored` carries the ciphertext prefix (cheap check; does not validate).
    public static func isEncrypted(_ stored: String) -> Bool { stored.hasPrefix(prefix) }

    /// The key version named in a stored ciphertext's header (for finding rows to re-encrypt).
    /// - Throws: ``FieldCipherError/malformed``.
    public static func keyVersion(of stored: String) throws -> UInt32 {
        let bytes = try decodeEnvelope(stored)
        return bytes.readUInt32BE(at: 1)
    }

    /// True when `stored` is not under the keyring's current version.
    public func needsReencryption(_ stored: String) throws -> Bool {
        try Self.keyVersion(of: stored) != keyring.currentVersion
    }

    /// Encrypts raw bytes under the current key version.
    public func encrypt(_ plaintext: Data, context: FieldContext) throws -> String {
        var header = Data([Self.formatByte])
        withUnsafeBytes(of: keyring.currentVersion.bigEndian) { header.append(contentsOf: $0) }
        let associated = context.associatedData(header: header)
        // The key's kept schedule (see AESGCMContext); without one the version cannot be used here, as in decrypt.
        guard let sealer = keyring.context(version: keyring.currentVersion) else {
            throw FieldCipherError.unknownKeyVersion(keyring.currentVersion)
        }
        let bodyStart = Self.headerSize + Self.nonceSize
        var envelope = [UInt8](repeating: 0, count: bodyStart + plaintext.count + Self.tagSize)
        let sealed = envelope.withUnsafeMutableBytes { out in
            out.copyBytes(from: header)
            let nonce = UnsafeMutableRawBufferPointer(rebasing: out[Self.headerSize..<bodyStart])
            Self.randomNonce(into: nonce)
            return plaintext.withUnsafeBytes { plaintext in
                associated.withUnsafeBytes { associated in
                    sealer.seal(
                        plaintext, nonce: UnsafeRawBufferPointer(nonce), authenticating: associated,
                        into: UnsafeMutableRawBufferPointer(rebasing: out[bodyStart...]))
                }
            }
        }
        // BoringSSL refuses only what this code never passes (a wrong nonce or output size); `AES.GCM.seal` threw then.
        guard sealed else { throw CryptoKitError.underlyingCoreCryptoError(error: 0) }
        return Self.prefix + Data(envelope).base64EncodedString()
    }

    /// Twelve bytes from the system's random source (as `AES.GCM.Nonce()` takes them): a nonce is never reused under
    /// a key only by chance, at 2^-96 a pair.
    static func randomNonce(into nonce: UnsafeMutableRawBufferPointer) {
        precondition(nonce.count == nonceSize)
        var generator = SystemRandomNumberGenerator()
        withUnsafeBytes(of: (generator.next() as UInt64, generator.next() as UInt32)) { random in
            nonce.copyBytes(from: UnsafeRawBufferPointer(rebasing: random[..<nonceSize]))
        }
    }

    /// Encrypts a UTF-8 string.
    public func encrypt(_ plaintext: String, context: FieldContext) throws -> String {
        try encrypt(Data(plaintext.utf8), context: context)
    }

    /// Decrypts a value produced by ``encrypt(_:context:)-(Data,_)`` with the same context.
    /// - Throws: ``FieldCipherError``.
    public func decrypt(_ stored: String, context: FieldContext) throws -> Data {
        let bytes = try Self.decodeEnvelope(stored)
        let version = bytes.readUInt32BE(at: 1)
        guard let opener = keyring.context(version: version) else { throw FieldCipherError.unknownKeyVersion(version) }
        let bodyStart = bytes.startIndex + Self.headerSize
        let associated = context.associatedData(header: bytes[..<bodyStart])
        // After the header the envelope is GCM's own combined form (nonce | ciphertext | tag), opened in place.
        let plaintext = bytes.withUnsafeBytes { envelope in
            associated.withUnsafeBytes { associated in
                opener.open(combined: UnsafeRawBufferPointer(rebasing: envelope[Self.headerSize...]), authenticating: associated)
            }
        }
        guard let plaintext else { throw FieldCipherError.wrongContext }
        return plaintext
    }

    /// Decrypts to a UTF-8 string.
    /// - Throws: ``FieldCipherError``; `.malformed` if the plaintext is not UTF-8.
    public func decryptString(_ stored: String, context: FieldContext) throws -> String {
        let data = try decrypt(stored, context: context)
        guard let s = String(data: data, encoding: .utf8) else { throw FieldCipherError.malformed }
        return s
    }

    /// Encrypts an optional string; nil stays nil (NULL column).
    public func encryptOptional(_ plaintext: String?, context: FieldContext) throws -> String? {
        try plaintext.map { try encrypt($0, context: context) }
    }

    /// Decrypts an optional stored value; nil stays nil.
    public func decryptOptional(_ stored: String?, context: FieldContext) throws -> String? {
        try stored.map { try decryptString($0, context: context) }
    }

    /// Encodes `value` as JSON (sorted keys) and encrypts it.
    public func encrypt<T: Encodable>(codable value: T, context: FieldContext) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encrypt(encoder.encode(value), context: context)
    }

    /// Encrypts `members` as ``encrypt(codable:context:)`` would (the same JSON bytes), written by ``EncoderJSON``
    /// when its keys allow (a note's sections) instead of an encoder per value.
    public func encrypt(members: [String: String], context: FieldContext) throws -> String {
        guard let json = EncoderJSON.sortedObject(members) else { return try encrypt(codable: members, context: context) }
        return try encrypt(Data(json), context: context)
    }

    /// Decrypts and decodes a value stored by ``encrypt(codable:context:)``.
    /// - Throws: ``FieldCipherError``; `.malformed` if the JSON does not decode as `T`.
    public func decrypt<T: Decodable>(_ type: T.Type, from stored: String, context: FieldContext) throws -> T {
        let data = try decrypt(stored, context: context)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw FieldCipherError.malformed
        }
    }

    private static func decodeEnvelope(_ stored: String) throws -> Data {
        guard stored.hasPrefix(prefix),
            let bytes = Data(base64Encoded: String(stored.dropFirst(prefix.count))),
            bytes.count >= headerSize + nonceSize + tagSize,
            bytes.first == formatByte
        else { throw FieldCipherError.malformed }
        return bytes
    }
}
