import EHRDomain
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// An RFC 9457 problem: the only error shape the API ever answers with.
struct ProblemError: Error, Sendable {
    var status: HTTPResponse.Status
    /// Short slug appended to the problem type URI, e.g. `validation`.
    var kind: String
    var title: String
    var detail: String?
    var errors: [FieldError] = []
    var conflictingAppointmentID: UUID?
    var retryAfter: Int?

    static let typeBase = "https://mentalspace.invalid/problems/"

    static let payloadTooLarge = ProblemError(
        status: .contentTooLarge, kind: "payload-too-large", title: "Request body too large",
        detail: "The request body exceeds \(RequestLimits.maximumBodySize) bytes.")

    static func badRequest(_ detail: String, errors: [FieldError] = []) -> ProblemError {
        ProblemError(status: .badRequest, kind: "bad-request", title: "Malformed request", detail: detail, errors: errors)
    }

    static let internalError = ProblemError(
        status: .internalServerError, kind: "internal", title: "Internal error",
        detail: "The request could not be completed. It has been logged with its request id.")

    /// A stored record that fails decryption or its signed-content check: never shown, never a 500.
    static let recordUnreadable = ProblemError(
        status: .conflict, kind: "record-unreadable", title: "Record cannot be shown",
        detail:
            "This record failed its integrity check (its encrypted data does not belong here or was altered). The incident has been logged; contact the practice administrator."
    )

    /// The practice's keys were destroyed on purpose (crypto-shredding): its records are gone for good.
    static let practiceShredded = ProblemError(
        status: .gone, kind: "practice-shredded", title: "Practice data destroyed",
        detail: "This practice's encryption keys were destroyed; its records can no longer be read.")

    /// The database could not be reached (lost or refused connection, a restarting server): try again shortly.
    static let databaseUnavailable = ProblemError(
        status: .serviceUnavailable, kind: "unavailable", title: "Service unavailable", detail: "The database is not reachable. Try again shortly.",
        retryAfter: 5)

    /// The audit event of the request could not be written, so the answer is withheld.
    static let auditUnavailable = ProblemError(
        status: .serviceUnavailable, kind: "audit-unavailable", title: "Service unavailable",
        detail: "The request could not be recorded in the audit log, so it was not answered. Try again shortly.", retryAfter: 5)

    /// Every password check is busy and the line for one is full: try again in a moment (never an unbounded queue).
    static let signInBusy = ProblemError(
        status: .serviceUnavailable, kind: "sign-in-busy", title: "Service busy",
        detail: "Too many sign-ins are being checked right now. Try again in a moment.", retryAfter: 1)

    /// The one mapping from domain failures to HTTP.
    init(_ error: DomainError) {
        switch error {
        case .notFound:
            self.init(status: .notFound, kind: "not-found", title: "Not found", detail: "No such record.")
        case .validation(let errors):
            self.init(
                status: .unprocessableContent, kind: "validation", title: "Validation failed",
                detail: errors.map { "\($0.field): \($0.message)" }.joined(separator: "; "), errors: errors)
        case .conflict(let message):
            self.init(status: .conflict, kind: "conflict", title: "Conflict", detail: message)
        case .appointmentOverlap(let id):
            self.init(
                status: .conflict, kind: "appointment-overlap", title: "Therapist already booked",
                detail: "The therapist has another appointment overlapping this time" + (id.map { " (\($0.lowercasedString))" } ?? "") + ".",
                conflictingAppointmentID: id)
        case .unauthenticated(let message):
            self.init(status: .unauthorized, kind: "unauthenticated", title: "Unauthorized", detail: message)
        case .rateLimited(let seconds):
            self.init(
                status: .tooManyRequests, kind: "rate-limited", title: "Too many failed sign-in attempts",
                detail: "Try again in \(seconds) seconds.", retryAfter: seconds)
        case .forbidden:
            // Deliberately the same answer as a missing record: the API never confirms that something
            // exists to a caller who may not act on it (no 403 anywhere).
            self.init(status: .notFound, kind: "not-found", title: "Not found", detail: "No such record.")
        }
    }

    init(
        status: HTTPResponse.Status, kind: String, title: String, detail: String?, errors: [FieldError] = [], conflictingAppointmentID: UUID? = nil,
        retryAfter: Int? = nil
    ) {
        self.status = status
        self.kind = kind
        self.title = title
        self.detail = detail
        self.errors = errors
        self.conflictingAppointmentID = conflictingAppointmentID
        self.retryAfter = retryAfter
    }

    private struct Body: Encodable {
        struct Field: Encodable {
            var field: String
            var message: String
        }
        var type: String
        var title: String
        var status: Int
        var detail: String?
        var instance: String?
        var errors: [Field]?
        var conflictingAppointmentId: String?
    }

    func response(instance: String?) -> Response {
        let body = Body(
            type: Self.typeBase + kind, title: title, status: status.code, detail: detail, instance: instance,
            errors: errors.isEmpty ? nil : errors.map { .init(field: $0.field, message: $0.message) },
            conflictingAppointmentId: conflictingAppointmentID?.lowercasedString)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(body)) ?? Data("{}".utf8)
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
