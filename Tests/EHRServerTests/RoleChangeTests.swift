import EHRDomain
import Foundation
import Testing

@testable import EHRServer

/// A changed role must end refresh at once (there is no API for role changes yet; an operator
/// changing it in the database is exactly the case to guard).
@Suite("Role change ends the session")
struct RoleChangeTests {
    @Test(arguments: TestBackend.all)
    func refreshStopsWhenTheRoleChanged(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            // setup: Dr. Smith signs in
            let login = try await world.call(
                .post, "/api/v1/auth/login",
                json: ["tenant": "demo", "email": "dr.smith@demo.test", "password": DemoSeed.password])
            try #require(login.status == .ok)
            let refreshToken = try #require(login.json["refreshToken"] as? String)

            // MUT: her role changes
            var user = try #require(try await world.services.store.find(id: TestWorld.demo.smith, tenantID: TestWorld.demo.tenantID) as User?)
            user.role = .admin
            try await world.services.store.update(user)

            // validate: the refresh token no longer works, and stays dead after the role is restored
            let refreshed = try await world.call(.post, "/api/v1/auth/refresh", json: ["refreshToken": refreshToken])
            expectProblem(refreshed, 401, "refresh after a role change")
            user.role = .therapist
            try await world.services.store.update(user)
            let again = try await world.call(.post, "/api/v1/auth/refresh", json: ["refreshToken": refreshToken])
            expectProblem(again, 401, "the family was revoked")
        }
    }
}
