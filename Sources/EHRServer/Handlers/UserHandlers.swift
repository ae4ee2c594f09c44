import EHRAPI
import EHRDomain
import Foundation
import OpenAPIRuntime

/// User accounts: wire types in, ``UseCases`` calls, wire types out.
extension APIHandler {
    func listUsers(_ input: Operations.ListUsers.Input) async throws -> Operations.ListUsers.Output {
        let principal = try RequestScope.principal()
        guard AccessPolicy.canManageUsers(principal) else { throw DomainError.forbidden }
        let page = try pageRequest(limit: input.query.limit, cursor: input.query.cursor, list: .users)
        let result = try await useCases.users(principal, role: input.query.role.flatMap { Role(rawValue: $0.rawValue) }, page: page)
        return .ok(.init(body: .json(.init(items: result.items.map(Components.Schemas.User.init), nextCursor: nextCursor(result, list: .users)))))
    }

    func createUser(_ input: Operations.CreateUser.Input) async throws -> Operations.CreateUser.Output {
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        let (user, invitation) = try await useCases.createAdmin(try RequestScope.principal(), email: body.email, displayName: body.displayName)
        return .created(.init(body: .json(.init(user: .init(user), invitationToken: invitation.token, invitationExpiresAt: invitation.expiresAt))))
    }

    func getUser(_ input: Operations.GetUser.Input) async throws -> Operations.GetUser.Output {
        .ok(.init(body: .json(.init(try await useCases.user(try RequestScope.principal(), id: try pathID(input.path.id))))))
    }

    func updateUser(_ input: Operations.UpdateUser.Input) async throws -> Operations.UpdateUser.Output {
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        let user = try await useCases.updateUser(
            try RequestScope.principal(), id: try pathID(input.path.id), displayName: body.displayName, active: body.active)
        return .ok(.init(body: .json(.init(user))))
    }
}
