import EHRDomain
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
        } else if body.readableBytes > 0, let problem = StrictJSON.problem(in: body) {
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

/// Foundation's decoder tolerates some things JSON does not allow (trailing commas); RFC 8259 is the contract.
enum StrictJSON {
    /// A description of the first violation, or nil. Scans outside strings only.
    static func problem(in buffer: ByteBuffer) -> String? {
        var inString = false
        var escaped = false
        var lastSignificant: UInt8 = 0
        for byte in buffer.readableBytesView {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                continue
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if lastSignificant == UInt8(ascii: ",") { return "has a trailing comma" }
            default:
                break
            }
            lastSignificant = byte
        }
        return nil
    }
}
