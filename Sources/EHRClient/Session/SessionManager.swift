import EHRAPI
import Foundation
import HTTPTypes
import OpenAPIRuntime
import OpenAPIURLSession

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension OpenAPIRuntime.ClientError: OpenAPIRuntimeClientErrorBox {
    var underlying: any Error { underlyingError }
}

/// Signs in and out and keeps the access token fresh: refreshed shortly before it expires and once more
/// when the server answers 401. Tokens persist in a ``SecureStore`` so a signed-in user stays signed in.
public actor SessionManager {
    let store: any SecureStore
    let transport: any ClientTransport
    /// Refresh when the access token has less than this left.
    let refreshMargin: TimeInterval
    private var loaded = false
    private var info: SessionInfo?
    private var refreshing: Task<SessionInfo, any Error>?

    public init(store: any SecureStore, transport: any ClientTransport = URLSessionTransport(), refreshMargin: TimeInterval = 60) {
        self.store = store
        self.transport = transport
        self.refreshMargin = refreshMargin
    }

    /// The stored session, if any.
    public var current: SessionInfo? {
        if !loaded {
            loaded = true
            info = (try? store.read()).flatMap { try? JSONDecoder().decode(SessionInfo.self, from: $0) }
        }
        return info
    }

    /// Signs in and stores the session.
    /// - Throws: ``ClientError`` (`.wrongCredentials`, `.locked`, `.offline`, `.invalidRequest`, `.practiceUnavailable`, `.server`).
    @discardableResult
    public func signIn(server: URL, tenant: String, email: String, password: String) async throws(ClientError) -> SessionInfo {
        let client = Self.client(server: server, transport: transport)
        let output: Operations.Login.Output
        do {
            output = try await client.login(body: .json(.init(tenant: tenant, email: email, password: password)))
        } catch {
            throw ClientError.from(error)
        }
        switch output {
        case .ok(let ok):
            guard case .json(let tokens) = ok.body else { throw .server(status: 200, detail: nil) }
            let session = Self.session(tokens, server: server, tenant: tenant)
            try save(session)
            return session
        case .unauthorized: throw .wrongCredentials
        case .tooManyRequests(let response): throw .locked(retryAfter: response.headers.retryAfter)
        case .badRequest(let response): throw .invalidRequest(Self.detail(response.body) ?? "The request was not valid.")
        case .unprocessableContent(let response): throw .invalidRequest(Self.detail(response.body) ?? "The request was not valid.")
        case .contentTooLarge: throw .invalidRequest("The request was too large.")
        case .undocumented(let status, _): throw status == 410 ? .practiceUnavailable : .server(status: status, detail: nil)
        }
    }

    /// A valid access token, refreshed first when it is about to expire.
    public func accessToken() async throws(ClientError) -> String {
        guard let session = current else { throw .notSignedIn }
        if session.accessTokenExpiresAt.timeIntervalSinceNow > refreshMargin { return session.accessToken }
        return try await refresh().accessToken
    }

    /// Exchanges the refresh token for a new pair (one exchange at a time; concurrent callers share it).
    /// - Throws: `.sessionExpired` when the server refuses the refresh token (the stored session is then removed).
    @discardableResult
    public func refresh() async throws(ClientError) -> SessionInfo {
        if let refreshing {
            do { return try await refreshing.value } catch { throw ClientError.from(error) }
        }
        guard let session = current else { throw .notSignedIn }
        let task = Task { [transport] in try await Self.exchange(session, transport: transport) }
        refreshing = task
        defer { refreshing = nil }
        do {
            let fresh = try await task.value
            try save(fresh)
            return fresh
        } catch let error as ClientError {
            if error == .sessionExpired { forget() }
            throw error
        } catch {
            throw ClientError.from(error)
        }
    }

    /// Revokes the refresh token on the server (best effort: offline still signs out here) and removes the session.
    public func signOut() async {
        if let session = current {
            let client = Self.client(server: session.serverURL, transport: transport)
            _ = try? await client.logout(body: .json(.init(refreshToken: session.refreshToken)))
        }
        forget()
    }

    private func forget() {
        info = nil
        loaded = true
        try? store.delete()
    }

    private func save(_ session: SessionInfo) throws(ClientError) {
        do {
            try store.write(try JSONEncoder().encode(session))
        } catch {
            throw .server(status: 0, detail: "The session could not be stored on this device.")
        }
        info = session
        loaded = true
    }

    private static func exchange(_ session: SessionInfo, transport: any ClientTransport) async throws -> SessionInfo {
        let client = client(server: session.serverURL, transport: transport)
        let output: Operations.RefreshToken.Output
        do {
            output = try await client.refreshToken(body: .json(.init(refreshToken: session.refreshToken)))
        } catch {
            throw ClientError.from(error)
        }
        switch output {
        case .ok(let ok):
            guard case .json(let tokens) = ok.body else { throw ClientError.server(status: 200, detail: nil) }
            return Self.session(tokens, server: session.serverURL, tenant: session.tenant)
        case .undocumented(let status, _): throw status == 410 ? ClientError.practiceUnavailable : ClientError.server(status: status, detail: nil)
        default: throw ClientError.sessionExpired
        }
    }

    static func session(_ tokens: Components.Schemas.TokenResponse, server: URL, tenant: String) -> SessionInfo {
        SessionInfo(
            serverURL: server, tenant: tenant, tenantID: tokens.user.tenantId, userID: tokens.user.id, role: tokens.user.role.rawValue,
            email: tokens.user.email, displayName: tokens.user.displayName, patientID: tokens.user.patientId,
            accessToken: tokens.accessToken, refreshToken: tokens.refreshToken,
            accessTokenExpiresAt: Date().addingTimeInterval(TimeInterval(tokens.expiresIn)))
    }

    static func detail(_ body: Components.Responses.BadRequest.Body) -> String? {
        if case .applicationProblemJson(let problem) = body { return problem.detail ?? problem.title }
        return nil
    }

    static func detail(_ body: Components.Responses.UnprocessableContent.Body) -> String? {
        if case .applicationProblemJson(let problem) = body { return problem.detail ?? problem.title }
        return nil
    }

    /// A generated client for `server` (dates with or without fractional seconds).
    static func client(server: URL, transport: any ClientTransport, middlewares: [any ClientMiddleware] = []) -> Client {
        Client(serverURL: server, configuration: .init(dateTranscoder: .iso8601WithFractionalSeconds), transport: transport, middlewares: middlewares)
    }
}

/// Adds the bearer token to every request; on a 401 refreshes once and retries.
struct BearerTokenMiddleware: ClientMiddleware {
    let session: SessionManager

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        request.headerFields[.authorization] = "Bearer \(try await session.accessToken())"
        let (response, responseBody) = try await next(request, body, baseURL)
        guard response.status == .unauthorized else { return (response, responseBody) }
        let fresh = try await session.refresh()
        request.headerFields[.authorization] = "Bearer \(fresh.accessToken)"
        return try await next(request, body, baseURL)
    }
}
