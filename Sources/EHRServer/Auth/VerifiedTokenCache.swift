import Crypto
import EHRDomain
import Foundation
import NIOConcurrencyHelpers

/// Access tokens already verified in full, by SHA-256 digest, each kept only while the token itself is valid:
/// a client sends the same token with every request for its whole lifetime, and an ES256 verification per
/// request showed in profiles. A hit returns the principal the full check produced; its validity window is
/// checked on every use, and any other token (one changed byte included) has another digest and is verified
/// in full. Bounded: when full, expired entries go, and if none have expired, all do.
final class VerifiedTokenCache: Sendable {
    private struct Entry {
        var principal: Principal
        var notBefore: Date
        var expires: Date
    }

    private let entries = NIOLockedValueBox<[SHA256.Digest: Entry]>([:])
    let capacity: Int

    init(capacity: Int = 20_000) {
        self.capacity = capacity
    }

    static func key(_ token: String) -> SHA256.Digest { SHA256.hash(data: Data(token.utf8)) }

    /// The principal of a verified token still inside its validity window at `now`.
    func principal(for key: SHA256.Digest, now: Date) -> Principal? {
        entries.withLockedValue { entries in
            guard let entry = entries[key] else { return nil }
            guard now >= entry.notBefore, now < entry.expires else {
                entries[key] = nil
                return nil
            }
            return entry.principal
        }
    }

    func remember(_ principal: Principal, for key: SHA256.Digest, notBefore: Date, expires: Date, now: Date) {
        entries.withLockedValue { entries in
            if entries.count >= capacity {
                entries = entries.filter { now < $0.value.expires }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[key] = Entry(principal: principal, notBefore: notBefore, expires: expires)
        }
    }

    var count: Int { entries.withLockedValue { $0.count } }
}
