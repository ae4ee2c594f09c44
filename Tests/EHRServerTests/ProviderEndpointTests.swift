import Foundation
import HTTPTypes
import Testing

/// /api/v1/providers: admins manage, therapists see all and edit themselves, clients see their own therapist.
/// Serialized: each world costs a bcrypt hash, and bcrypt shares NIO's small thread pool with SQLite;
/// dozens of worlds at once starve SQLite connection requests into 10 s timeouts.
@Suite("Providers endpoint", .serialized) struct ProviderEndpointTests {
    private typealias Account = TestWorld.Account
    private let demo = TestWorld.demo
    private let other = TestWorld.other

    // MARK: Create and invite

    @Test(arguments: TestBackend.all)
    func adminAddsProviderWhoAcceptsTheInvitationAndSignsIn(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let created = try await world.call(.post, "/api/v1/providers", as: .admin, json: newProvider())
            try #require(created.status == .created, "\(created.text)")
            let invitation = try #require(created.json["invitationToken"] as? String)
            #expect(!invitation.isEmpty)
            #expect(created.json["invitationExpiresAt"] is String)
            let provider = try #require(created.json["provider"] as? [String: Any])
            let id = try #require(provider["id"] as? String)
            #expect(provider["email"] as? String == "dr.new@demo.test")
            #expect(provider["tenantId"] as? String == wire(demo.tenantID))
            #expect(provider["licenseState"] as? String == "CA")
            #expect(provider["specialties"] as? [String] == ["Anxiety", "Grief"])
            #expect(provider["active"] as? Bool == true, "contract: a new provider can be assigned patients before accepting the invitation")

            // A too-short password is refused and does not use up the invitation.
            let short = try await world.call(.post, "/api/v1/auth/accept-invite", json: ["token": invitation, "password": "short"])
            #expect(short.status == .unprocessableContent, "\(short.text)")
            #expect(short.problemFields == ["password"])

            let accepted = try await world.call(
                .post, "/api/v1/auth/accept-invite",
                json: ["token": invitation, "password": "correct horse battery"])
            #expect(accepted.status == .ok, "\(accepted.text)")
            #expect(accepted.json["id"] as? String == id)
            #expect(accepted.json["role"] as? String == "therapist")
            #expect(accepted.json["accessToken"] == nil, "accepting does not sign in")

            let again = try await world.call(
                .post, "/api/v1/auth/accept-invite",
                json: ["token": invitation, "password": "another long password"])
            #expect(again.status == .notFound, "an invitation is single-use: \(again.text)")

            let login = try await world.call(
                .post, "/api/v1/auth/login",
                json: ["tenant": "demo", "email": "DR.NEW@demo.test", "password": "correct horse battery"])
            #expect(login.status == .ok, "\(login.text)")
            let user = login.json["user"] as? [String: Any]
            #expect(user?["id"] as? String == id)
            #expect(user?["role"] as? String == "therapist")

            let fetched = try await world.call(.get, "/api/v1/providers/\(id)", as: .smith)
            #expect(fetched.status == .ok)
            #expect(fetched.json["active"] as? Bool == true)
            let list = try await world.call(.get, "/api/v1/providers", as: .admin)
            #expect(list.items.count == 3)
        }
    }

    @Test(arguments: TestBackend.all)
    func createValidationNamesEveryBadField(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let token = try await world.token(.admin)
            let xyz = try await world.call(.post, "/api/v1/providers", token: token, json: newProvider(["licenseState": "XYZ"]))
            #expect(xyz.status == .unprocessableContent, "\(xyz.text)")
            #expect(Set(xyz.problemFields) == ["licenseState"], "\(xyz.text)")

            let many = try await world.call(
                .post, "/api/v1/providers", token: token,
                json: newProvider([
                    "email": "nope", "displayName": " ", "licenseState": "1", "credentials": "",
                ]))
            #expect(many.status == .unprocessableContent)
            #expect(Set(many.problemFields) == ["email", "displayName", "licenseState", "credentials"])

            let duplicate = try await world.call(.post, "/api/v1/providers", token: token, json: newProvider(["email": "dr.smith@demo.test"]))
            #expect(duplicate.status == .conflict, "\(duplicate.text)")

            let unknown = try await world.call(.post, "/api/v1/providers", token: token, json: newProvider(["active": true]))
            #expect(unknown.status == .badRequest)
            #expect(unknown.problemFields == ["active"])
            let missing = try await world.call(.post, "/api/v1/providers", token: token, json: newProvider(removing: "licenseNumber"))
            #expect(missing.status == .badRequest)
            #expect(missing.problemFields == ["licenseNumber"])
            let wrongType = try await world.call(.post, "/api/v1/providers", token: token, json: newProvider(["specialties": "CBT"]))
            #expect(wrongType.status == .badRequest)
            #expect(wrongType.problemFields == ["specialties"])

            #expect(try await world.call(.get, "/api/v1/providers", token: token).items.count == 2, "nothing was created")
        }
    }

    @Test(arguments: TestBackend.all)
    func therapistsAndClientsCannotAddProviders(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            for account in [Account.smith, .johnson, .john, .jane, .bob] {
                let reply = try await world.call(
                    .post, "/api/v1/providers", as: account,
                    json: newProvider(["email": "by.\(account.rawValue)@demo.test"]))
                #expect(reply.status == .notFound, "\(account) POST /providers: expected 404, got \(reply.status.code) \(reply.text)")
            }
            #expect(try await world.call(.get, "/api/v1/providers", as: .admin).items.count == 2)
            let anonymous = try await world.call(.post, "/api/v1/providers", json: newProvider())
            #expect(anonymous.status == .unauthorized)
        }
    }

    // MARK: Read

    @Test(arguments: TestBackend.all)
    func adminsAndTherapistsSeeEveryProviderOfTheirPractice(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            for account in [Account.admin, .smith, .johnson] {
                let list = try await world.call(.get, "/api/v1/providers", as: account)
                #expect(list.status == .ok)
                #expect(ids(list).count == 2 && Set(ids(list)) == [wire(demo.smith), wire(demo.johnson)], "\(account)")
                #expect(list.json["nextCursor"] is NSNull)
                for id in [demo.smith, demo.johnson] {
                    #expect(try await world.call(.get, providerPath(id), as: account).status == .ok, "\(account) GET \(id)")
                }
                let foreign = try await world.call(.get, providerPath(other.smith), as: account)
                #expect(foreign.status == .notFound, "\(account) GET another practice's provider")
            }
            let smith = try await world.call(.get, providerPath(demo.smith), as: .johnson)
            #expect(smith.json["licenseNumber"] as? String == "PSY-100234")
            #expect(smith.json["licenseState"] as? String == "NY")
            #expect(smith.json["specialties"] as? [String] == ["Anxiety", "Depression", "CBT"])

            // Paging: one provider per page, then an explicit null cursor.
            let first = try await world.call(.get, "/api/v1/providers?limit=1", as: .smith)
            let cursor = try #require(first.json["nextCursor"] as? String)
            let second = try await world.call(.get, "/api/v1/providers?limit=1&cursor=\(escaped(cursor))", as: .smith)
            #expect(second.status == .ok)
            #expect(ids(first).count == 1 && ids(second).count == 1)
            #expect(Set(ids(first) + ids(second)) == [wire(demo.smith), wire(demo.johnson)])
            #expect(second.json["nextCursor"] is NSNull)
        }
    }

    @Test(arguments: TestBackend.all)
    func clientsSeeOnlyTheirAssignedTherapist(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let cases: [(Account, UUID, UUID)] = [(.john, demo.smith, demo.johnson), (.jane, demo.smith, demo.johnson), (.bob, demo.johnson, demo.smith)]
            for (client, mine, notMine) in cases {
                let list = try await world.call(.get, "/api/v1/providers", as: client)
                #expect(list.status == .ok)
                #expect(ids(list) == [wire(mine)], "\(client) lists only their therapist")
                #expect(list.json["nextCursor"] is NSNull)
                #expect(try await world.call(.get, providerPath(mine), as: client).status == .ok, "\(client) GET own therapist")
                let denied = try await world.call(.get, providerPath(notMine), as: client)
                #expect(denied.status == .notFound, "\(client) GET another therapist")
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func malformedRequestsAre400AndStrangersAre401(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let token = try await world.token(.smith)
            let badID = try await world.call(.get, "/api/v1/providers/12345", token: token)
            #expect(badID.status == .badRequest)
            #expect(badID.problemFields == ["id"])
            for (query, field) in [("limit=0", "limit"), ("limit=1000", "limit"), ("cursor=abc", "cursor"), ("cursor=eyJ4IjoxfQ", "cursor")] {
                let reply = try await world.call(.get, "/api/v1/providers?" + query, token: token)
                #expect(reply.status == .badRequest, "?\(query): \(reply.text)")
                #expect(reply.problemFields.contains(field), "?\(query) should name \(field): \(reply.text)")
            }
            #expect(try await world.call(.get, "/api/v1/providers").status == .unauthorized)
            #expect(try await world.call(.get, providerPath(demo.smith)).status == .unauthorized)
            #expect(try await world.call(.patch, providerPath(demo.smith), json: ["credentials": "X"]).status == .unauthorized)
            #expect(try await world.call(.delete, providerPath(demo.smith)).status == .unauthorized)
        }
    }

    // MARK: Update

    @Test(arguments: TestBackend.all)
    func therapistUpdatesOwnProfileButNoOneElses(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let own = try await world.call(
                .patch, providerPath(demo.smith), as: .smith,
                json: ["credentials": "PhD, LP, ABPP", "specialties": ["Anxiety", "Trauma"]])
            #expect(own.status == .ok, "\(own.text)")
            #expect(own.json["credentials"] as? String == "PhD, LP, ABPP")
            #expect(own.json["specialties"] as? [String] == ["Anxiety", "Trauma"])
            #expect(own.json["licenseNumber"] as? String == "PSY-100234", "fields left out are unchanged")

            let denied: [(Account, UUID)] = [
                (.smith, demo.johnson), (.johnson, demo.smith), (.john, demo.smith), (.john, demo.johnson),
                (.bob, demo.johnson), (.jane, demo.smith),
            ]
            for (account, target) in denied {
                let reply = try await world.call(.patch, providerPath(target), as: account, json: ["credentials": "Hacked"])
                #expect(reply.status == .notFound, "\(account) PATCH provider \(target): expected 404, got \(reply.status.code) \(reply.text)")
            }
            let foreign = try await world.call(.patch, providerPath(demo.smith), as: .smith, in: other, json: ["credentials": "Hacked"])
            #expect(foreign.status == .notFound)
            for id in [demo.smith, demo.johnson] {
                #expect(try await world.call(.get, providerPath(id), as: .admin).json["credentials"] as? String != "Hacked")
            }

            let byAdmin = try await world.call(
                .patch, providerPath(demo.johnson), as: .admin,
                json: ["displayName": "Dr. Mike Johnson", "licenseState": "nj"])
            #expect(byAdmin.status == .ok)
            #expect(byAdmin.json["displayName"] as? String == "Dr. Mike Johnson")
            #expect(byAdmin.json["licenseState"] as? String == "NJ")
        }
    }

    @Test(arguments: TestBackend.all)
    func updateValidation(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let path = providerPath(demo.smith)
            let xyz = try await world.call(.patch, path, as: .smith, json: ["licenseState": "XYZ"])
            #expect(xyz.status == .unprocessableContent)
            #expect(Set(xyz.problemFields) == ["licenseState"], "\(xyz.text)")
            let many = try await world.call(.patch, path, as: .smith, json: ["licenseState": "N1", "displayName": "", "specialties": ["ok", " "]])
            #expect(many.status == .unprocessableContent)
            #expect(Set(many.problemFields) == ["licenseState", "displayName", "specialties[1]"])
            let unknown = try await world.call(.patch, path, as: .smith, json: ["email": "me@elsewhere.test"])
            #expect(unknown.status == .badRequest)
            #expect(unknown.problemFields == ["email"])
            let unchanged = try await world.call(.get, path, as: .smith)
            #expect(unchanged.json["licenseState"] as? String == "NY")
            #expect(unchanged.json["email"] as? String == "dr.smith@demo.test")
        }
    }

    // MARK: Delete (deactivate)

    @Test(arguments: TestBackend.all)
    func adminDeactivatesProviderAndNobodyElseCan(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            for (account, target) in [(Account.smith, demo.johnson), (.smith, demo.smith), (.johnson, demo.smith), (.john, demo.smith), (.bob, demo.johnson)] {
                let reply = try await world.call(.delete, providerPath(target), as: account)
                #expect(reply.status == .notFound, "\(account) DELETE provider \(target): expected 404, got \(reply.status.code) \(reply.text)")
            }
            let foreign = try await world.call(.delete, providerPath(demo.johnson), as: .admin, in: other)
            #expect(foreign.status == .notFound)
            #expect(try await world.call(.get, providerPath(demo.johnson), as: .admin).json["active"] as? Bool == true)

            let johnsonToken = try await world.token(.johnson)
            let deleted = try await world.call(.delete, providerPath(demo.johnson), as: .admin)
            #expect(deleted.status == .noContent)
            #expect(deleted.body.readableBytes == 0)

            let fetched = try await world.call(.get, providerPath(demo.johnson), as: .admin)
            #expect(fetched.status == .ok, "the profile is kept")
            #expect(fetched.json["active"] as? Bool == false)
            let listed = try await world.call(.get, "/api/v1/providers", as: .smith)
            #expect(listed.items.first { $0["id"] as? String == wire(demo.johnson) }?["active"] as? Bool == false)
            #expect(try await world.call(.get, "/api/v1/users/" + wire(demo.johnson), as: .admin).json["active"] as? Bool == false)

            // Repeating is harmless; the deactivated therapist's session is over.
            #expect(try await world.call(.delete, providerPath(demo.johnson), as: .admin).status == .noContent)
            #expect(try await world.call(.get, "/api/v1/auth/me", token: johnsonToken).status == .unauthorized)
            // A deactivated therapist cannot be assigned new patients.
            let patient = try await world.call(
                .post, "/api/v1/patients", as: .admin,
                json: [
                    "firstName": "Riley", "lastName": "Chen", "dateOfBirth": "1985-11-30", "assignedTherapistId": wire(demo.johnson),
                ])
            #expect(patient.status == .unprocessableContent)
            #expect(patient.problemFields == ["assignedTherapistId"])
        }
    }

    // MARK: Helpers

    private func newProvider(_ overrides: [String: Any] = [:], removing: String? = nil) -> [String: Any] {
        var body: [String: Any] = [
            "email": "dr.new@demo.test", "displayName": "Dr. Riley New", "licenseNumber": "PSY-777",
            "licenseState": "CA", "credentials": "PsyD", "specialties": ["Anxiety", "Grief"],
        ]
        body.merge(overrides) { _, new in new }
        if let removing { body[removing] = nil }
        return body
    }

    private func ids(_ reply: TestWorld.Reply) -> [String] { reply.items.compactMap { $0["id"] as? String } }
    private func providerPath(_ id: UUID) -> String { "/api/v1/providers/" + wire(id) }
    private func wire(_ id: UUID) -> String { id.uuidString.lowercased() }
    private func escaped(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~"))) ?? text
    }
}
