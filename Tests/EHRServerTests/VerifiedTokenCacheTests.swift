import EHRDomain
import Foundation
import JWTKit
import Testing

@testable import EHRServer

/// Verified access tokens are remembered only for their own lifetime, and only byte for byte.
@Suite("Verified token cache")
struct VerifiedTokenCacheTests {
    private func service(lifetime: TimeInterval = 900) async -> TokenService {
        await TokenService(privateKey: ES256PrivateKey(), issuer: "ehr-test", audience: "ehr-api", accessTokenLifetime: lifetime)
    }

    private let user = User(tenantID: UUID(), email: "t@demo.test", displayName: "T", role: .therapist)

    @Test func aVerifiedTokenIsRememberedUntilItExpires() async throws {
        let tokens = await service(lifetime: 900)
        let token = try await tokens.issueAccessToken(for: user)
        let first = try await tokens.verifyAccessToken(token)
        #expect(first == Principal(userID: user.id, tenantID: user.tenantID, role: .therapist))
        #expect(tokens.verified.count == 1)
        #expect(try await tokens.verifyAccessToken(token) == first)
        // Past its expiry the remembered token is refused and forgotten.
        await #expect(throws: DomainError.self) { try await tokens.verifyAccessToken(token, now: Date().addingTimeInterval(901)) }
        #expect(tokens.verified.count == 0)
    }

    @Test func aTokenNotYetValidIsNotAnsweredFromTheCache() async throws {
        let tokens = await service()
        let token = try await tokens.issueAccessToken(for: user)
        _ = try await tokens.verifyAccessToken(token)
        // nbf is five seconds before issue: a minute earlier is outside the window.
        await #expect(throws: DomainError.self) { try await tokens.verifyAccessToken(token, now: Date().addingTimeInterval(-60)) }
    }

    @Test func anyChangedByteIsVerifiedInFullAndRefused() async throws {
        let tokens = await service()
        let token = try await tokens.issueAccessToken(for: user)
        _ = try await tokens.verifyAccessToken(token)
        var bytes = Array(token.utf8)
        bytes[bytes.count - 3] = bytes[bytes.count - 3] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        await #expect(throws: DomainError.self) { try await tokens.verifyAccessToken(String(decoding: bytes, as: UTF8.self)) }
        // Same claims signed by another key: another digest, and the signature fails.
        let forged = try await (await service()).issueAccessToken(for: user)
        await #expect(throws: DomainError.self) { try await tokens.verifyAccessToken(forged) }
        #expect(tokens.verified.count == 1)
    }

    @Test func theCacheStaysWithinItsCapacity() {
        let cache = VerifiedTokenCache(capacity: 3)
        let now = Date()
        let principal = Principal(userID: UUID(), tenantID: UUID(), role: .client)
        cache.remember(principal, for: VerifiedTokenCache.key("expired"), notBefore: now - 100, expires: now - 1, now: now)
        for name in ["a", "b"] {
            cache.remember(principal, for: VerifiedTokenCache.key(name), notBefore: now - 1, expires: now + 60, now: now)
        }
        // Full: the expired entry makes room.
        cache.remember(principal, for: VerifiedTokenCache.key("c"), notBefore: now - 1, expires: now + 60, now: now)
        #expect(cache.count == 3)
        #expect(cache.principal(for: VerifiedTokenCache.key("a"), now: now) == principal)
        // Full of live entries: all go, the newest stays.
        cache.remember(principal, for: VerifiedTokenCache.key("d"), notBefore: now - 1, expires: now + 60, now: now)
        #expect(cache.count == 1)
        #expect(cache.principal(for: VerifiedTokenCache.key("d"), now: now) == principal)
        #expect(cache.principal(for: VerifiedTokenCache.key("a"), now: now) == nil)
    }
}
