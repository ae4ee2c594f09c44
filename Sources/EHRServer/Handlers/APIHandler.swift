import EHRAPI
import EHRDomain
import EHRPersistence
import EHRWire
import Foundation
import OpenAPIRuntime

/// Implements the generated `APIProtocol`: one method per operation of `openapi.yaml`.
/// Each handler reads the caller from ``RequestScope``, asks ``AccessPolicy``, and talks to repositories.
struct APIHandler: APIProtocol {
    let services: AppServices

    var store: EHRPersistence.SQLStore { services.store }

    /// The operations of the record; handlers only translate wire types to and from these calls.
    var useCases: UseCases { services.useCases }

    /// The audit event of the current request, for handlers to name the patient and the changed fields.
    var audit: AuditNote? { RequestScope.current?.audit }

    /// How the generated code encodes answers. Sorted keys are load-bearing: NullCursorMiddleware relies on
    /// `nextCursor` being the last key of a list, and ``AppointmentListJSON`` writes the same order.
    static let configuration = Configuration(dateTranscoder: FlexibleDateTranscoder(), jsonEncodingOptions: [.sortedKeys, .withoutEscapingSlashes])
}

// MARK: Input parsing shared by handlers

extension APIHandler {
    /// A path id: anything but a UUID is a malformed request (400) naming the parameter.
    func pathID(_ raw: String, field: String = "id") throws -> UUID {
        guard let id = UUID(parsing: raw) else {
            throw ProblemError.badRequest("\(field) must be a UUID.", errors: [FieldError(field, "must be a UUID")])
        }
        return id
    }

    /// An optional query id filter (400 when malformed).
    func queryID(_ raw: String?, field: String) throws -> UUID? {
        guard let raw else { return nil }
        return try pathID(raw, field: field)
    }

    /// Limit and cursor of a list request; out-of-range values are 400 naming the parameter.
    func pageRequest(limit: Int?, cursor: String?, list: CursorCodec.List) throws -> PageRequest {
        var errors: [FieldError] = []
        let limit = limit ?? PageRequest.defaultLimit
        if !(1...PageRequest.maximumLimit).contains(limit) {
            errors.append(FieldError("limit", "must be between 1 and \(PageRequest.maximumLimit)"))
        }
        var after: PageCursor?
        if let cursor {
            after = services.cursors.decode(cursor, list: list)
            if after == nil { errors.append(FieldError("cursor", "is not a cursor returned by this list")) }
        }
        if !errors.isEmpty { throw ProblemError.badRequest("Invalid query parameters.", errors: errors) }
        return PageRequest(limit: limit, after: after)
    }
}

extension APIHandler {
    /// The wire form of the next page's cursor, or nil on the last page.
    func nextCursor<Item>(_ page: Page<Item>, list: CursorCodec.List) -> String? {
        page.next.map { services.cursors.encode($0, list: list) }
    }
}

extension ProblemError {
    /// 400 naming one query or path parameter.
    static func badParameter(_ field: String, _ message: String) -> ProblemError {
        .badRequest("Invalid parameter \(field).", errors: [FieldError(field, message)])
    }
}

extension APIHandler {
    /// An optional id from a JSON body. The shared validator reads an empty string as "none" (the web forms' empty
    /// choice); the API's contract has no such value, so an empty id goes on as a non-UUID the validator names
    /// ("must be a UUID") together with every other bad field.
    func optionalID(_ value: String?) -> String? {
        value == "" ? " " : value
    }
}
