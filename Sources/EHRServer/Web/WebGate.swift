import EHRDomain
import EHRPersistence
import Foundation
import HTTPTypes
import Hummingbird

/// The door of every page: finds the browser's session from its cookie, sends anyone without one to the
/// sign-in page, and checks the CSRF token of every form post before any handler runs (a post without the
/// session's token, or with another session's, is refused and changes nothing). Sign-in and invitation forms,
/// posted before there is a session, carry a token that must match a cookie set with the form.
struct WebGate: Sendable {
    let sessions: WebSessions
    let renderer: WebRenderer

    func handle(
        _ request: Request, context: AppRequestContext, scope: RequestScope, next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        var scope = scope
        var context = context
        var request = request
        let operation = context.route.operation!
        let session = try await sessions.session(cookie: request.cookies[WebSessions.cookieName]?.value)
        if let session {
            scope.principal = session.principal
            context.webSession = session
            RequestTrace.current?.identify(requestID: scope.requestID, tenantID: session.principal.tenantID)
        } else if !operation.isPublic {
            return WebRenderer.redirect("/app/login")
        }
        if request.method == .post {
            let form: WebForm
            do {
                form = try await WebForm.read(&request)
            } catch {
                return renderer.page(
                    "message", title: "Request too large", session: session, values: ["message": "The form was too large."], status: .contentTooLarge)
            }
            let expected = operation.isPublic ? request.cookies[WebSessions.loginCookieName]?.value : session?.csrfToken
            guard let expected, let given = form["_csrf"], Secrets.constantTimeEquals(expected, given) else {
                return renderer.page(
                    "message", title: "Form expired", session: session,
                    values: ["message": "This form has expired or did not come from this site. Go back, reload the page and try again."],
                    status: .forbidden)
            }
            context.form = form
        }
        return try await DatabaseScope.$current.withValue(session.map { .tenant($0.principal.tenantID) }) {
            try await RequestScope.$current.withValue(scope) { try await next(request, context) }
        }
    }
}
