import EHRDomain
import Foundation
import HTTPTypes
import Hummingbird

/// The browser front end under `/app`: server-rendered pages over the same ``UseCases`` as the JSON API.
/// Handlers translate form fields into use-case calls and results into template values; rules, policy and
/// audit annotations live in the use cases. Every page works without JavaScript (there is none).
struct WebApp: Sendable {
    let services: AppServices
    let renderer: WebRenderer
    var sessions: WebSessions { WebSessions(services: services) }
    var useCases: UseCases { services.useCases }

    typealias Handler = @Sendable (WebApp, Request, AppRequestContext) async throws -> Response

    func register(on router: Router<AppRequestContext>) {
        let routes: [(HTTPRequest.Method, String, Handler)] = [
            (.get, "/app", { app, _, context in app.home(context) }),
            (.get, "/app/static/app.css", { app, _, _ in app.stylesheet() }),
            (.get, "/app/login", { app, request, context in app.loginPage(request, context) }),
            (.post, "/app/login", { app, _, context in try await app.login(context) }),
            (.post, "/app/logout", { app, _, context in try await app.logout(context) }),
            (.get, "/app/accept-invite", { app, request, context in app.acceptInvitePage(request, context) }),
            (.post, "/app/accept-invite", { app, _, context in try await app.acceptInvite(context) }),
            (.get, "/app/schedule", { app, request, context in try await app.schedule(request, context) }),
            (.get, "/app/appointments/new", { app, request, context in try await app.newAppointment(request, context) }),
            (.post, "/app/appointments", { app, _, context in try await app.createAppointment(context) }),
            (.get, "/app/appointments/{id}", { app, _, context in try await app.appointment(context) }),
            (.post, "/app/appointments/{id}", { app, _, context in try await app.reschedule(context) }),
            (.post, "/app/appointments/{id}/cancel", { app, _, context in try await app.cancelAppointment(context) }),
            (.post, "/app/appointments/{id}/televisit", { app, _, context in try await app.startTelevisit(context) }),
            (.get, "/app/patients", { app, request, context in try await app.patients(request, context) }),
            (.get, "/app/patients/new", { app, _, context in try await app.newPatient(context) }),
            (.post, "/app/patients", { app, _, context in try await app.createPatient(context) }),
            (.get, "/app/patients/{id}", { app, request, context in try await app.chart(request, context) }),
            (.post, "/app/patients/{id}/discharge", { app, _, context in try await app.dischargePatient(context) }),
            (.post, "/app/patients/{id}/assign", { app, _, context in try await app.assignPatient(context) }),
            (.get, "/app/patients/{id}/access-log", { app, _, context in try await app.accessLog(context) }),
            (.get, "/app/patients/{id}/notes/new", { app, request, context in try await app.newNote(request, context) }),
            (.post, "/app/notes", { app, _, context in try await app.createNote(context) }),
            (.get, "/app/notes/{id}", { app, _, context in try await app.note(context) }),
            (.post, "/app/notes/{id}", { app, _, context in try await app.saveNote(context) }),
            (.post, "/app/notes/{id}/sign", { app, _, context in try await app.signNote(context) }),
            (.post, "/app/notes/{id}/addenda", { app, _, context in try await app.addAddendum(context) }),
            (.post, "/app/notes/{id}/break-glass", { app, _, context in try await app.breakGlass(context) }),
            (.get, "/app/portal", { app, _, context in try await app.portal(context) }),
            (.get, "/app/portal/notes", { app, _, context in try await app.portalNotes(context) }),
            (.get, "/app/profile", { app, _, context in try await app.profile(context) }),
            (.get, "/app/staff", { app, _, context in try await app.staff(context) }),
            (.post, "/app/staff", { app, _, context in try await app.inviteTherapist(context) }),
            (.post, "/app/staff/{id}/deactivate", { app, _, context in try await app.deactivate(context) }),
            (.post, "/app/staff/admins", { app, _, context in try await app.inviteAdmin(context) }),
            (.get, "/app/audit", { app, request, context in try await app.audit(request, context) }),
        ]
        for (method, path, handler) in routes {
            let app = self
            router.on(RouterPath(path), method: method) { request, context -> Response in
                do {
                    return try await handler(app, request, context)
                } catch {
                    return app.errorPage(error, context)
                }
            }
        }
    }

    // MARK: Shared

    /// The signed-in caller (every page but the public ones runs behind ``WebGate``, which guarantees one).
    func session(_ context: AppRequestContext) throws -> WebSession {
        guard let session = context.webSession else { throw DomainError.unauthenticated("sign in") }
        return session
    }

    /// The `{id}` of the route as a UUID; anything else is the same 404 as a record that does not exist.
    func routeID(_ context: AppRequestContext) throws -> UUID {
        guard let raw = context.parameters.get("id"), let id = UUID(uuidString: raw) else { throw DomainError.notFound }
        return id
    }

    /// The practice's zone (schedule days), falling back to UTC.
    func practiceZone(_ principal: Principal) async throws -> TimeZone {
        let tenant = try await services.store.find(id: principal.tenantID)
        return tenant.flatMap { TimeZone(identifier: $0.timeZone) } ?? TimeZone(identifier: "UTC")!
    }

    func page(_ template: String, _ title: String, _ context: AppRequestContext, _ values: [String: Any] = [:], status: HTTPResponse.Status = .ok) -> Response {
        renderer.page(template, title: title, session: context.webSession, values: values, status: status)
    }

    /// Errors as pages: anything the caller may not see is the same 404 page as a missing record.
    func errorPage(_ error: any Error, _ context: AppRequestContext) -> Response {
        switch error {
        case DomainError.notFound, DomainError.forbidden:
            if case .forbidden = error as? DomainError { RequestScope.current?.audit?.markDenied() }
            return page("not-found", "Not found", context, status: .notFound)
        case DomainError.conflict(let message):
            return page("message", "Not possible", context, ["message": message], status: .conflict)
        case DomainError.unauthenticated:
            return WebRenderer.redirect("/app/login")
        case DomainError.validation(let errors):
            return page(
                "message", "Check the form", context, ["message": errors.map { "\($0.field): \($0.message)" }.joined(separator: "; ")],
                status: .unprocessableContent)
        case let problem as ProblemError where problem.status.code < 500:
            return page("message", problem.title, context, ["message": problem.detail ?? problem.title], status: problem.status)
        default:
            let problem = ErrorMiddleware.problem(for: error, logger: context.logger)
            return page("message", problem.title, context, ["message": problem.detail ?? ""], status: problem.status)
        }
    }

    /// Field errors by field name, for templates (`errors.firstName`).
    static func errorMap(_ errors: [FieldError]) -> [String: String] {
        Dictionary(errors.map { ($0.field, $0.message) }, uniquingKeysWith: { first, _ in first })
    }

    func home(_ context: AppRequestContext) -> Response {
        guard let session = context.webSession else { return WebRenderer.redirect("/app/login") }
        switch session.principal.role {
        case .therapist: return WebRenderer.redirect("/app/schedule")
        case .admin: return WebRenderer.redirect("/app/patients")
        case .client: return WebRenderer.redirect("/app/portal")
        }
    }

    func stylesheet() -> Response {
        Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8"], body: .init(byteBuffer: renderer.stylesheet))
    }
}
