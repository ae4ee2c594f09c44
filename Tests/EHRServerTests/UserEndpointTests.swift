import Foundation
import HTTPTypes
import Testing

/// /api/v1/users: admin only. Everyone else gets 404 (never 403), strangers 401.
/// Serialized: each world costs a bcrypt hash, and bcrypt shares NIO's small thread pool with SQLite;
/// dozens of worlds at once starve SQLite connection requests into 10 s timeouts.
@Suite("Users endpoint", .serialized) struct UserEndpointTests {
    private typealias Account = TestWorld.Account
    private let demo = TestWorld.demo
    private let other = TestWorld.other

    // MARK: Admin

    @Test(arguments: TestBackend.all)
    func adminPagesThroughEveryUserOfThePractice(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let token = try await world.token(.admin)
            var cursor: String?
            var ids: [String] = []
            var pages = 0
            repeat {
                let page = try await world.call(.get, "/api/v1/users?limit=2" + cursorQuery(cursor), token: token)
                try #require(page.status == .ok, "page \(pages + 1): \(page.text)")
                #expect(page.items.count <= 2)
                ids += page.items.compactMap { $0["id"] as? String }
                #expect(page.json.keys.contains("nextCursor"), "nextCursor must always be present")
                cursor = page.json["nextCursor"] as? String
                if cursor == nil { #expect(page.json["nextCursor"] is NSNull, "last page: nextCursor must be JSON null") }
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(ids.count == 6)
            #expect(Set(ids) == Set(Account.allCases.map { wire($0.userID(in: demo)) }))

            // One page holding everything also ends with an explicit null.
            let all = try await world.call(.get, "/api/v1/users", token: token)
            #expect(all.status == .ok)
            #expect(all.items.count == 6)
            #expect(all.json["nextCursor"] is NSNull)
        }
    }

    @Test(arguments: TestBackend.all)
    func adminFiltersByRoleAndMalformedQueriesAre400(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let token = try await world.token(.admin)
            let therapists = try await world.call(.get, "/api/v1/users?role=therapist", token: token)
            #expect(therapists.status == .ok)
            #expect(Set(therapists.items.compactMap { $0["id"] as? String }) == [wire(demo.smith), wire(demo.johnson)])
            #expect(therapists.items.allSatisfy { $0["role"] as? String == "therapist" })
            let clients = try await world.call(.get, "/api/v1/users?role=client", token: token)
            #expect(clients.items.count == 3)

            for (query, field) in [
                ("role=boss", "role"), ("limit=0", "limit"), ("limit=101", "limit"), ("limit=abc", "limit"),
                ("cursor=not-a-cursor", "cursor"),
            ] {
                let reply = try await world.call(.get, "/api/v1/users?" + query, token: token)
                #expect(reply.status == .badRequest, "?\(query): \(reply.text)")
                #expect(reply.problemFields.contains(field), "?\(query) should name \(field): \(reply.text)")
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func adminGetsUsersOfOwnPracticeOnly(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let token = try await world.token(.admin)
            let smith = try await world.call(.get, userPath(demo.smith), token: token)
            #expect(smith.status == .ok)
            #expect(smith.json["id"] as? String == wire(demo.smith))
            #expect(smith.json["tenantId"] as? String == wire(demo.tenantID))
            #expect(smith.json["email"] as? String == "dr.smith@demo.test")
            #expect(smith.json["role"] as? String == "therapist")
            #expect(smith.json["active"] as? Bool == true)
            #expect(smith.json["passwordHash"] == nil && !smith.text.contains("$2"), "no password hash on the wire")

            let john = try await world.call(.get, userPath(demo.johnUser), token: token)
            #expect(john.status == .ok)
            #expect(john.json["role"] as? String == "client")

            // Another practice's user and an unknown id look the same.
            let foreign = try await world.call(.get, userPath(other.smith), token: token)
            #expect(foreign.status == .notFound)
            let unknown = try await world.call(.get, userPath(UUID()), token: token)
            #expect(unknown.status == .notFound)
            #expect(foreign.json["title"] as? String == unknown.json["title"] as? String)
            #expect(foreign.json["detail"] as? String == unknown.json["detail"] as? String)

            let malformed = try await world.call(.get, "/api/v1/users/not-a-uuid", token: token)
            #expect(malformed.status == .badRequest)
            #expect(malformed.problemFields == ["id"])
        }
    }

    @Test(arguments: TestBackend.all)
    func adminInvitesAnotherAdmin(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let token = try await world.token(.admin)
            let created = try await world.call(
                .post, "/api/v1/users", token: token,
                json: ["email": "Office.Manager@demo.test", "displayName": "Morgan Lee"])
            try #require(created.status == .created, "\(created.text)")
            let invitation = created.json["invitationToken"] as? String
            #expect(invitation?.isEmpty == false)
            #expect(created.json["invitationExpiresAt"] is String)
            let user = try #require(created.json["user"] as? [String: Any])
            #expect(user["role"] as? String == "admin")
            #expect(user["email"] as? String == "office.manager@demo.test")
            #expect(user["tenantId"] as? String == wire(demo.tenantID))
            #expect(user["active"] as? Bool == true, "contract: invited accounts are active but cannot sign in before accepting")
            let id = try #require(user["id"] as? String)
            #expect(try await world.call(.get, "/api/v1/users/\(id)", token: token).status == .ok)

            // The invitee sets a password; the account is an admin account.
            let accepted = try await world.call(
                .post, "/api/v1/auth/accept-invite",
                json: ["token": invitation ?? "", "password": "a-long-enough-password"])
            #expect(accepted.status == .ok, "\(accepted.text)")
            #expect(accepted.json["role"] as? String == "admin")
            #expect(accepted.json["id"] as? String == id)
            #expect(try await world.call(.get, "/api/v1/users/\(id)", token: token).json["active"] as? Bool == true)

            // Emails are unique per practice, case-insensitively.
            for email in ["office.manager@demo.test", "DR.SMITH@demo.test"] {
                let duplicate = try await world.call(.post, "/api/v1/users", token: token, json: ["email": email, "displayName": "Dup"])
                #expect(duplicate.status == .conflict, "\(email): \(duplicate.text)")
            }
            // ...but another practice's email is no conflict.
            let elsewhere = try await world.call(.post, "/api/v1/users", token: token, json: ["email": "admin@other.test", "displayName": "Twin"])
            #expect(elsewhere.status == .created)
        }
    }

    @Test(arguments: TestBackend.all)
    func inviteValidationNamesEveryBadField(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let token = try await world.token(.admin)
            let badEmail = try await world.call(.post, "/api/v1/users", token: token, json: ["email": "not-an-email", "displayName": "X"])
            #expect(badEmail.status == .unprocessableContent)
            #expect(badEmail.problemFields == ["email"])

            let both = try await world.call(.post, "/api/v1/users", token: token, json: ["email": "a b@demo", "displayName": "   "])
            #expect(both.status == .unprocessableContent)
            #expect(Set(both.problemFields) == ["email", "displayName"])

            // Unknown fields (such as a role or tenant) and missing fields are malformed requests.
            let withRole = try await world.call(
                .post, "/api/v1/users", token: token,
                json: ["email": "x@demo.test", "displayName": "X", "role": "therapist"])
            #expect(withRole.status == .badRequest)
            #expect(withRole.problemFields == ["role"])
            let missing = try await world.call(.post, "/api/v1/users", token: token, json: ["email": "x@demo.test"])
            #expect(missing.status == .badRequest)
            #expect(missing.problemFields == ["displayName"])
            let wrongType = try await world.call(.post, "/api/v1/users", token: token, json: ["email": 42, "displayName": "X"])
            #expect(wrongType.status == .badRequest)
            #expect(wrongType.problemFields == ["email"])
            let notJSON = try await world.call(.post, "/api/v1/users", token: token, raw: "{\"email\": ")
            #expect(notJSON.status == .badRequest)

            // Nothing was created by any of these.
            #expect(try await world.call(.get, "/api/v1/users", token: token).items.count == 6)
        }
    }

