import Crypto
import Foundation
import JWTKit

/// Loads the ES256 signing key: from configuration when given, otherwise (development only)
/// from `<data>/keys/jwt-es256.pem`, generating it on first run with file mode 0600.
enum SigningKeyStore {
    static func load(pem: String?, dataDirectory: String) throws -> ES256PrivateKey {
        if let pem { return try ES256PrivateKey(pem: pem) }
        let folder = URL(fileURLWithPath: dataDirectory).appendingPathComponent("keys")
        let file = folder.appendingPathComponent("jwt-es256.pem")
        if let existing = try? String(contentsOf: file, encoding: .utf8) {
            return try ES256PrivateKey(pem: existing)
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let key = ES256PrivateKey()
        // Create with 0600 before writing, so the key is never readable by others, not even briefly.
        guard FileManager.default.createFile(atPath: file.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw ConfigurationError.invalid("EHR_DATA_DIR", "is not writable (cannot store the generated signing key)")
        }
        try Data(key.pemRepresentation.utf8).write(to: file)
        return key
    }

    /// A stable key id: the first 16 hex digits of the SHA-256 of the public key's PEM.
    static func keyID(for key: ES256PrivateKey) -> String {
        let digest = SHA256.hash(data: Data(key.publicKey.pemRepresentation.utf8))
        return digest.prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}
