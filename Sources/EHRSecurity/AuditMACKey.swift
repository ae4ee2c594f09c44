import Crypto
import Foundation

/// The audit key made ready for HMAC-SHA256 once: HMAC's keyed inner and outer hash states, copied for each MAC.
/// `HMAC(key:)` derives those states again for every call (pads the key, two hash contexts, two blocks hashed:
/// 8.6 µs of the audit MACs' 12.5 per note, `bench/profile notes`); a copy of the ready states is a copy on write
/// of two digest contexts. The MAC is the same bytes as `HMAC<SHA256>.authenticationCode` (``AuditChainTests``).
public struct AuditMACKey: Sendable {
    private let ready: HMAC<SHA256>

    public init(_ key: SymmetricKey) {
        ready = HMAC(key: key)
    }

    /// HMAC-SHA256 of `hash` under the key.
    public func mac(hash: Data) -> Data {
        var hmac = ready
        hmac.update(data: hash)
        return Data(hmac.finalize())
    }
}
