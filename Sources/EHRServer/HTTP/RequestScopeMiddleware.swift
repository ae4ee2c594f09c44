import EHRDomain
import EHRPersistence
import EHRSecurity
import Foundation
import HTTPTypes
import Hummingbird

/// Establishes the ``RequestScope``: request id, client address (see ``TrustedProxies``), and the caller from
/// the bearer token (verified here once per request). Answers carry `X-Request-Id`.
struct RequestScopeMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let tokens: TokenService
    let trustedProxies: TrustedProxies
    /// Pages authenticate by session cookie instead of a bearer token.
    let web: WebGate

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let requestID = Self.requestID(from: request)
        var scope = RequestScope(
            requestID: requestID,
            clientIP: trustedProxies.clientAddress(peer: context.remoteAddress?.ipAddress, forwardedFor: request.headers[values: .xForwardedFor]),
            userAgent: request.headers[.userAgent].map { String($0.prefix(256)) })
        if context.route.operation?.isPage == true {
            var response = try await web.handle(request, context: context, scope: scope, next: next)
            response.headers[.requestID] = requestID
            return response
        }
        if let authorization = request.headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                do {
                    scope.principal = try await tokens.verifyAccessToken(String(parts[1]))
                } catch {
                    scope.authenticationError = error
                }
            } else {
                scope.authenticationError = .unauthenticated("the Authorization header must be: Bearer <access token>")
            }
        }
        RequestTrace.current?.identify(requestID: requestID, tenantID: scope.principal?.tenantID)
        // Everything but the public operations needs a caller: answer 401 before any input is parsed,
        // so an anonymous request learns nothing from validation messages.
        if scope.principal == nil, context.route.operation?.isPublic != true {
            let error = scope.authenticationError ?? .unauthenticated("authentication required: send Authorization: Bearer <access token>")
            var response = ProblemError(error).response(instance: request.uri.path)
            response.headers[.requestID] = requestID
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        // The database shows this request only its practice's rows (row-level security in PostgreSQL); public
        // operations start with none and name their narrow lookups (SystemAccess).
        let principal = scope.principal
        var response = try await DatabaseScope.$current.withValue(principal.map { .tenant($0.tenantID) }) {
            try await RequestScope.$current.withValue(scope) { try await next(request, context) }
        }
        response.headers[.requestID] = requestID
        return response
    }

    /// Accepts a caller's request id only when it is short and plain; otherwise makes one.
    private static func requestID(from request: Request) -> String {
        if let given = request.headers[.requestID], given.count <= 64,
            given.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }), given.allSatisfy(\.isASCII)
        {
            return given
        }
        return RandomUUID.make().lowercasedString
    }
}

extension HTTPField.Name {
    static let requestID = HTTPField.Name("X-Request-Id")!
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
}
