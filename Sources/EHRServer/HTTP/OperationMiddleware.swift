import HTTPTypes
import Hummingbird

/// Classifies every request once, by the route the router matched (see ``APIOperations``), answers 404 for
/// no operation and 405 with `Allow` for an undeclared method, and puts the headers every answer carries:
/// `Cache-Control: no-store` (tokens and health data must not sit in any cache), `X-Content-Type-Options:
/// nosniff`, and in production `Strict-Transport-Security`.
struct OperationMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let strictTransportSecurity: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.route = APIOperations.route(method: request.method, endpointPath: context.endpointPath, rawPath: request.uri.path)
        RequestTrace.current?.route(context.route.template)
        var response: Response
        switch context.route {
        case .unknown:
            response = ProblemError(status: .notFound, kind: "not-found", title: "Not found", detail: "No such resource.")
                .response(instance: nil)
        case .methodNotAllowed(_, let allowed):
            response = ProblemError(
                status: .methodNotAllowed, kind: "method-not-allowed", title: "Method not allowed",
                detail: "This resource accepts \(allowed.map(\.rawValue).joined(separator: ", "))."
            )
            .response(instance: nil)
            response.headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
        case .operation:
            do {
                response = try await next(request, context)
            } catch {
                response = ErrorMiddleware.problem(for: error, logger: context.logger).response(instance: nil)
            }
        }
        response.headers[.cacheControl] = "no-store"
        response.headers[.xContentTypeOptions] = "nosniff"
        if strictTransportSecurity { response.headers[.strictTransportSecurity] = "max-age=63072000; includeSubDomains" }
        return response
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
}
