import EHRAPI
import EHRDomain
import Foundation
import OpenAPIRuntime

extension APIHandler {
    func listProviders(_ input: Operations.ListProviders.Input) async throws -> Operations.ListProviders.Output {
        let principal = try RequestScope.principal()
        let page = try pageRequest(limit: input.query.limit, cursor: input.query.cursor, list: .providers)
        let result = try await store.list(scope: AccessPolicy.providerScope(principal), page: page)
        return .ok(.init(body: .json(.init(items: result.items.map(Components.Schemas.Provider.init), nextCursor: nextCursor(result, list: .providers)))))
    }

    func createProvider(_ input: Operations.CreateProvider.Input) async throws -> Operations.CreateProvider.Output {
        let principal = try RequestScope.principal()
        guard AccessPolicy.canCreateProvider(principal) else { throw DomainError.forbidden }
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        var validator = Validator()
        let email = validator.email(body.email, "email")
        let name = validator.text(body.displayName, "displayName", max: 200)
        let profile = validateProfile(
            &validator, licenseNumber: body.licenseNumber, licenseState: body.licenseState,
            credentials: body.credentials, specialties: body.specialties)
        try validator.check()
        let now = self.now
        let user = User(tenantID: principal.tenantID, email: email!, displayName: name!, role: .therapist, createdAt: now, updatedAt: now)
        let provider = Provider(
            user: user, licenseNumber: profile.licenseNumber!, licenseState: profile.licenseState!,
            credentials: profile.credentials!, specialties: profile.specialties ?? [], updatedAt: now)
        let invitation = services.auth.makeInvitation(for: user, now: now)
        try await store.create(provider, invitation: invitation.record)
        return .created(
            .init(
                body: .json(
                    .init(
                        provider: .init(provider), invitationToken: invitation.token,
                        invitationExpiresAt: invitation.record.expiresAt))))
    }

    func getProvider(_ input: Operations.GetProvider.Input) async throws -> Operations.GetProvider.Output {
        .ok(.init(body: .json(.init(try await visibleProvider(input.path.id)))))
    }

    func updateProvider(_ input: Operations.UpdateProvider.Input) async throws -> Operations.UpdateProvider.Output {
        let principal = try RequestScope.principal()
        var provider = try await visibleProvider(input.path.id)
        guard AccessPolicy.canUpdateProvider(principal, provider) else { throw DomainError.forbidden }
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        var validator = Validator()
        if let name = body.displayName { provider.user.displayName = validator.text(name, "displayName", max: 200) ?? provider.user.displayName }
        let profile = validateProfile(
            &validator, licenseNumber: body.licenseNumber, licenseState: body.licenseState,
            credentials: body.credentials, specialties: body.specialties, required: false)
        try validator.check()
        var fields: ProviderFields = body.displayName == nil ? [] : .displayName
        if let value = profile.licenseNumber { (provider.licenseNumber, fields) = (value, fields.union(.licenseNumber)) }
        if let value = profile.licenseState { (provider.licenseState, fields) = (value, fields.union(.licenseState)) }
        if let value = profile.credentials { (provider.credentials, fields) = (value, fields.union(.credentials)) }
        if let value = profile.specialties { (provider.specialties, fields) = (value, fields.union(.specialties)) }
        provider.updatedAt = now
        provider.user.updatedAt = now
        try await store.update(provider, fields: fields)
        // Answer what is stored now: a concurrent change of another field is part of it.
        return .ok(.init(body: .json(.init(try await visibleProvider(input.path.id)))))
    }

    func deleteProvider(_ input: Operations.DeleteProvider.Input) async throws -> Operations.DeleteProvider.Output {
        let principal = try RequestScope.principal()
        var provider = try await visibleProvider(input.path.id)
        guard AccessPolicy.canDeleteProvider(principal, provider) else { throw DomainError.forbidden }
        if provider.user.active {
            provider.user.active = false
            provider.user.updatedAt = now
            provider.updatedAt = now
            try await store.update(provider, fields: .active)
            try await store.revokeAll(userID: provider.id, tenantID: provider.tenantID, at: now)
        }
        return .noContent(.init())
    }

    private func visibleProvider(_ rawID: String) async throws -> Provider {
        let principal = try RequestScope.principal()
        let id = try pathID(rawID)
        guard let provider = try await store.find(id: id, tenantID: principal.tenantID) as Provider? else { throw DomainError.notFound }
        let clientsTherapist =
            principal.role == .client
            ? try await store.find(portalUserID: principal.userID, tenantID: principal.tenantID)?.assignedTherapistID : nil
        guard AccessPolicy.canViewProvider(principal, provider, clientsTherapistID: clientsTherapist) else { throw DomainError.forbidden }
        return provider
    }

    private func validateProfile(
        _ v: inout Validator, licenseNumber: String?, licenseState: String?, credentials: String?, specialties: [String]?, required: Bool = true
    ) -> (licenseNumber: String?, licenseState: String?, credentials: String?, specialties: [String]?) {
        let number = v.text(licenseNumber, "licenseNumber", max: 50, required: required)
        var state = v.text(licenseState, "licenseState", max: 50, required: required)?.uppercased()
        if let value = state, value.count != 2 || !value.allSatisfy({ $0.isLetter && $0.isASCII }) {
            v.add("licenseState", "must be a two-letter state code")
            state = nil
        }
        let creds = v.text(credentials, "credentials", max: 200, required: required)
        var cleaned: [String]?
        if let specialties {
            if specialties.count > 50 { v.add("specialties", "at most 50 entries") }
            cleaned = []
            for (index, item) in specialties.enumerated() {
                if let value = v.text(item, "specialties[\(index)]", max: 100) { cleaned?.append(value) }
            }
        }
        return (number, state, creds, cleaned)
    }
}
