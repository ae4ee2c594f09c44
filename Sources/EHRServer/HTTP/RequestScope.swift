import EHRDomain
import Foundation

/// Who is calling and from where, for the duration of one request. Carried as a task-local,
/// because generated OpenAPI handlers do not receive the Hummingbird context.
struct RequestScope: Sendable {
    var requestID: String
    var clientIP: String
    var userAgent: String?
    /// Set when the request carried a valid access token.
    var principal: Principal?
    /// Set when it carried an Authorization header that did not verify.
    var authenticationError: DomainError?
    /// The audit event being built for this request (nil for unaudited paths).
    var audit: AuditNote?

    @TaskLocal static var current: RequestScope?

    /// The authenticated caller, or 401.
    static func principal() throws(DomainError) -> Principal {
        guard let scope = current else { throw DomainError.unauthenticated("authentication required") }
        if let principal = scope.principal { return principal }
        throw scope.authenticationError ?? DomainError.unauthenticated("authentication required: send Authorization: Bearer <access token>")
    }

    static var clientIP: String { current?.clientIP ?? "unknown" }
}
