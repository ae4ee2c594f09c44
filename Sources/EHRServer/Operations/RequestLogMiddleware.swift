import EHRDomain
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOConcurrencyHelpers

/// What inner middleware learns about a request (its route template, id and practice), for the request line and metrics.
final class RequestTrace: Sendable {
    private let state = NIOLockedValueBox<(route: String, requestID: String?, tenantID: UUID?)>(("unmatched", nil, nil))
    @TaskLocal static var current: RequestTrace?

    func route(_ template: String) { state.withLockedValue { $0.route = template } }
    func identify(requestID: String, tenantID: UUID?) {
        state.withLockedValue {
            $0.requestID = requestID
            $0.tenantID = tenantID
        }
    }
    var route: String { state.withLockedValue { $0.route } }
    var requestID: String? { state.withLockedValue { $0.requestID } }
    var tenantID: UUID? { state.withLockedValue { $0.tenantID } }
}

/// The outermost middleware: one structured log line and the HTTP metrics per request, with the route
/// template as ``OperationMiddleware`` classified it (never the raw path, which carries record ids), status, duration, request id and practice id.
/// Never the body, query string, tokens or any field value.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let trace = RequestTrace()
        let start = ContinuousClock.now
        let status: Int
        do {
            let response = try await RequestTrace.$current.withValue(trace) { try await next(request, context) }
            status = response.status.code
            finish(request, context, trace, status, start)
            return response
        } catch let error as HTTPResponseError {
            status = error.status.code
            finish(request, context, trace, status, start)
            throw error
        } catch {
            finish(request, context, trace, 500, start)
            throw error
        }
    }

    private func finish(_ request: Request, _ context: Context, _ trace: RequestTrace, _ status: Int, _ start: ContinuousClock.Instant) {
        let duration = ContinuousClock.now - start
        let route = trace.route
        EHRMetrics.recordRequest(method: request.method.rawValue, route: route, status: status, duration: duration)
        let level: Logger.Level = status >= 500 ? .error : .info
        guard context.logger.logLevel <= level else { return }
        var metadata: Logger.Metadata = [
            "http.method": "\(request.method.rawValue)", "http.route": "\(route)", "http.status": "\(status)",
            "duration_ms": "\(Self.milliseconds(duration))",
        ]
        if let id = trace.requestID { metadata["request.id"] = "\(id)" }
        if let tenant = trace.tenantID { metadata["tenant.id"] = "\(tenant.lowercasedString)" }
        context.logger.log(level: level, "request", metadata: metadata)
    }

    /// Milliseconds with two decimals ("12.05"), without `String(format:)` (a `vfprintf` per request).
    static func milliseconds(_ duration: Duration) -> String {
        let hundredths = max(0, (duration.nanoseconds + 5_000) / 10_000)
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