    @Test(arguments: TestBackend.all)
    func adminRenamesDeactivatesAndReactivates(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let token = try await world.token(.admin)
            let path = userPath(demo.janeUser)
            let renamed = try await world.call(.patch, path, token: token, json: ["displayName": "  Jane Q. Smith  "])
            #expect(renamed.status == .ok)
            #expect(renamed.json["displayName"] as? String == "Jane Q. Smith")
            #expect(renamed.json["active"] as? Bool == true)

            let deactivated = try await world.call(.patch, path, token: token, json: ["active": false])
            #expect(deactivated.status == .ok)
            #expect(deactivated.json["active"] as? Bool == false)
            #expect(deactivated.json["displayName"] as? String == "Jane Q. Smith", "fields left out are unchanged")
            #expect(try await world.call(.get, path, token: token).json["active"] as? Bool == false)

            let reactivated = try await world.call(.patch, path, token: token, json: ["active": true])
            #expect(reactivated.json["active"] as? Bool == true)

            let blank = try await world.call(.patch, path, token: token, json: ["displayName": " "])
            #expect(blank.status == .unprocessableContent)
            #expect(blank.problemFields == ["displayName"])
            let unknown = try await world.call(.patch, path, token: token, json: ["role": "admin"])
            #expect(unknown.status == .badRequest)
            #expect(unknown.problemFields == ["role"])
            let wrongType = try await world.call(.patch, path, token: token, json: ["active": "no"])
            #expect(wrongType.status == .badRequest)
            #expect(wrongType.problemFields == ["active"])
            #expect(try await world.call(.get, path, token: token).json["role"] as? String == "client")

            // Another practice's admin cannot touch this user.
            let foreign = try await world.call(.patch, path, as: .admin, in: other, json: ["active": false])
            #expect(foreign.status == .notFound)
            #expect(try await world.call(.get, path, token: token).json["active"] as? Bool == true)
        }
    }

    @Test(arguments: TestBackend.all)
    func deactivationEndsTheUsersSession(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let login = try await world.call(
                .post, "/api/v1/auth/login",
                json: ["tenant": "demo", "email": "dr.johnson@demo.test", "password": "mentalspace-demo"])
            try #require(login.status == .ok, "\(login.text)")
            let refresh = try #require(login.json["refreshToken"] as? String)
            let access = try #require(login.json["accessToken"] as? String)

            let deactivated = try await world.call(.patch, userPath(demo.johnson), as: .admin, json: ["active": false])
            #expect(deactivated.status == .ok)

            let refreshed = try await world.call(.post, "/api/v1/auth/refresh", json: ["refreshToken": refresh])
            #expect(refreshed.status == .unauthorized, "a deactivated user's refresh token must stop working: \(refreshed.text)")
            let me = try await world.call(.get, "/api/v1/auth/me", token: access)
            #expect(me.status == .unauthorized)
            let again = try await world.call(
                .post, "/api/v1/auth/login",
                json: ["tenant": "demo", "email": "dr.johnson@demo.test", "password": "mentalspace-demo"])
            #expect(again.status == .unauthorized)
        }
    }

    @Test(arguments: TestBackend.all)
    func adminCannotDeactivateThemself(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let token = try await world.token(.admin)
            let reply = try await world.call(.patch, userPath(demo.admin), token: token, json: ["active": false])
            #expect(reply.status == .unprocessableContent)
            #expect(reply.problemFields == ["active"])
            #expect(try await world.call(.get, userPath(demo.admin), token: token).json["active"] as? Bool == true)
            // Renaming themself is fine.
            let renamed = try await world.call(.patch, userPath(demo.admin), token: token, json: ["displayName": "Head Admin"])
            #expect(renamed.status == .ok)
        }
    }

    // MARK: Everyone else

    @Test(arguments: TestBackend.all)
    func therapistsAndClientsGet404OnEveryUsersCall(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            for account in [Account.smith, .johnson, .john, .jane, .bob] {
                let token = try await world.token(account)
                let own = userPath(account.userID(in: demo))
                let calls: [(HTTPRequest.Method, String, [String: Any]?)] = [
                    (.get, "/api/v1/users", nil),
                    (.get, "/api/v1/users?role=admin", nil),
                    (.post, "/api/v1/users", ["email": "sneaky.\(account.rawValue)@demo.test", "displayName": "Sneaky"]),
                    (.get, own, nil),
                    (.get, userPath(demo.admin), nil),
                    (.patch, own, ["displayName": "Renamed"]),
                    (.patch, userPath(demo.admin), ["active": false]),
                ]
                for (method, path, body) in calls {
                    let reply = try await world.call(method, path, token: token, json: body)
                    #expect(reply.status == .notFound, "\(account) \(method) \(path): expected 404, got \(reply.status.code) \(reply.text)")
                }
            }
            // Nothing changed.
            let admin = try await world.token(.admin)
            let users = try await world.call(.get, "/api/v1/users", token: admin)
            #expect(users.items.count == 6)
            #expect(users.items.allSatisfy { $0["active"] as? Bool == true })
            #expect(users.items.allSatisfy { $0["displayName"] as? String != "Renamed" })
        }
    }

    @Test(arguments: TestBackend.all)
    func otherPracticesAdminSeesOnlyTheirOwnUsers(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let token = try await world.token(.admin, in: other)
            let list = try await world.call(.get, "/api/v1/users", token: token)
            #expect(list.status == .ok)
            #expect(Set(list.items.compactMap { $0["id"] as? String }) == Set(Account.allCases.map { wire($0.userID(in: other)) }))
            #expect(try await world.call(.get, userPath(demo.admin), token: token).status == .notFound)
        }
    }

    @Test(arguments: TestBackend.all)
    func withoutATokenEveryUsersCallIs401(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let calls: [(HTTPRequest.Method, String, [String: Any]?)] = [
                (.get, "/api/v1/users", nil),
                (.post, "/api/v1/users", ["email": "x@demo.test", "displayName": "X"]),
                (.get, userPath(demo.admin), nil),
                (.patch, userPath(demo.admin), ["active": false]),
            ]
            for (method, path, body) in calls {
                let reply = try await world.call(method, path, json: body)
                #expect(reply.status == .unauthorized, "\(method) \(path): \(reply.status.code)")
                #expect(reply.headers[.contentType] == "application/problem+json")
            }
        }
    }

    // MARK: Helpers

    private func userPath(_ id: UUID) -> String { "/api/v1/users/" + wire(id) }
    private func wire(_ id: UUID) -> String { id.uuidString.lowercased() }
    private func cursorQuery(_ cursor: String?) -> String {
        guard let cursor else { return "" }
        return "&cursor=" + (cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~"))) ?? cursor)
    }
}
