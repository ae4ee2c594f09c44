import HTTPTypes

/// One operation the router serves: its method and route template (the contract's path, e.g.
/// `/api/v1/patients/{id}`), whether it needs an access token, whether it answers a list page,
/// and what its audit event records. A test checks the table against `openapi.yaml` both ways.
struct APIOperation: Sendable, Hashable {
    var method: HTTPRequest.Method
    var template: String
    /// `security: []` in the contract: served without an access token.
    var isPublic: Bool = false
    /// Answers `{items, nextCursor}` (takes the `Cursor` parameter).
    var isList: Bool = false
    /// What the audit event says; nil for the unaudited system operations.
    var audit: AuditRoute?
    /// A web page (under `/app`): cookie session instead of a bearer token, HTML instead of problem JSON.
    var isPage: Bool { template.hasPrefix("/app") }

    var key: String { "\(method.rawValue) \(template)" }
}

/// What an operation does, for its audit event: the action and the kind of record. The record's id, when
/// the template has one, is the router's `{id}` parameter.
struct AuditRoute: Sendable, Hashable {
    var action: String
    var resourceType: String
}

/// How the router classified a request: the one place that decides which operation a request is. Every
/// middleware (request log, authentication, audit, list cursor) reads this instead of parsing the path.
enum RequestRoute: Sendable {
    /// A declared operation.
    case operation(APIOperation)
    /// A known path with an undeclared method: 405 with these methods in `Allow`.
    case methodNotAllowed(template: String, allowed: [HTTPRequest.Method])
    /// No route: 404.
    case unknown

    var operation: APIOperation? {
        if case .operation(let operation) = self { return operation }
        return nil
    }

    /// The route template for logs and metrics; unknown paths are one series, so random URLs cannot blow up
    /// the metric's cardinality.
    var template: String {
        switch self {
        case .operation(let operation): return operation.template
        case .methodNotAllowed(let template, _): return template
        case .unknown: return "unmatched"
        }
    }
}

/// Every operation of the service. Add an operation here when it is added to the contract.
enum APIOperations {
    private static func op(
        _ method: HTTPRequest.Method, _ template: String, _ action: String? = nil, _ resource: String? = nil, public isPublic: Bool = false,
        list: Bool = false
    ) -> APIOperation {
        let audit = action.map { AuditRoute(action: $0, resourceType: resource ?? String($0.prefix { $0 != "." })) }
        return APIOperation(method: method, template: template, isPublic: isPublic, isList: list, audit: audit)
    }

    static let all: [APIOperation] =
        [
            op(.get, "/health", public: true),
            op(.get, "/ready", public: true),
            op(.get, "/.well-known/jwks.json", public: true),
            op(.get, "/openapi.yaml", public: true),
            // Not in the contract: Prometheus scrapes it with its own bearer token (see MetricsEndpoint).
            op(.get, "/metrics", public: true),
            op(.post, "/api/v1/auth/login", "auth.login", "session", public: true),
            op(.post, "/api/v1/auth/refresh", "auth.refresh", "session", public: true),
            op(.post, "/api/v1/auth/logout", "auth.logout", "session", public: true),
            op(.get, "/api/v1/auth/me", "auth.me", "user"),
            op(.post, "/api/v1/auth/accept-invite", "auth.accept_invite", "user", public: true),
            op(.get, "/api/v1/users", "user.list", list: true),
            op(.post, "/api/v1/users", "user.create"),
            op(.get, "/api/v1/users/{id}", "user.read"),
            op(.patch, "/api/v1/users/{id}", "user.update"),
            op(.get, "/api/v1/providers", "provider.list", list: true),
            op(.post, "/api/v1/providers", "provider.create"),
            op(.get, "/api/v1/providers/{id}", "provider.read"),
            op(.patch, "/api/v1/providers/{id}", "provider.update"),
            op(.delete, "/api/v1/providers/{id}", "provider.deactivate"),
            op(.get, "/api/v1/patients", "patient.list", list: true),
            op(.post, "/api/v1/patients", "patient.create"),
            op(.get, "/api/v1/patients/{id}", "patient.read"),
            op(.patch, "/api/v1/patients/{id}", "patient.update"),
            op(.delete, "/api/v1/patients/{id}", "patient.discharge"),
            op(.get, "/api/v1/patients/{id}/access-log", "patient.access_log", list: true),
            op(.get, "/api/v1/appointments", "appointment.list", list: true),
            op(.post, "/api/v1/appointments", "appointment.create"),
            op(.get, "/api/v1/appointments/{id}", "appointment.read"),
            op(.patch, "/api/v1/appointments/{id}", "appointment.update"),
            op(.delete, "/api/v1/appointments/{id}", "appointment.cancel"),
            op(.post, "/api/v1/appointments/{id}/startTelevisit", "appointment.start_televisit"),
            op(.get, "/api/v1/notes", "note.list", list: true),
            op(.post, "/api/v1/notes", "note.create"),
            op(.get, "/api/v1/notes/{id}", "note.read"),
            op(.patch, "/api/v1/notes/{id}", "note.update"),
            op(.delete, "/api/v1/notes/{id}", "note.void"),
            op(.post, "/api/v1/notes/{id}/sign", "note.sign"),
            op(.post, "/api/v1/notes/{id}/addenda", "note.addendum"),
            op(.post, "/api/v1/notes/{id}/break-glass", "note.break_glass"),
            // Upgraded to a WebSocket before the router (LiveSocket); a plain GET is told so.
            op(.get, "/api/v1/live", public: true),
            op(.get, "/api/v1/televisit", public: true),
            op(.get, "/api/v1/notification-preferences", "notification_preferences.read", "user"),
            op(.patch, "/api/v1/notification-preferences", "notification_preferences.update", "user"),
            op(.get, "/api/v1/reminders", "reminder.list", "user"),
            op(.get, "/api/v1/threads", "thread.list", list: true),
            op(.post, "/api/v1/threads", "thread.open"),
            op(.get, "/api/v1/threads/{id}/messages", "message.list", "thread", list: true),
            op(.post, "/api/v1/threads/{id}/messages", "message.send", "thread"),
            op(.post, "/api/v1/threads/{id}/read", "thread.read"),
            op(.get, "/api/v1/audit-events", "audit.list", list: true),
            op(.get, "/api/v1/audit/verify", "audit.verify"),
        ] + pages

