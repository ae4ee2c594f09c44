import EHRDomain
import EHRPersistence
import Foundation
import Hummingbird
import Logging

/// Records one audit event for every audited operation (see ``APIOperations``), allowed or not, and holds
/// the answer until the event is committed: a write's event commits with the change (the repositories
/// take it from ``TransactionAudit``); any other request's event goes through the group-commit
/// ``AuditWriter``. If the event cannot be written the caller gets 503, never the data.
struct AuditMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    /// Nil only when the audit writer is switched off for a benchmark (refused in production).
    let writer: AuditWriter?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let writer, var scope = RequestScope.current, let route = context.route.operation?.audit
        else { return try await next(request, context) }
        let note = AuditNote(
            route: route, resourceID: context.parameters.get("id"), requestID: scope.requestID, clientIP: scope.clientIP, userAgent: scope.userAgent)
        if let principal = scope.principal {
            note.identify(tenantID: principal.tenantID, actorID: principal.userID, role: principal.role.rawValue)
        }
        scope.audit = note
        let response = try await RequestScope.$current.withValue(scope) {
            try await TransactionAudit.$current.withValue(note) { try await next(request, context) }
        }
        guard let draft = note.finalDraft(outcome: Self.outcome(response.status, denied: note.isDenied)) else { return response }
        do {
            try await writer.record(draft)
        } catch {
            context.logger.error(
                "audit event not written; answer withheld", metadata: ["error.type": "\(type(of: error))", "request.id": "\(scope.requestID)"])
            return ProblemError.auditUnavailable.response(instance: request.uri.path)
        }
        return response
    }

    static func outcome(_ status: HTTPResponse.Status, denied: Bool) -> AuditOutcome {
        switch status.code {
        case 200..<400: return .allowed
        case 401, 403, 429: return .denied
        case 404: return denied ? .denied : .notFound
        default: return .error
        }
    }
}
