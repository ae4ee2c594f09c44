import EHRDomain
import EHRPersistence
import Foundation
import Hummingbird
import Logging
import NIOCore
import OpenAPIRuntime

/// Turns every error into an RFC 9457 problem response, in one place. Client mistakes become 4xx
/// naming the field; anything unexpected becomes a bare 500 whose details go only to the log
/// (type names and codes, never request content).
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let problem = Self.problem(for: error, logger: context.logger)
            return problem.response(instance: request.uri.path)
        }
    }

    static func problem(for error: any Error, logger: Logger) -> ProblemError {
        switch error {
        case let problem as ProblemError:
            return problem
        case let domain as DomainError:
            if domain == .forbidden { RequestScope.current?.audit?.markDenied() }
            return ProblemError(domain)
        case let storage as StorageError:
            return problem(for: storage, logger: logger)
        case let server as ServerError:
            return problem(for: server, logger: logger)
        case let decoding as DecodingError:
            return ProblemError.badRequest("The request body is not valid.", errors: [Self.fieldError(decoding)])
        case is NIOTooManyBytesError:
            return .payloadTooLarge
        case let http as HTTPError:
            if http.status == .notFound {
                return ProblemError(status: .notFound, kind: "not-found", title: "Not found", detail: "No such resource.")
            }
            if http.status.code < 500 {
                return ProblemError(status: http.status, kind: "http-\(http.status.code)", title: http.status.reasonPhrase, detail: http.body)
            }
            logger.error("request failed", metadata: ["error.type": "\(type(of: error))", "status": "\(http.status.code)"])
            return .internalError
        case _ where isDatabaseUnavailable(error):
            return .databaseUnavailable
        default:
            logger.error("request failed", metadata: ["error.type": "\(type(of: error))"])
            return .internalError
        }
    }

    /// Generated handlers wrap every error. Without an operation input the request itself could not be
    /// parsed (bad JSON, type, enum value, parameter): that is the client's mistake.
    private static func problem(for error: ServerError, logger: Logger) -> ProblemError {
        if let domain = error.underlyingError as? DomainError { return Self.problem(for: domain, logger: logger) }
        if let storage = error.underlyingError as? StorageError { return Self.problem(for: storage, logger: logger) }
        if let problem = error.underlyingError as? ProblemError { return problem }
        if error.operationInput == nil {
            let queryErrors = QueryDiagnosis.badFields(in: error.request, operationID: error.operationID)
            if !queryErrors.isEmpty { return .badRequest("Invalid query parameters.", errors: queryErrors) }
            if let decoding = Self.decodingError(in: error.underlyingError) {
                return .badRequest("The request could not be parsed.", errors: [Self.fieldError(decoding)])
            }
            let status = error.httpStatus.code >= 400 && error.httpStatus.code < 500 ? error.httpStatus : .badRequest
            // The generated code's own error text is not for callers (it names internal types): say what is
            // wrong in our words, naming the parameter when the cause does.
            let field = Self.parameterName(in: error)
            var problem = ProblemError.badRequest(
                field.map { "The parameter \($0) is missing or not a valid value." } ?? "The request's parameters or body could not be read.")
            problem.status = status
            if let field { problem.errors = [FieldError(field, "is missing or not a valid value")] }
            return problem
        }
        if isDatabaseUnavailable(error.underlyingError) { return .databaseUnavailable }
        var metadata: Logger.Metadata = ["operation": "\(error.operationID)", "error.type": "\(type(of: error.underlyingError))"]
        if let code = databaseErrorCode(error.underlyingError) { metadata["db.sqlstate"] = "\(code)" }
        logger.error("handler failed", metadata: metadata)
        return .internalError
    }

    /// Stored data that cannot be shown (moved or altered ciphertext, a signed note that no longer matches its
    /// hash, destroyed keys) is answered with a problem naming no value; the log gets the column only.
    private static func problem(for error: StorageError, logger: Logger) -> ProblemError {
        switch error {
        case .undecryptable(let column, _):
            logger.error("stored value failed decryption", metadata: ["column": "\(column)"])
            return .recordUnreadable
        case .integrityMismatch:
            logger.error("signed record failed its integrity check")
            return .recordUnreadable
        case .keysDestroyed:
            return .practiceShredded
        case .unavailable:
            return ProblemError(
                status: .serviceUnavailable, kind: "unavailable", title: "Service unavailable", detail: "The service is stopping. Try again shortly.",
                retryAfter: 5)
        case .corrupt(let column):
            logger.error("corrupt stored value", metadata: ["column": "\(column)"])
            return .internalError
        }
    }

    private static func decodingError(in error: any Error) -> DecodingError? {
        if let decoding = error as? DecodingError { return decoding }
        let mirror = Mirror(reflecting: error)
        for child in mirror.children {
            if let decoding = child.value as? DecodingError { return decoding }
        }
        return nil
    }

    /// Names the offending JSON path, e.g. `sections.plan` or `emergencyContact.phone`.
    static func fieldError(_ error: DecodingError) -> FieldError {
        func path(_ keys: [any CodingKey]) -> String {
            let parts = keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return parts.reduce("") { acc, part in part.hasPrefix("[") ? acc + part : (acc.isEmpty ? part : acc + "." + part) }
        }
        switch error {
        case .keyNotFound(let key, let context):
            return FieldError(path(context.codingPath + [key]), "is required")
        case .typeMismatch(let type, let context):
            return FieldError(path(context.codingPath).ifEmpty("body"), "must be of type \(Self.jsonTypeName(type))")
        case .valueNotFound(let type, let context):
            return FieldError(path(context.codingPath).ifEmpty("body"), "must not be null (expected \(Self.jsonTypeName(type)))")
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            if field.isEmpty { return FieldError("body", "is not valid JSON") }
            let message =
                context.debugDescription.lowercased().contains("additional properties")
                ? "is not an accepted field" : "has an invalid value (see the schema for allowed values)"
            return FieldError(field, message)
        @unknown default:
            return FieldError("body", "is invalid")
        }
    }

    private static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "string"
        case is Int.Type, is Int64.Type, is Int32.Type, is Double.Type: return "number"
        case is Bool.Type: return "boolean"
        default:
            let name = String(describing: type)
            return name.hasPrefix("Array") ? "array" : (name.hasPrefix("Dictionary") ? "object" : "object")
        }
    }

    /// Best effort: the generated code names the parameter in the cause description.
    private static func parameterName(in error: ServerError) -> String? {
        let text = error.causeDescription + " " + String(describing: error.underlyingError)
        for marker in ["named: ", "key '", "named '"] {
            if let range = text.range(of: marker) {
                let rest = text[range.upperBound...]
                let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                if !name.isEmpty { return String(name) }
            }
        }
        return nil
    }
}

extension String {
    func ifEmpty(_ fallback: String) -> String { isEmpty ? fallback : self }
}
