import EHRDomain
import Foundation
import HTTPTypes
import Hummingbird

/// Sign-in, sign-out and accepting an invitation.
extension WebApp {
    /// The sign-in form. Its CSRF token is also set as a short-lived cookie (there is no session yet).
    func loginPage(_ request: Request, _ context: AppRequestContext) -> Response {
        if context.webSession != nil { return WebRenderer.redirect("/app") }
        let token = Secrets.randomToken()
        // The demo practice is named only where it is seeded (development), never on a production sign-in page.
        let tenant = services.configuration.seedDemoData ? "demo" : ""
        var response = page("login", "Sign in", context, ["loginCsrf": token, "tenant": tenant])
        response.headers.append(HTTPField(name: .setCookie, value: WebSessions.setCookie(WebSessions.loginCookieName, token, maxAge: 3600)))
        return response
    }

    func login(_ context: AppRequestContext) async throws -> Response {
        let form = context.form ?? WebForm("")
        let tenant = form["tenant"] ?? ""
        let email = form["email"] ?? ""
        var values: [String: Any] = ["loginCsrf": form["_csrf"] ?? "", "tenant": tenant, "email": email]
        do {
            let cookie = try await sessions.signIn(tenant: tenant, email: email, password: form["password"] ?? "", clientIP: RequestScope.clientIP)
            return WebRenderer.redirect(
                "/app",
                cookies: [
                    WebSessions.setCookie(WebSessions.cookieName, cookie, maxAge: Int(WebSessions.absoluteLimit)),
                    WebSessions.setCookie(WebSessions.loginCookieName, "", maxAge: 0),
                ])
        } catch DomainError.validation(let errors) {
            values["errors"] = Self.errorMap(errors)
            return page("login", "Sign in", context, values, status: .unprocessableContent)
        } catch DomainError.unauthenticated {
            values["failure"] = "The practice, email or password is not right."
            return page("login", "Sign in", context, values, status: .unauthorized)
        } catch DomainError.rateLimited(let seconds) {
            let minutes = max(1, (seconds + 59) / 60)
            values["failure"] = "Too many attempts. For your security, sign-in is paused: try again in \(minutes) minute\(minutes == 1 ? "" : "s")."
            return page("login", "Sign in", context, values, status: .tooManyRequests)
        } catch let problem as ProblemError where problem.status == .serviceUnavailable {
            values["failure"] = "Too many sign-ins are being checked right now. Try again in a moment."
            return page("login", "Sign in", context, values, status: .serviceUnavailable)
        }
    }

    func logout(_ context: AppRequestContext) async throws -> Response {
        if let session = context.webSession { try await sessions.end(tokenHash: session.tokenHash, familyID: session.familyID) }
        return WebRenderer.redirect("/app/login", cookies: [WebSessions.setCookie(WebSessions.cookieName, "", maxAge: 0)])
    }

    func acceptInvitePage(_ request: Request, _ context: AppRequestContext) -> Response {
        let token = Secrets.randomToken()
        let invitation = request.uri.queryParameters.get("token") ?? ""
        var response = page("accept-invite", "Set your password", context, ["loginCsrf": token, "token": invitation])
        response.headers.append(HTTPField(name: .setCookie, value: WebSessions.setCookie(WebSessions.loginCookieName, token, maxAge: 3600)))
        return response
    }

    func acceptInvite(_ context: AppRequestContext) async throws -> Response {
        let form = context.form ?? WebForm("")
        var values: [String: Any] = ["loginCsrf": form["_csrf"] ?? "", "token": form["token"] ?? ""]
        guard form["password"] == form["confirm"] else {
            values["errors"] = ["confirm": "does not match the password"]
            return page("accept-invite", "Set your password", context, values, status: .unprocessableContent)
        }
        do {
            _ = try await services.auth.acceptInvitation(token: form["token"] ?? "", password: form["password"] ?? "")
            return page(
                "message", "Password set", context, ["message": "Your password is set. You can sign in now.", "link": "/app/login", "linkLabel": "Sign in"])
        } catch DomainError.validation(let errors) {
            values["errors"] = Self.errorMap(errors)
            return page("accept-invite", "Set your password", context, values, status: .unprocessableContent)
        } catch DomainError.notFound {
            values["failure"] = "This invitation is not valid: it was used already or has expired. Ask the practice for a new one."
            return page("accept-invite", "Set your password", context, values, status: .notFound)
        }
    }
}
