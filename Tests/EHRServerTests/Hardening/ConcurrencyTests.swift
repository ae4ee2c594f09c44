import EHRDomain
import Foundation
import Testing

@testable import EHRServer

/// Decisions survive concurrent requests: a deactivation is never undone by a profile edit racing it, and a
/// logout racing a refresh leaves no token of the family working.
@Suite("Concurrent requests", .serialized) struct ConcurrencyTests {
    @Test(arguments: TestBackend.all)
    func concurrentProfileEditsNeverUndoADeactivation(_ backend: TestBackend) async throws {
        try await withWorld(backend, concurrent: true) { world in
            let d = TestWorld.demo
            let smith = try await world.token(.smith)
            let admin = try await world.token(.admin)
            for round in 0..<20 {
                async let ownEdit = world.call(.patch, "/api/v1/providers/\(d.smith.wire)", token: smith, json: ["displayName": "Dr. Sarah Smith \(round)"])
                async let adminEdit = world.call(.patch, "/api/v1/users/\(d.smith.wire)", token: admin, json: ["displayName": "Sarah Smith, PhD \(round)"])
                async let deactivation = world.call(.delete, "/api/v1/providers/\(d.smith.wire)", token: admin)
                let (edited, renamed, deactivated) = try await (ownEdit, adminEdit, deactivation)
                #expect(edited.status == .ok && renamed.status == .ok, "round \(round): \(edited.status) \(renamed.status)")
                #expect(deactivated.status == .noContent, "round \(round): \(deactivated.status)")
                let stored = try #require(try await world.services.store.find(id: d.smith, tenantID: d.tenantID) as User?)
                #expect(!stored.active, "round \(round): a profile edit switched the account back on")
                #expect(stored.displayName.hasSuffix(" \(round)"), "round \(round): an edit was lost")
                let reactivated = try await world.call(.patch, "/api/v1/users/\(d.smith.wire)", token: admin, json: ["active": true])
                #expect(reactivated.status == .ok)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func logoutRacingRefreshLeavesNoWorkingToken(_ backend: TestBackend) async throws {
        try await withWorld(backend, concurrent: true) { world in
            var refreshedFirst = 0
            for round in 0..<40 {
                let token = try await world.refreshToken(.jane)
                async let refresh = world.call(.post, "/api/v1/auth/refresh", json: ["refreshToken": token])
                async let logout = world.call(.post, "/api/v1/auth/logout", json: ["refreshToken": token])
                let (refreshed, loggedOut) = try await (refresh, logout)
                #expect(loggedOut.status == .noContent, "round \(round): logout \(loggedOut.status)")
                #expect(try await world.call(.post, "/api/v1/auth/refresh", json: ["refreshToken": token]).status == .unauthorized)
                if refreshed.status == .ok, let successor = refreshed.json["refreshToken"] as? String {
                    refreshedFirst += 1
                    let again = try await world.call(.post, "/api/v1/auth/refresh", json: ["refreshToken": successor])
                    #expect(again.status == .unauthorized, "round \(round): the successor outlived the logout")
                }
            }
            print("refresh/logout race (\(backend.testDescription)): 40 rounds, \(refreshedFirst) where the refresh answered first")
        }
    }
}
