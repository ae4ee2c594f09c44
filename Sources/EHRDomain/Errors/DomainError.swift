import Foundation

/// Every failure the domain can report. Mapped to HTTP problem responses in exactly one place (the server's error middleware).
public enum DomainError: Error, Sendable, Equatable {
    /// The record does not exist, belongs to another tenant, or the caller may not see it.
    /// One case for all three on purpose: callers learn nothing about records they cannot see.
    case notFound
    /// Input failed validation; every bad field is named.
    case validation([FieldError])
    /// The request is well-formed but conflicts with the record's state.
    case conflict(String)
    /// The therapist already has an appointment overlapping the requested time.
    case appointmentOverlap(conflictingID: UUID?)
    /// Missing, invalid or expired credentials.
    case unauthenticated(String)
    /// Too many failed attempts; retry after the given number of seconds.
    case rateLimited(retryAfter: Int)
    /// The caller may see the record (or collection) but may not perform this operation on it.
    /// Answered exactly like ``notFound`` over HTTP; kept apart so the domain says what it means.
    case forbidden

    /// Shorthand for a single invalid field.
    public static func invalid(_ field: String, _ message: String) -> DomainError {
        .validation([FieldError(field, message)])
    }
}
