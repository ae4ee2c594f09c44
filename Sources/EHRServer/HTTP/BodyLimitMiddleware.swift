import EHRDomain
import EHRWire
import Hummingbird
import NIOCore
import OpenAPIRuntime

/// Reads the whole request body up to the limit before routing into generated handlers,
/// so an oversized body becomes 413 instead of an error deep in decoding.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var request = request
        if let length = request.headers[.contentLength].flatMap(Int.init), length > RequestLimits.maximumBodySize {
            throw ProblemError.payloadTooLarge
        }
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: RequestLimits.maximumBodySize)
        } catch is NIOTooManyBytesError {
            throw ProblemError.payloadTooLarge
        }
        if body.readableBytes == 0, request.method == .post || request.method == .patch || request.method == .delete || request.method == .put {
            // An absent body is an empty object: optional bodies decode, required fields are named as missing.
            request.body = .init(buffer: ByteBuffer(string: "{}"))
        } else if body.readableBytes > 0, let problem = StrictJSON.problem(in: body.readableBytesView) {
            throw ProblemError.badRequest("The request body is not valid JSON.", errors: [FieldError("body", problem)])
        }
        do {
            return try await next(request, context)
        } catch let error as ServerError where error.operationInput == nil {
            // A date the generated decoder rejected does not carry its field name: find it in the body.
            let dateErrors = QueryDiagnosis.badDateFields(in: Array(body.readableBytesView))
            if !dateErrors.isEmpty { throw ProblemError.badRequest("The request body is not valid.", errors: dateErrors) }
            throw error
        }
    }
}
