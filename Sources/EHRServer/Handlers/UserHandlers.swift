import EHRAPI
import EHRDomain
import Foundation
import OpenAPIRuntime

extension APIHandler {
    func listUsers(_ input: Operations.ListUsers.Input) async throws -> Operations.ListUsers.Output {
        let principal = try RequestScope.principal()
        guard AccessPolicy.canManageUsers(principal) else { throw DomainError.forbidden }
        let page = try pageRequest(limit: input.query.limit, cursor: input.query.cursor, list: .users)
        let role = input.query.role.flatMap { Role(rawValue: $0.rawValue) }
        let result = try await store.list(tenantID: principal.tenantID, role: role, page: page)
        return .ok(.init(body: .json(.init(items: result.items.map(Components.Schemas.User.init), nextCursor: nextCursor(result, list: .users)))))
    }

    func createUser(_ input: Operations.CreateUser.Input) async throws -> Operations.CreateUser.Output {
        let principal = try RequestScope.principal()
        guard AccessPolicy.canManageUsers(principal) else { throw DomainError.forbidden }
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        var validator = Validator()
        let email = validator.email(body.email, "email")
        let name = validator.text(body.displayName, "displayName", max: 200)
        try validator.check()
        let now = self.now
        let user = User(tenantID: principal.tenantID, email: email!, displayName: name!, role: .admin, createdAt: now, updatedAt: now)
        let invitation = services.auth.makeInvitation(for: user, now: now)
        try await store.create(user, invitation: invitation.record)
        return .created(.init(body: .json(.init(user: .init(user), invitationToken: invitation.token, invitationExpiresAt: invitation.record.expiresAt))))
    }

    func getUser(_ input: Operations.GetUser.Input) async throws -> Operations.GetUser.Output {
        let user = try await visibleUser(input.path.id)
        return .ok(.init(body: .json(.init(user))))
    }

    func updateUser(_ input: Operations.UpdateUser.Input) async throws -> Operations.UpdateUser.Output {
        let principal = try RequestScope.principal()
        var user = try await visibleUser(input.path.id)
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        var validator = Validator()
        var fields: UserFields = []
        if let name = body.displayName {
            user.displayName = validator.text(name, "displayName", max: 200) ?? user.displayName
            fields.insert(.displayName)
        }
        if let active = body.active {
            fields.insert(.active)
            // An admin cannot lock themself out; another admin must do it.
            if !active && user.id == principal.userID { validator.add("active", "you cannot deactivate your own account") }
            user.active = active
        }
        try validator.check()
        user.updatedAt = now
        try await store.update(user, fields: fields)
        if body.active == false {
            // Refresh stops at once; access tokens lapse within their lifetime (at most 15 minutes).
            try await store.revokeAll(userID: user.id, tenantID: user.tenantID, at: now)
        }
        // Answer what is stored now: a concurrent change of another field is part of it.
        return .ok(.init(body: .json(.init(try await visibleUser(input.path.id)))))
    }

    private func visibleUser(_ rawID: String) async throws -> User {
        let principal = try RequestScope.principal()
        let id = try pathID(rawID)
        guard let user = try await store.find(id: id, tenantID: principal.tenantID) as User? else { throw DomainError.notFound }
        guard AccessPolicy.canViewUser(principal, user) else { throw DomainError.forbidden }
        return user
    }
}
