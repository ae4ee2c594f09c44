import EHRAPI
import EHRDomain
import Foundation
import OpenAPIRuntime

/// Therapists: wire types in, ``UseCases`` calls, wire types out.
extension APIHandler {
    func listProviders(_ input: Operations.ListProviders.Input) async throws -> Operations.ListProviders.Output {
        let principal = try RequestScope.principal()
        let page = try pageRequest(limit: input.query.limit, cursor: input.query.cursor, list: .providers)
        let result = try await useCases.providers(principal, page: page)
        return .ok(.init(body: .json(.init(items: result.items.map(Components.Schemas.Provider.init), nextCursor: nextCursor(result, list: .providers)))))
    }

    func createProvider(_ input: Operations.CreateProvider.Input) async throws -> Operations.CreateProvider.Output {
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        let (provider, invitation) = try await useCases.createProvider(
            try RequestScope.principal(),
            ProviderInput(
                email: body.email, displayName: body.displayName, licenseNumber: body.licenseNumber, licenseState: body.licenseState,
                credentials: body.credentials, specialties: body.specialties))
        return .created(
            .init(body: .json(.init(provider: .init(provider), invitationToken: invitation.token, invitationExpiresAt: invitation.expiresAt))))
    }

    func getProvider(_ input: Operations.GetProvider.Input) async throws -> Operations.GetProvider.Output {
        .ok(.init(body: .json(.init(try await useCases.provider(try RequestScope.principal(), id: try pathID(input.path.id))))))
    }

    func updateProvider(_ input: Operations.UpdateProvider.Input) async throws -> Operations.UpdateProvider.Output {
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        let changes = ProviderChanges(
            displayName: body.displayName, licenseNumber: body.licenseNumber, licenseState: body.licenseState, credentials: body.credentials,
            specialties: body.specialties)
        let provider = try await useCases.updateProvider(try RequestScope.principal(), id: try pathID(input.path.id), changes)
        return .ok(.init(body: .json(.init(provider))))
    }

    func deleteProvider(_ input: Operations.DeleteProvider.Input) async throws -> Operations.DeleteProvider.Output {
        try await useCases.deactivateProvider(try RequestScope.principal(), id: try pathID(input.path.id))
        return .noContent(.init())
    }
}
