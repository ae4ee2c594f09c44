import Hummingbird
import NIOCore

/// Reads the whole request body up to the limit before routing into generated handlers,
/// so an oversized body becomes 413 instead of an error deep in decoding.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var request = request
        if let length = request.headers[.contentLength].flatMap(Int.init), length > RequestLimits.maximumBodySize {
            throw ProblemError.payloadTooLarge
        }
        do {
            _ = try await request.collectBody(upTo: RequestLimits.maximumBodySize)
        } catch is NIOTooManyBytesError {
            throw ProblemError.payloadTooLarge
        }
        return try await next(request, context)
    }
}
