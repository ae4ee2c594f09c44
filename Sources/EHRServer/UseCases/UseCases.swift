import EHRDomain
import EHRPersistence
import Foundation

/// The operations of the record, shared by every front end (the JSON API and the web pages). Each takes the
/// caller, checks ``AccessPolicy``, validates with the rules in `EHRDomain/Rules`, changes state through the
/// domain types' own methods, annotates the request's audit event and persists. Front ends only translate
/// their input into these calls and the results into their output; no rule is written twice.
struct UseCases: Sendable {
    let services: AppServices

    var store: SQLStore { services.store }

    /// The audit event of the current request (the audit middleware runs for API and page routes alike).
    var audit: AuditNote? { RequestScope.current?.audit }

    /// The current instant, to millisecond precision (what every store keeps).
    var now: Date { millisecondPrecision(Date()) }
}

extension AppServices {
    /// The operations of the record, for the front ends.
    var useCases: UseCases { UseCases(services: self) }
}
