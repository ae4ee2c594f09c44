import EHRDomain
import EHRWire
import Foundation
import JWTKit

/// Claims of an access token.
struct AccessTokenClaims: JWTPayload {
    var iss: IssuerClaim
    var aud: AudienceClaim
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var nbf: NotBeforeClaim
    var iat: IssuedAtClaim
    var jti: IDClaim
    var tenant: String
    var role: String
    /// Token use: "access" or "televisit"; an access token is never accepted as a join token or vice versa.
    var use: String
    /// The appointment a televisit join token admits to (absent from access tokens).
    var apt: String? = nil

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        try nbf.verifyNotBefore()
    }
}

/// Signs and verifies JWTs with one ES256 key. The algorithm is fixed by the server, never read from a token.
struct TokenService: Sendable {
    static let algorithm = "ES256"

    let keys: JWTKeyCollection
    let keyID: String
    let publicKey: ES256PublicKey
    let issuer: String
    let audience: String
    let accessTokenLifetime: TimeInterval
    /// Tokens this service verified in full, for the rest of their lifetime (see ``VerifiedTokenCache``).
    let verified = VerifiedTokenCache()

    init(privateKey: ES256PrivateKey, issuer: String, audience: String, accessTokenLifetime: TimeInterval) async {
        self.keyID = SigningKeyStore.keyID(for: privateKey)
        self.publicKey = privateKey.publicKey
        self.keys = await JWTKeyCollection().add(ecdsa: privateKey, kid: JWKIdentifier(string: keyID))
        self.issuer = issuer
        self.audience = audience
        self.accessTokenLifetime = accessTokenLifetime
    }

    /// Issues an access token for `user`.
    func issueAccessToken(for user: User, now: Date = Date()) async throws -> String {
        try await sign(subject: user.id, tenant: user.tenantID, role: user.role, use: "access", audience: audience, lifetime: accessTokenLifetime, now: now)
    }

    /// Issues a short-lived token that admits `principal` to the televisit room of one appointment.
    func issueTelevisitToken(
        for principal: Principal, roomID: String, appointmentID: UUID, lifetime: TimeInterval, now: Date = Date()
    ) async throws -> String {
        try await sign(
            subject: principal.userID, tenant: principal.tenantID, role: principal.role, use: "televisit",
            audience: "televisit:" + roomID, lifetime: lifetime, now: now, appointment: appointmentID)
    }

    private func sign(
        subject: UUID, tenant: UUID, role: Role, use: String, audience: String, lifetime: TimeInterval, now: Date, appointment: UUID? = nil
    ) async throws -> String {
        let claims = AccessTokenClaims(
            iss: .init(value: issuer), aud: .init(value: [audience]), sub: .init(value: subject.lowercasedString),
            exp: .init(value: now.addingTimeInterval(lifetime)), nbf: .init(value: now.addingTimeInterval(-5)), iat: .init(value: now),
            jti: .init(value: UUID().lowercasedString), tenant: tenant.lowercasedString, role: role.rawValue, use: use,
            apt: appointment?.lowercasedString)
        var header = JWTHeader()
        header.alg = Self.algorithm
        header.typ = "JWT"
        return try await keys.sign(claims, kid: JWKIdentifier(string: keyID), header: header)
    }

    /// Verifies an access token completely: header algorithm and key id, signature, expiry, not-before,
    /// issuer, audience, token use, and well-formed subject, tenant and role. A token verified before is
    /// answered from ``verified`` while `now` is inside its validity window.
    func verifyAccessToken(_ token: String, now: Date = Date()) async throws(DomainError) -> Principal {
        let invalid = DomainError.unauthenticated("the access token is invalid or expired")
        let key = VerifiedTokenCache.key(token)
        if let principal = verified.principal(for: key, now: now) { return principal }
        let claims = try await signedClaims(token, invalid: invalid)
        // JWTKit checked the window against the clock; `now` is the instant this answer is for.
        guard claims.nbf.value <= now, now < claims.exp.value, claims.iss.value == issuer, claims.aud.value == [audience], claims.use == "access",
            let userID = UUID(uuidString: claims.sub.value), let tenantID = UUID(uuidString: claims.tenant),
            let role = Role(rawValue: claims.role)
        else { throw invalid }
        let principal = Principal(userID: userID, tenantID: tenantID, role: role)
        verified.remember(principal, for: key, notBefore: claims.nbf.value, expires: claims.exp.value, now: now)
        return principal
    }

    /// The claims of a token this service signed: the header's algorithm and key id, then the signature (and
    /// JWTKit's check of the window against the clock). Everything else is the caller's to check.
    private func signedClaims(_ token: String, invalid: DomainError) async throws(DomainError) -> AccessTokenClaims {
        guard let header = Self.header(of: token), header.alg == Self.algorithm, header.kid == keyID else { throw invalid }
        do {
            return try await keys.verify(token, as: AccessTokenClaims.self)
        } catch {
            throw invalid
        }
    }

    /// What a verified televisit join token admits to.
    struct TelevisitAdmission: Sendable {
        var principal: Principal
        var roomID: String
        var appointmentID: UUID
    }

    /// Verifies a televisit join token as completely as an access token (algorithm, key, signature, window, issuer),
    /// and that it is a join token for a room: an access token is refused here, as a join token is refused as one.
    func verifyTelevisitToken(_ token: String, now: Date = Date()) async throws(DomainError) -> TelevisitAdmission {
        let invalid = DomainError.unauthenticated("the join token is invalid or expired")
        let claims = try await signedClaims(token, invalid: invalid)
        let prefix = "televisit:"
        guard claims.nbf.value <= now, now < claims.exp.value, claims.iss.value == issuer, claims.use == "televisit",
            claims.aud.value.count == 1, let audience = claims.aud.value.first, audience.hasPrefix(prefix),
            let appointmentID = claims.apt.flatMap(UUID.init(uuidString:)),
            let userID = UUID(uuidString: claims.sub.value), let tenantID = UUID(uuidString: claims.tenant), let role = Role(rawValue: claims.role)
        else { throw invalid }
        return TelevisitAdmission(
            principal: Principal(userID: userID, tenantID: tenantID, role: role), roomID: String(audience.dropFirst(prefix.count)),
            appointmentID: appointmentID)
    }

    /// The public key set published at `/.well-known/jwks.json`.
    var jwk: (x: String, y: String) {
        let parameters = publicKey.parameters!
        return (parameters.x, parameters.y)
    }

    private struct Header: Decodable {
        var alg: String?
        var kid: String?
    }

    /// The `exp` claim of a token ``verifyAccessToken(_:now:)`` accepted (read without verifying: call it only after).
    static func expiry(of token: String) -> Date? {
        struct Expiry: Decodable { var exp: Double }
        let parts = token.split(separator: ".")
        guard parts.count == 3, let data = Data(base64URLEncoded: String(parts[1])),
            let claims = try? JSONDecoder().decode(Expiry.self, from: data)
        else { return nil }
        return Date(timeIntervalSince1970: claims.exp)
    }

    private static func header(of token: String) -> Header? {
        guard let first = token.split(separator: ".", maxSplits: 1).first, let data = Data(base64URLEncoded: String(first)) else { return nil }
        return try? JSONDecoder().decode(Header.self, from: data)
    }
}
