import EHRDomain
import Foundation
import HTTPTypes
import NIOConcurrencyHelpers
import NIOCore

@testable import EHRServer

/// A minimal browser for page tests over HTTP: keeps cookies, posts forms, does not follow redirects.
final class TestBrowser: Sendable {
    let world: TestWorld
    private let jar = NIOLockedValueBox<[String: String]>([:])

    init(_ world: TestWorld) { self.world = world }

    var cookies: [String: String] { jar.withLockedValue { $0 } }

    func setCookie(_ name: String, _ value: String) { jar.withLockedValue { $0[name] = value } }

    @discardableResult
    func get(_ path: String) async throws -> TestWorld.Reply {
        try await send(.get, path, body: nil)
    }

    /// Posts `fields` as a form (the caller adds `_csrf` when the test wants a valid token).
    @discardableResult
    func post(_ path: String, _ fields: [(String, String)]) async throws -> TestWorld.Reply {
        let body = fields.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        return try await send(.post, path, body: body)
    }

    /// Signs in through the sign-in page (its CSRF cookie and field), as a person would.
    func signIn(_ email: String, password: String = DemoSeed.password) async throws -> TestWorld.Reply {
        let form = try await get("/app/login")
        return try await post("/app/login", [("_csrf", Self.csrf(in: form.text) ?? ""), ("tenant", "demo"), ("email", email), ("password", password)])
    }

    /// Starts a session for a seeded account without the sign-in page (no bcrypt: the suite's worlds share two
    /// bcrypt threads). The sign-in page itself is tested on its own.
    func session(_ account: TestWorld.Account, in practice: TestWorld.Practice = TestWorld.demo) async throws {
        let family = UUID()
        try await world.services.store.insertRefreshToken(
            RefreshTokenRecord(
                tenantID: practice.tenantID, userID: account.userID(in: practice), familyID: family, tokenHash: Secrets.hash(Secrets.randomToken()),
                role: account.role, issuedAt: Date(), expiresAt: Date().addingTimeInterval(3600)))
        let cookie = Secrets.randomToken()
        try await world.services.store.createWebSession(
            tokenHash: Secrets.hash(cookie), tenantID: practice.tenantID, userID: account.userID(in: practice), familyID: family,
            csrfToken: Secrets.randomToken(), at: Date())
        setCookie(WebSessions.cookieName, cookie)
    }

    /// The value of the first `_csrf` field of a page.
    static func csrf(in html: String) -> String? {
        guard let range = html.range(of: "name=\"_csrf\" value=\"") else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    private func send(_ method: HTTPRequest.Method, _ path: String, body: String?) async throws -> TestWorld.Reply {
        var headers: HTTPFields = [:]
        let cookie = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
        if !cookie.isEmpty { headers[.cookie] = cookie }
        if body != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        let response = try await world.client.executeRequest(uri: path, method: method, headers: headers, body: body.map { .init(string: $0) })
        for field in response.headers[values: .setCookie] {
            let pair = field.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let (name, value) = (String(pair[0]), String(pair[1]))
            jar.withLockedValue { jar in if value.isEmpty || field.contains("Max-Age=0") { jar[name] = nil } else { jar[name] = value } }
        }
        return TestWorld.Reply(status: response.status, headers: response.headers, body: response.body)
    }

    private static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }
}
