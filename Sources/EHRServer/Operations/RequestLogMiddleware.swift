import EHRDomain
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOConcurrencyHelpers

/// What inner middleware learns about a request (its id and practice), for the request line and metrics.
final class RequestTrace: Sendable {
    private let state = NIOLockedValueBox<(requestID: String?, tenantID: UUID?)>((nil, nil))
    @TaskLocal static var current: RequestTrace?

    func identify(requestID: String, tenantID: UUID?) { state.withLockedValue { $0 = (requestID, tenantID) } }
    var requestID: String? { state.withLockedValue { $0.requestID } }
    var tenantID: UUID? { state.withLockedValue { $0.tenantID } }
}

/// The outermost middleware: one structured log line and the HTTP metrics per request, with the route
/// template (never the raw path, which carries record ids), status, duration, request id and practice id.
/// Never the body, query string, tokens or any field value.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let trace = RequestTrace()
        let start = ContinuousClock.now
        let route = RouteTemplates.template(method: request.method, path: request.uri.path)
        let status: Int
        do {
            let response = try await RequestTrace.$current.withValue(trace) { try await next(request, context) }
            status = response.status.code
            finish(request, context, trace, route, status, start)
            return response
        } catch let error as HTTPResponseError {
            status = error.status.code
            finish(request, context, trace, route, status, start)
            throw error
        } catch {
            finish(request, context, trace, route, 500, start)
            throw error
        }
    }

    private func finish(_ request: Request, _ context: Context, _ trace: RequestTrace, _ route: String, _ status: Int, _ start: ContinuousClock.Instant) {
        let duration = ContinuousClock.now - start
        EHRMetrics.recordRequest(method: request.method.rawValue, route: route, status: status, duration: duration)
        var metadata: Logger.Metadata = [
            "http.method": "\(request.method.rawValue)", "http.route": "\(route)", "http.status": "\(status)",
            "duration_ms": "\(String(format: "%.2f", Double(duration.nanoseconds) / 1_000_000))",
        ]
        if let id = trace.requestID { metadata["request.id"] = "\(id)" }
        if let tenant = trace.tenantID { metadata["tenant.id"] = "\(tenant.uuidString.lowercased())" }
        context.logger.log(level: status >= 500 ? .error : .info, "request", metadata: metadata)
    }
}

/// Route templates for metrics and logs: the contract's path with `{id}`, or a fixed name.
enum RouteTemplates {
    static let fixed: Set<String> = ["/health", "/ready", "/metrics", "/openapi.yaml", "/.well-known/jwks.json"]

    static func template(method: HTTPRequest.Method, path: String) -> String {
        if fixed.contains(path) { return path }
        if let template = AuditRoutes.template(method: method, path: path) { return template }
        // Unknown paths are one series, so random URLs cannot blow up the metric's cardinality.
        return "unmatched"
    }
}
