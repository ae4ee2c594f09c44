import EHRDomain
import EHRWire
import Foundation
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
            if let key = context.route.operation?.key, APIOperations.bodyRequired.contains(key) {
                throw ProblemError.badRequest("The request body is required.", errors: [FieldError("body", "is required")])
            }
            // An absent optional body is an empty object, so it decodes.
            request.body = .init(buffer: ByteBuffer(string: "{}"))
        } else if body.readableBytes > 0, let problem = StrictJSON.problem(in: body.readableBytesView) {
            throw ProblemError.badRequest("The request body is not valid JSON.", errors: [FieldError("body", problem)])
        } else if body.readableBytes > 0 {
            let nulls = Self.nullFields(in: body)
            if !nulls.isEmpty {
                throw ProblemError.badRequest("The request body is not valid.", errors: nulls.map { FieldError($0, "must not be null") })
            }
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

    /// Properties the contract lets a request set to `null` (to clear them).
    static let nullable: Set<String> = ["address", "emergencyContact"]

    /// Members given as `null` where the contract does not allow it. The generated decoder reads an optional
    /// property's `null` as "absent", which would accept what the contract refuses.
    static func nullFields(in body: ByteBuffer) -> [String] {
        // Fast path: no `null` token anywhere.
        guard mentionsNull(body),
            let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView), options: [.fragmentsAllowed])
        else { return [] }
        var found: [String] = []
        func walk(_ value: Any, _ path: String) {
            switch value {
            case is NSNull:
                found.append(path.isEmpty ? "body" : path)
            case let dictionary as [String: Any]:
                for (key, member) in dictionary.sorted(by: { $0.key < $1.key }) {
                    if path.isEmpty, nullable.contains(key), member is NSNull { continue }
                    walk(member, path.isEmpty ? key : "\(path).\(key)")
                }
            case let array as [Any]:
                for element in array { walk(element, path) }
            default:
                break
            }
        }
        walk(object, "")
        return Array(Set(found)).sorted()
    }

    /// Whether the bytes `null` occur anywhere in `body`. A plain scan: `DataProtocol.firstRange(of:)` over the
    /// buffer's view took about 10 µs for a note's 150 bytes (perf, `bench/profile notes`), on every request with a body.
    static func mentionsNull(_ body: ByteBuffer) -> Bool {
        body.withUnsafeReadableBytes { bytes in
            guard bytes.count >= 4 else { return false }
            for i in 0...(bytes.count - 4)
            where bytes[i] == UInt8(ascii: "n") && bytes[i + 1] == UInt8(ascii: "u") && bytes[i + 2] == UInt8(ascii: "l")
                && bytes[i + 3] == UInt8(ascii: "l")
            {
                return true
            }
            return false
        }
    }
}
