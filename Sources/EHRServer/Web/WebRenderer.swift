import EHRDomain
import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// The web app's templates (swift-mustache, loaded once at start-up; a missing one stops the service) and its
/// stylesheet. Every value is HTML-escaped by `{{…}}`; no template uses the unescaped `{{{…}}}` form.
struct WebRenderer: Sendable {
    static let pages = [
        "layout", "login", "accept-invite", "not-found", "message", "schedule", "appointment", "appointment-form", "patients", "chart",
        "note", "note-form", "portal", "portal-notes", "profile", "staff", "patient-form", "audit", "access-log",
    ]

    let library: MustacheLibrary
    let stylesheet: ByteBuffer

    /// Loads every template from the bundled `Templates` folder; throws naming the first one missing.
    init() throws {
        guard let folder = Bundle.module.url(forResource: "Templates", withExtension: nil),
            let css = Bundle.module.url(forResource: "app", withExtension: "css", subdirectory: "Static")
        else { throw WebSetupError(description: "the web app's resources are not bundled") }
        var templates: [String: MustacheTemplate] = [:]
        for name in Self.pages {
            let file = folder.appendingPathComponent("\(name).mustache")
            guard let text = try? String(contentsOf: file, encoding: .utf8) else { throw WebSetupError(description: "template \(name).mustache is missing") }
            templates[name] = try MustacheTemplate(string: text)
        }
        library = MustacheLibrary(templates: templates)
        stylesheet = ByteBuffer(data: try Data(contentsOf: css))
    }

    /// A page: the template rendered with `values` inside the layout, with the session's navigation.
    func page(_ template: String, title: String, session: WebSession?, values: [String: Any] = [:], status: HTTPResponse.Status = .ok) -> Response {
        var values = values
        values["title"] = title
        if let session {
            values["nav"] = Self.navigation(for: session.principal.role, current: template)
            values["csrf"] = session.csrfToken
            values["signedIn"] = true
        }
        let html = library.render(values, withTemplate: template) ?? "<!doctype html><title>Error</title><p>The page could not be shown.</p>"
        return Self.html(html, status: status)
    }

    static func html(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8"]
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// 303 to `location` (after a form post, or to the sign-in page).
    static func redirect(_ location: String, cookies: [String] = []) -> Response {
        var headers: HTTPFields = [.location: location]
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: .seeOther, headers: headers)
    }

    /// Only this origin's stylesheet and forms; no script at all, no framing, no plugins.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    private static func navigation(for role: Role, current: String) -> [[String: Any]] {
        let items: [(String, String, [String])] =
            switch role {
            case .therapist:
                [
                    ("/app/schedule", "Schedule", ["schedule", "appointment", "appointment-form"]),
                    ("/app/patients", "Patients", ["patients", "chart", "note", "note-form"]),
                ]
            case .admin:
                [
                    ("/app/patients", "Patients", ["patients", "chart", "patient-form", "note"]), ("/app/staff", "Staff", ["staff"]),
                    ("/app/audit", "Audit", ["audit", "access-log"]),
                ]
            case .client:
                [
                    ("/app/portal", "Appointments", ["portal"]), ("/app/portal/notes", "Notes", ["portal-notes", "note"]),
                    ("/app/profile", "Profile", ["profile"]),
                ]
            }
        return items.map { ["href": $0.0, "label": $0.1, "current": $0.2.contains(current)] }
    }
}

struct WebSetupError: Error, CustomStringConvertible {
    let description: String
}
