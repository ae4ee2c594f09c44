import EHRDomain
import EHRPersistence
import Foundation

/// A signed-in browser: who it is and the token its forms must carry.
struct WebSession: Sendable {
    var principal: Principal
    var csrfToken: String
    var tokenHash: String
    var familyID: UUID
}

/// Browser sessions. Sign-in goes through ``AuthService/login`` (same throttle, messages and audit as the API) and
/// starts a refresh-token family; the cookie names a `web_sessions` row bound to that family, so logout,
/// deactivation and a role change (which revoke the family) end it. It also ends after 15 minutes idle and
/// 12 hours in all.
struct WebSessions: Sendable {
    static let cookieName = "__Host-ehr_session"
    static let loginCookieName = "__Host-ehr_login"
    static let idleLimit: TimeInterval = 15 * 60
    static let absoluteLimit: TimeInterval = 12 * 3600
    /// Activity is written at most this often, not on every page view.
    static let touchInterval: TimeInterval = 60

    let services: AppServices

    /// Signs in and returns the new session's cookie value.
    func signIn(tenant: String, email: String, password: String, clientIP: String) async throws -> String {
        let issued = try await services.auth.login(tenantSlug: tenant, email: email, password: password, clientIP: clientIP)
        let token = Secrets.randomToken()
        try await DatabaseScope.tenant(issued.user.tenantID) {
            guard let family = try await services.store.findRefreshToken(hash: Secrets.hash(issued.refreshToken))?.familyID else {
                throw DomainError.unauthenticated("the session could not be started")
            }
            try await services.store.createWebSession(
                tokenHash: Secrets.hash(token), tenantID: issued.user.tenantID, userID: issued.user.id, familyID: family,
                csrfToken: Secrets.randomToken(), at: Date())
        }
        return token
    }

    /// The live session a cookie names, or nil (unknown, idle too long, too old, revoked, deactivated).
    func session(cookie: String?, now: Date = Date()) async throws -> WebSession? {
        guard let cookie, !cookie.isEmpty, cookie.count <= 200 else { return nil }
        let hash = Secrets.hash(cookie)
        guard let record = try await DatabaseScope.system(.tokenLookup, { try await services.store.webSession(tokenHash: hash) }) else {
            return nil
        }
        return try await DatabaseScope.tenant(record.tenantID) { try await session(record, hash: hash, now: now) }
    }

    private func session(_ record: WebSessionRecord, hash: String, now: Date) async throws -> WebSession? {
        let expired = now.timeIntervalSince(record.lastSeenAt) > Self.idleLimit || now.timeIntervalSince(record.createdAt) > Self.absoluteLimit
        guard !expired, record.userActive, record.familyLive else {
            try await end(tokenHash: hash, familyID: record.familyID, now: now)
            return nil
        }
        if now.timeIntervalSince(record.lastSeenAt) > Self.touchInterval {
            try await services.store.touchWebSession(tokenHash: hash, at: now)
        }
        return WebSession(
            principal: Principal(userID: record.userID, tenantID: record.tenantID, role: record.role), csrfToken: record.csrfToken,
            tokenHash: hash, familyID: record.familyID)
    }

    /// Ends the session and revokes its token family.
    func end(tokenHash: String, familyID: UUID, now: Date = Date()) async throws {
        try await services.store.revokeFamily(familyID, at: now)
        try await services.store.deleteWebSession(tokenHash: tokenHash)
    }

    /// `Set-Cookie` for a session cookie: host-only, HttpOnly, SameSite=Strict, Secure. (Browsers accept Secure
    /// cookies from http://127.0.0.1 and http://localhost, so development on loopback works too.)
    static func setCookie(_ name: String, _ value: String, maxAge: Int) -> String {
        "\(name)=\(value); Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=\(maxAge)"
    }
}
