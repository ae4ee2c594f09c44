import EHRAPI
import EHRDomain
import EHRPersistence
import Foundation
import OpenAPIRuntime

extension APIHandler {
    func login(_ input: Operations.Login.Input) async throws -> Operations.Login.Output {
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        let issued = try await services.auth.login(tenantSlug: body.tenant, email: body.email, password: body.password, clientIP: RequestScope.clientIP)
        return .ok(.init(body: .json(try await tokenResponse(issued))))
    }

    func refreshToken(_ input: Operations.RefreshToken.Input) async throws -> Operations.RefreshToken.Output {
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        let issued = try await services.auth.refresh(token: body.refreshToken)
        return .ok(.init(body: .json(try await tokenResponse(issued))))
    }

    func logout(_ input: Operations.Logout.Input) async throws -> Operations.Logout.Output {
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        try await services.auth.logout(token: body.refreshToken)
        return .noContent(.init())
    }

    func getMe(_ input: Operations.GetMe.Input) async throws -> Operations.GetMe.Output {
        let principal = try RequestScope.principal()
        guard let user = try await store.find(id: principal.userID, tenantID: principal.tenantID) as User?, user.active, user.role == principal.role else {
            throw DomainError.unauthenticated("the account is no longer active")
        }
        return .ok(.init(body: .json(try await authUser(user))))
    }

    func acceptInvite(_ input: Operations.AcceptInvite.Input) async throws -> Operations.AcceptInvite.Output {
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        let user = try await services.auth.acceptInvitation(token: body.token, password: body.password)
        return .ok(.init(body: .json(try await DatabaseScope.tenant(user.tenantID) { try await authUser(user) })))
    }

    /// Public operations have no practice scope until the account is known: its details are read in its practice's.
    private func tokenResponse(_ issued: IssuedTokens) async throws -> Components.Schemas.TokenResponse {
        try await DatabaseScope.tenant(issued.user.tenantID) { try await scopedTokenResponse(issued) }
    }

    private func scopedTokenResponse(_ issued: IssuedTokens) async throws -> Components.Schemas.TokenResponse {
        .init(
            accessToken: issued.accessToken, refreshToken: issued.refreshToken, tokenType: .bearer, expiresIn: issued.expiresIn,
            user: try await authUser(issued.user))
    }

    private func authUser(_ user: User) async throws -> Components.Schemas.AuthUser {
        let patientID = user.role == .client ? try await store.find(portalUserID: user.id, tenantID: user.tenantID)?.id : nil
        return .init(user, patientID: patientID)
    }
}
