import Crypto
import EHRDomain
import Foundation

/// Opaque, tamper-evident list cursors. A cursor names the list it came from and carries a MAC, so a
/// cursor edited by hand or taken from another list is refused (400) instead of silently re-positioning.
public struct CursorCodec: Sendable {
    /// The list a cursor was made for; a cursor of one list is refused by every other.
    public enum List: UInt8, Sendable {
        case users = 1
        case providers, patients, appointments, notes, auditEvents, accessLog, threads, messages
    }

    /// HMAC keyed once: deriving the keyed state for each cursor was two fifths of making one (every list page).
    private let keyed: HMAC<SHA256>

    /// - Parameter secret: server key material; the cursor key is derived from it with HKDF.
    public init(secret: Data) {
        let key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: secret), info: Data("mentalspace-ehr list cursor v1".utf8), outputByteCount: 32)
        keyed = HMAC(key: key)
    }

    private func mac(_ payload: Data) -> HMAC<SHA256>.MAC {
        var hmac = keyed
        hmac.update(data: payload)
        return hmac.finalize()
    }

    /// The token a client sends back to get the page after `cursor` of `list`: base64url, 50 characters.
    public func encode(_ cursor: PageCursor, list: List) -> String {
        var payload = Data([list.rawValue])
        var millis = Int64((cursor.key.timeIntervalSince1970 * 1000).rounded()).bigEndian
        withUnsafeBytes(of: &millis) { payload.append(contentsOf: $0) }
        withUnsafeBytes(of: cursor.id.uuid) { payload.append(contentsOf: $0) }
        let mac = mac(payload)
        payload.append(contentsOf: mac.prefix(12))
        return payload.base64URLEncoded()
    }

    /// Nil for anything not made by ``encode(_:list:)`` for the same list with the same key.
    public func decode(_ token: String, list: List) -> PageCursor? {
        guard token.count <= 64, let data = Data(base64URLEncoded: token), data.count == 1 + 8 + 16 + 12 else { return nil }
        // Base64 leaves the last character's low four bits unused, and padding is optional: only the spelling
        // encode(_:list:) makes is a cursor, so each cursor has exactly one token.
        guard data.base64URLEncoded() == token else { return nil }
        let bytes = [UInt8](data)
        let payload = Data(bytes[0..<25])
        let expected = mac(payload)
        // Constant-time comparison of the truncated tag.
        var difference: UInt8 = 0
        for (a, b) in zip(expected.prefix(12), bytes[25...]) { difference |= a ^ b }
        guard difference == 0, bytes[0] == list.rawValue else { return nil }
        let millis = bytes[1..<9].reduce(Int64(0)) { ($0 << 8) | Int64($1) }
        let u = Array(bytes[9..<25])
        let id = UUID(uuid: (u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]))
        return PageCursor(key: Date(timeIntervalSince1970: Double(millis) / 1000), id: id)
    }
}
