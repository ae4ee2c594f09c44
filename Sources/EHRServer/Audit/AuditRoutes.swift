import HTTPTypes

/// What an operation does, for its audit event: the action, the kind of record, and which path segment
/// (if any) holds the record's id.
struct AuditRoute: Sendable, Hashable {
    var action: String
    var resourceType: String
    /// Index of the `{id}` segment in the path (`/api/v1/patients/{id}` → 3).
    var idSegment: Int?
}

/// Every audited operation of the API. Each authenticated `/api/v1` operation and each sign-in operation
/// is here; a test checks the table against `openapi.yaml`, so a new operation cannot go unaudited.
enum AuditRoutes {
    static let table: [String: AuditRoute] = [
        "POST /api/v1/auth/login": .init(action: "auth.login", resourceType: "session"),
        "POST /api/v1/auth/refresh": .init(action: "auth.refresh", resourceType: "session"),
        "POST /api/v1/auth/logout": .init(action: "auth.logout", resourceType: "session"),
        "GET /api/v1/auth/me": .init(action: "auth.me", resourceType: "user"),
        "POST /api/v1/auth/accept-invite": .init(action: "auth.accept_invite", resourceType: "user"),
        "GET /api/v1/users": .init(action: "user.list", resourceType: "user"),
        "POST /api/v1/users": .init(action: "user.create", resourceType: "user"),
        "GET /api/v1/users/{id}": .init(action: "user.read", resourceType: "user", idSegment: 3),
        "PATCH /api/v1/users/{id}": .init(action: "user.update", resourceType: "user", idSegment: 3),
        "GET /api/v1/providers": .init(action: "provider.list", resourceType: "provider"),
        "POST /api/v1/providers": .init(action: "provider.create", resourceType: "provider"),
        "GET /api/v1/providers/{id}": .init(action: "provider.read", resourceType: "provider", idSegment: 3),
        "PATCH /api/v1/providers/{id}": .init(action: "provider.update", resourceType: "provider", idSegment: 3),
        "DELETE /api/v1/providers/{id}": .init(action: "provider.deactivate", resourceType: "provider", idSegment: 3),
        "GET /api/v1/patients": .init(action: "patient.list", resourceType: "patient"),
        "POST /api/v1/patients": .init(action: "patient.create", resourceType: "patient"),
        "GET /api/v1/patients/{id}": .init(action: "patient.read", resourceType: "patient", idSegment: 3),
        "PATCH /api/v1/patients/{id}": .init(action: "patient.update", resourceType: "patient", idSegment: 3),
        "DELETE /api/v1/patients/{id}": .init(action: "patient.discharge", resourceType: "patient", idSegment: 3),
        "GET /api/v1/patients/{id}/access-log": .init(action: "patient.access_log", resourceType: "patient", idSegment: 3),
        "GET /api/v1/appointments": .init(action: "appointment.list", resourceType: "appointment"),
        "POST /api/v1/appointments": .init(action: "appointment.create", resourceType: "appointment"),
        "GET /api/v1/appointments/{id}": .init(action: "appointment.read", resourceType: "appointment", idSegment: 3),
        "PATCH /api/v1/appointments/{id}": .init(action: "appointment.update", resourceType: "appointment", idSegment: 3),
        "DELETE /api/v1/appointments/{id}": .init(action: "appointment.cancel", resourceType: "appointment", idSegment: 3),
        "POST /api/v1/appointments/{id}/startTelevisit": .init(action: "appointment.start_televisit", resourceType: "appointment", idSegment: 3),
        "GET /api/v1/notes": .init(action: "note.list", resourceType: "note"),
        "POST /api/v1/notes": .init(action: "note.create", resourceType: "note"),
        "GET /api/v1/notes/{id}": .init(action: "note.read", resourceType: "note", idSegment: 3),
        "PATCH /api/v1/notes/{id}": .init(action: "note.update", resourceType: "note", idSegment: 3),
        "DELETE /api/v1/notes/{id}": .init(action: "note.void", resourceType: "note", idSegment: 3),
        "POST /api/v1/notes/{id}/sign": .init(action: "note.sign", resourceType: "note", idSegment: 3),
        "POST /api/v1/notes/{id}/addenda": .init(action: "note.addendum", resourceType: "note", idSegment: 3),
        "POST /api/v1/notes/{id}/break-glass": .init(action: "note.break_glass", resourceType: "note", idSegment: 3),
        "GET /api/v1/audit-events": .init(action: "audit.list", resourceType: "audit"),
        "GET /api/v1/audit/verify": .init(action: "audit.verify", resourceType: "audit"),
    ]

    /// The contract's path template of a request (`/api/v1/patients/{id}`), if it is an audited operation.
    static func template(method: HTTPRequest.Method, path: String) -> String? {
        lookup(method: method, path: path)?.template
    }

    /// The audit route of a request, matching `{id}` against any single segment; nil for unaudited paths.
    static func match(method: HTTPRequest.Method, path: String) -> (AuditRoute, resourceID: String?)? {
        lookup(method: method, path: path).map { ($0.route, $0.resourceID) }
    }

    /// The table entry for a path, its template, and the `{id}` segment it matched (if any).
    private static func lookup(method: HTTPRequest.Method, path: String) -> (route: AuditRoute, template: String, resourceID: String?)? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard segments.count >= 2, segments[0] == "api", segments[1] == "v1" else { return nil }
        if let exact = table["\(method.rawValue) \(path)"] { return (exact, path, nil) }
        guard segments.count >= 4 else { return nil }
        var templated = segments
        templated[3] = "{id}"
        let template = "/" + templated.joined(separator: "/")
        guard let route = table["\(method.rawValue) \(template)"] else { return nil }
        return (route, template, route.idSegment.map { segments[$0] })
    }
}