    /// The web app's pages. A page that shows or changes records records the same audit action as the equal
    /// API operation.
    static let pages: [APIOperation] = [
        op(.get, "/app", public: true),
        op(.get, "/app/static/app.css", public: true),
        op(.get, "/app/login", public: true),
        op(.post, "/app/login", "auth.login", "session", public: true),
        op(.post, "/app/logout", "auth.logout", "session"),
        op(.get, "/app/accept-invite", public: true),
        op(.post, "/app/accept-invite", "auth.accept_invite", "user", public: true),
        op(.get, "/app/schedule", "appointment.list"),
        op(.get, "/app/appointments/new", "patient.list"),
        op(.post, "/app/appointments", "appointment.create"),
        op(.get, "/app/appointments/{id}", "appointment.read"),
        op(.post, "/app/appointments/{id}", "appointment.update"),
        op(.post, "/app/appointments/{id}/cancel", "appointment.cancel"),
        op(.post, "/app/appointments/{id}/televisit", "appointment.start_televisit"),
        op(.get, "/app/patients", "patient.list"),
        op(.get, "/app/patients/new", "provider.list"),
        op(.post, "/app/patients", "patient.create"),
        op(.get, "/app/patients/{id}", "patient.read"),
        op(.post, "/app/patients/{id}/discharge", "patient.discharge"),
        op(.post, "/app/patients/{id}/assign", "patient.update"),
        op(.get, "/app/patients/{id}/access-log", "patient.access_log"),
        op(.get, "/app/patients/{id}/notes/new", "patient.read"),
        op(.post, "/app/notes", "note.create"),
        op(.get, "/app/notes/{id}", "note.read"),
        op(.post, "/app/notes/{id}", "note.update"),
        op(.post, "/app/notes/{id}/sign", "note.sign"),
        op(.post, "/app/notes/{id}/addenda", "note.addendum"),
        op(.post, "/app/notes/{id}/break-glass", "note.break_glass"),
        op(.get, "/app/portal", "appointment.list"),
        op(.get, "/app/portal/notes", "note.list"),
        op(.get, "/app/profile", "patient.read"),
        op(.get, "/app/staff", "provider.list"),
        op(.post, "/app/staff", "provider.create"),
        op(.post, "/app/staff/{id}/deactivate", "provider.deactivate"),
        op(.post, "/app/staff/admins", "user.create"),
        op(.get, "/app/audit", "audit.list"),
    ]

    /// Operations whose request body the contract requires (`requestBody.required: true`): an empty body is 400,
    /// not an empty object. A test checks the set against the contract.
    static let bodyRequired: Set<String> = [
        "POST /api/v1/auth/login", "POST /api/v1/auth/refresh", "POST /api/v1/auth/logout", "POST /api/v1/auth/accept-invite",
        "POST /api/v1/users", "PATCH /api/v1/users/{id}", "POST /api/v1/providers", "PATCH /api/v1/providers/{id}",
        "POST /api/v1/patients", "PATCH /api/v1/patients/{id}", "DELETE /api/v1/patients/{id}", "POST /api/v1/appointments",
        "PATCH /api/v1/appointments/{id}", "POST /api/v1/notes", "PATCH /api/v1/notes/{id}", "DELETE /api/v1/notes/{id}",
        "POST /api/v1/notes/{id}/addenda", "POST /api/v1/notes/{id}/break-glass", "POST /api/v1/threads",
        "POST /api/v1/threads/{id}/messages", "PATCH /api/v1/notification-preferences",
    ]

    /// Methods a client may try on a path; those a template does not declare answer 405.
    static let knownMethods: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options, .trace, HTTPRequest.Method("QUERY")!]

    private static let byKey: [String: APIOperation] = Dictionary(uniqueKeysWithValues: all.map { ($0.key, $0) })
    private static let methodsByTemplate: [String: [HTTPRequest.Method]] = Dictionary(grouping: all, by: \.template)
        .mapValues { operations in operations.map(\.method) }

    /// Every template with the methods it does not declare (registered on the router so that it can match them).
    static var undeclared: [(template: String, methods: [HTTPRequest.Method])] {
        methodsByTemplate.keys.sorted().map { template in
            (template, knownMethods.filter { !methodsByTemplate[template]!.contains($0) })
        }
    }

    /// Classifies a request by the route the router matched (`context.endpointPath`), never by the raw path.
    static func route(method: HTTPRequest.Method, endpointPath: String?, rawPath: String) -> RequestRoute {
        // No template holds an escaped character, and no id needs one: an escaped slash or dot is a
        // way to make one path look like another, so it is refused outright. (A byte scan: `String.contains`
        // of a string goes through Foundation's `NSString` search, about 5 µs on every request.)
        guard let endpointPath, !rawPath.utf8.contains(UInt8(ascii: "%")) else { return .unknown }
        if let operation = byKey["\(method.rawValue) \(endpointPath)"] { return .operation(operation) }
        if let methods = methodsByTemplate[endpointPath] { return .methodNotAllowed(template: endpointPath, allowed: methods) }
        return .unknown
    }
}
