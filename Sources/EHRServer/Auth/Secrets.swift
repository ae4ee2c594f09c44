import Crypto
import EHRWire
import Foundation

/// Random opaque tokens (refresh tokens, invitations) and their stored form.
enum Secrets {
    /// 256 random bits, base64url without padding.
    static func randomToken() -> String {
        let key = SymmetricKey(size: .bits256)
        return key.withUnsafeBytes { Data($0) }.base64URLEncoded()
    }

    /// What the database keeps instead of the token: hex SHA-256. A leaked table cannot be replayed.
    static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Compares two secrets in time independent of where they differ (digests of equal length).
    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        SHA256.hash(data: Data(a.utf8)) == SHA256.hash(data: Data(b.utf8))
    }
}
