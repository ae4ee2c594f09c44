import Foundation
import HTTPTypes
import Testing

/// /api/v1/patients: admins see and manage all; therapists see their assigned patients; clients see themselves.
/// Serialized: each world costs a bcrypt hash, and bcrypt shares NIO's small thread pool with SQLite;
/// dozens of worlds at once starve SQLite connection requests into 10 s timeouts.
@Suite("Patients endpoint", .serialized) struct PatientEndpointTests {
    private typealias Account = TestWorld.Account
    private let demo = TestWorld.demo
    private let other = TestWorld.other

    /// Who may see which demo patient (seed: Smith has John and Jane, Johnson has Bob).
    private func visible(to account: Account) -> Set<UUID> {
        switch account {
        case .admin: return [demo.john, demo.jane, demo.bob]
        case .smith: return [demo.john, demo.jane]
        case .johnson: return [demo.bob]
        case .john: return [demo.john]
        case .jane: return [demo.jane]
        case .bob: return [demo.bob]
        }
    }

    // MARK: Read

    @Test(arguments: TestBackend.all)
    func everyRoleListsExactlyThePatientsItMaySee(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            for account in Account.allCases {
                let list = try await world.call(.get, "/api/v1/patients", as: account)
                #expect(list.status == .ok, "\(account): \(list.text)")
                #expect(
                    ids(list).count == visible(to: account).count && Set(ids(list)) == Set(visible(to: account).map { wire($0) }),
                    "\(account) lists \(list.items.compactMap { $0["firstName"] as? String })")
                #expect(list.json["nextCursor"] is NSNull)
            }
            let foreign = try await world.call(.get, "/api/v1/patients", as: .admin, in: other)
            #expect(Set(ids(foreign)) == Set([other.john, other.jane, other.bob].map { wire($0) }))

            // Filters narrow within the caller's scope, never widen it.
            let bySmith = try await world.call(.get, "/api/v1/patients?assignedTherapistId=\(wire(demo.smith))", as: .admin)
            #expect(Set(ids(bySmith)) == Set([demo.john, demo.jane].map { wire($0) }))
            let johnsonAsksForSmiths = try await world.call(.get, "/api/v1/patients?assignedTherapistId=\(wire(demo.smith))", as: .johnson)
            #expect(johnsonAsksForSmiths.status == .ok)
            #expect(johnsonAsksForSmiths.items.isEmpty)
            let discharged = try await world.call(.get, "/api/v1/patients?status=discharged", as: .admin)
            #expect(discharged.items.isEmpty)

            // Paging.
            let first = try await world.call(.get, "/api/v1/patients?limit=2", as: .admin)
            #expect(first.items.count == 2)
            let cursor = try #require(first.json["nextCursor"] as? String)
            let last = try await world.call(.get, "/api/v1/patients?limit=2&cursor=\(escaped(cursor))", as: .admin)
            #expect(last.items.count == 1)
            #expect(last.json["nextCursor"] is NSNull)
            #expect(Set(ids(first) + ids(last)).count == 3)
        }
    }

    @Test(arguments: TestBackend.all)
    func everyRoleGetsOnlyThePatientsItMaySee(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            for account in Account.allCases {
                for patient in [demo.john, demo.jane, demo.bob] {
                    let reply = try await world.call(.get, patientPath(patient), as: account)
                    let expected: HTTPResponse.Status = visible(to: account).contains(patient) ? .ok : .notFound
                    #expect(reply.status == expected, "\(account) GET patient \(patient): expected \(expected.code), got \(reply.status.code)")
                    if reply.status == .ok { #expect(reply.json["id"] as? String == wire(patient)) }
                }
            }
            // The two cases named in the rules, spelled out.
            #expect(try await world.call(.get, patientPath(demo.john), as: .johnson).status == .notFound)
            #expect(try await world.call(.get, patientPath(demo.john), as: .jane).status == .notFound)

            let john = try await world.call(.get, patientPath(demo.john), as: .smith)
            #expect(john.json["firstName"] as? String == "John")
            #expect(john.json["dateOfBirth"] as? String == "1985-04-12")
            #expect(john.json["assignedTherapistId"] as? String == wire(demo.smith))
            #expect(john.json["userId"] as? String == wire(demo.johnUser))
            #expect(john.json["status"] as? String == "active")
            #expect((john.json["address"] as? [String: Any])?["city"] as? String == "Springfield")

            // Another practice, or an unknown id: the same 404.
            let foreign = try await world.call(.get, patientPath(demo.john), as: .admin, in: other)
            let unknown = try await world.call(.get, patientPath(UUID()), as: .admin)
            #expect(foreign.status == .notFound && unknown.status == .notFound)
            #expect(foreign.json["detail"] as? String == unknown.json["detail"] as? String)
        }
    }

    @Test(arguments: TestBackend.all)
    func malformedRequestsAre400AndStrangersAre401(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let token = try await world.token(.admin)
            for path in ["/api/v1/patients/not-a-uuid", "/api/v1/patients/1234"] {
                let reply = try await world.call(.get, path, token: token)
                #expect(reply.status == .badRequest)
                #expect(reply.problemFields == ["id"])
            }
            for (query, field) in [
                ("limit=0", "limit"), ("limit=101", "limit"), ("cursor=zzz", "cursor"), ("status=archived", "status"),
                ("assignedTherapistId=nope", "assignedTherapistId"),
            ] {
                let reply = try await world.call(.get, "/api/v1/patients?" + query, token: token)
                #expect(reply.status == .badRequest, "?\(query): \(reply.text)")
                #expect(reply.problemFields.contains(field), "?\(query) should name \(field): \(reply.text)")
            }
            let calls: [(HTTPRequest.Method, String, [String: Any]?)] = [
                (.get, "/api/v1/patients", nil), (.post, "/api/v1/patients", newPatient()), (.get, patientPath(demo.john), nil),
                (.patch, patientPath(demo.john), ["phone": "+1-555-0199"]), (.delete, patientPath(demo.john), ["reason": "x"]),
            ]
            for (method, path, body) in calls {
                let reply = try await world.call(method, path, json: body)
                #expect(reply.status == .unauthorized, "anonymous \(method) \(path): \(reply.status.code)")
            }
            let garbage = try await world.call(.get, "/api/v1/patients", token: "not.a.token")
            #expect(garbage.status == .unauthorized)
        }
    }

    // MARK: Create

    @Test(arguments: TestBackend.all)
    func adminRegistersPatientWithPortalAccess(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let created = try await world.call(
                .post, "/api/v1/patients", as: .admin,
                json: newPatient([
                    "email": "Casey.Morgan@demo.test", "phone": "+1-212-555-0148", "portalAccess": true,
                    "address": ["line1": "221 Maple Avenue", "city": "Brooklyn", "state": "NY", "postalCode": "11201"],
                    "emergencyContact": ["name": "Taylor Morgan", "phone": "+1-212-555-0199", "relationship": "Spouse"],
                ]))
            try #require(created.status == .created, "\(created.text)")
            let invitation = try #require(created.json["invitationToken"] as? String)
            #expect(!invitation.isEmpty)
            #expect(created.json["invitationExpiresAt"] is String)
            let patient = try #require(created.json["patient"] as? [String: Any])
            let id = try #require(patient["id"] as? String)
            let userID = try #require(patient["userId"] as? String, "portal access sets userId")
            #expect(UUID(uuidString: userID) != nil)
            #expect(patient["status"] as? String == "active")
            #expect(patient["tenantId"] as? String == wire(demo.tenantID))
            #expect(patient["assignedTherapistId"] as? String == wire(demo.smith))
            #expect(patient["email"] as? String == "casey.morgan@demo.test")
            #expect((patient["emergencyContact"] as? [String: Any])?["relationship"] as? String == "Spouse")

            let portalUser = try await world.call(.get, "/api/v1/users/\(userID)", as: .admin)
            #expect(portalUser.json["role"] as? String == "client")
            #expect(portalUser.json["active"] as? Bool == true, "contract: the portal account exists at once but cannot sign in before accepting")

            // Smith (assigned) sees the new patient, Johnson does not.
            #expect(try await world.call(.get, "/api/v1/patients/\(id)", as: .smith).status == .ok)
            #expect(try await world.call(.get, "/api/v1/patients/\(id)", as: .johnson).status == .notFound)
            #expect(try await world.call(.get, "/api/v1/patients", as: .smith).items.count == 3)

            // The portal invitation makes a client account that knows its patient record.
            let accepted = try await world.call(.post, "/api/v1/auth/accept-invite", json: ["token": invitation, "password": "casey-portal-password"])
            #expect(accepted.status == .ok, "\(accepted.text)")
            #expect(accepted.json["role"] as? String == "client")
            #expect(accepted.json["id"] as? String == userID)
            #expect(accepted.json["patientId"] as? String == id)
            #expect(try await world.call(.get, "/api/v1/users/\(userID)", as: .admin).json["active"] as? Bool == true)

            // Without portal access: no invitation, no portal user.
            let plain = try await world.call(.post, "/api/v1/patients", as: .admin, json: newPatient(["firstName": "Riley"]))
            #expect(plain.status == .created)
            #expect(plain.json["invitationToken"] == nil || plain.json["invitationToken"] is NSNull)
            let plainPatient = plain.json["patient"] as? [String: Any]
            #expect(plainPatient?["userId"] == nil || plainPatient?["userId"] is NSNull)
            #expect(try await world.call(.get, "/api/v1/patients", as: .admin).items.count == 5)
        }
    }

    @Test(arguments: TestBackend.all)
    func createValidationNamesEveryBadField(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let token = try await world.token(.admin)
            func create(_ body: [String: Any]) async throws -> TestWorld.Reply {
                try await world.call(.post, "/api/v1/patients", token: token, json: body)
            }
            let cases: [([String: Any], String)] = [
                (newPatient(["portalAccess": true]), "email"),
                (newPatient(["dateOfBirth": "1990-13-45"]), "dateOfBirth"),
                (newPatient(["dateOfBirth": "12/04/1990"]), "dateOfBirth"),
                (newPatient(["dateOfBirth": "2999-01-01"]), "dateOfBirth"),
                (newPatient(["assignedTherapistId": wire(UUID())]), "assignedTherapistId"),
                (newPatient(["assignedTherapistId": wire(other.smith)]), "assignedTherapistId"),
                (newPatient(["assignedTherapistId": wire(demo.admin)]), "assignedTherapistId"),
                (newPatient(["email": "casey@"]), "email"),
                (newPatient(["phone": "call me"]), "phone"),
            ]
            for (body, field) in cases {
                let reply = try await create(body)
                #expect(reply.status == .unprocessableContent, "\(field): \(reply.status.code) \(reply.text)")
                #expect(reply.problemFields == [field], "\(body)")
            }

            let many = try await create(
                newPatient([
                    "firstName": " ", "dateOfBirth": "yesterday", "email": "bad", "phone": "1", "assignedTherapistId": wire(UUID()),
                    "emergencyContact": ["name": "", "phone": "12"],
                ]))
            #expect(many.status == .unprocessableContent)
            #expect(
                Set(many.problemFields) == [
                    "firstName", "dateOfBirth", "email", "phone", "assignedTherapistId",
                    "emergencyContact.name", "emergencyContact.phone",
                ], "\(many.problemFields)")

            let unknown = try await create(newPatient(["tenantId": wire(other.tenantID)]))
            #expect(unknown.status == .badRequest)
            #expect(unknown.problemFields == ["tenantId"])
            let status = try await create(newPatient(["status": "discharged"]))
            #expect(status.status == .badRequest)
            #expect(status.problemFields == ["status"])
            let wrongType = try await create(newPatient(["portalAccess": "yes"]))
            #expect(wrongType.status == .badRequest)
            #expect(wrongType.problemFields == ["portalAccess"])
            let missing = try await create(newPatient(removing: "lastName"))
            #expect(missing.status == .badRequest)
            #expect(missing.problemFields == ["lastName"])
            let nestedUnknown = try await create(newPatient(["address": ["line1": "1 Main", "city": "X", "state": "NY", "postalCode": "1", "country": "US"]]))
            #expect(nestedUnknown.status == .badRequest)
            #expect(nestedUnknown.problemFields == ["address.country"])
            let broken = try await world.call(.post, "/api/v1/patients", token: token, raw: "{\"firstName\": \"Casey\",")
            #expect(broken.status == .badRequest)

            #expect(try await world.call(.get, "/api/v1/patients", token: token).items.count == 3, "nothing was created")
        }
    }

    @Test(arguments: TestBackend.all)
    func therapistsAndClientsCannotRegisterPatients(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            for account in [Account.smith, .johnson, .john, .jane, .bob] {
                let reply = try await world.call(
                    .post, "/api/v1/patients", as: account,
                    json: newPatient(["assignedTherapistId": wire(account == .johnson ? demo.johnson : demo.smith)]))
                #expect(reply.status == .notFound, "\(account) POST /patients: expected 404, got \(reply.status.code) \(reply.text)")
            }
            #expect(try await world.call(.get, "/api/v1/patients", as: .admin).items.count == 3)
        }
    }

    // MARK: Update

    @Test(arguments: TestBackend.all)
    func adminUpdatesAndReassignsPatient(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let path = patientPath(demo.john)
            let updated = try await world.call(.patch, path, as: .admin, json: ["phone": "+1-212-555-0177", "assignedTherapistId": wire(demo.johnson)])
            #expect(updated.status == .ok, "\(updated.text)")
            #expect(updated.json["phone"] as? String == "+1-212-555-0177")
            #expect(updated.json["assignedTherapistId"] as? String == wire(demo.johnson))
            #expect(updated.json["firstName"] as? String == "John", "fields left out are unchanged")

            // The reassignment moves visibility with it.
            #expect(try await world.call(.get, path, as: .johnson).status == .ok)
            #expect(try await world.call(.get, path, as: .smith).status == .notFound)
            #expect(try await world.call(.get, "/api/v1/providers", as: .john).items.compactMap { $0["id"] as? String } == [wire(demo.johnson)])

            let invalid = try await world.call(.patch, path, as: .admin, json: ["dateOfBirth": "1985-02-30", "lastName": "", "assignedTherapistId": "x"])
            #expect(invalid.status == .unprocessableContent)
            #expect(Set(invalid.problemFields) == ["dateOfBirth", "lastName", "assignedTherapistId"])
            let status = try await world.call(.patch, path, as: .admin, json: ["status": "discharged"])
            #expect(status.status == .badRequest)
            #expect(status.problemFields == ["status"])
            let tenant = try await world.call(.patch, path, as: .admin, json: ["tenantId": wire(other.tenantID)])
            #expect(tenant.status == .badRequest)
            #expect(tenant.problemFields == ["tenantId"])
            let after = try await world.call(.get, path, as: .admin)
            #expect(after.json["status"] as? String == "active")
            #expect(after.json["lastName"] as? String == "Doe")
        }
    }

    @Test(arguments: TestBackend.all)
    func therapistsAndClientsCannotUpdatePatients(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let attempts: [(Account, UUID)] = [
                (.smith, demo.john), (.smith, demo.bob), (.johnson, demo.bob), (.johnson, demo.john),
                (.john, demo.john), (.john, demo.jane), (.bob, demo.bob),
            ]
            for (account, patient) in attempts {
                let reply = try await world.call(.patch, patientPath(patient), as: account, json: ["phone": "+1-555-9999"])
                #expect(reply.status == .notFound, "\(account) PATCH patient \(patient): expected 404, got \(reply.status.code) \(reply.text)")
            }
            let foreign = try await world.call(.patch, patientPath(demo.john), as: .admin, in: other, json: ["phone": "+1-555-9999"])
            #expect(foreign.status == .notFound)
            for patient in [demo.john, demo.jane, demo.bob] {
                #expect(try await world.call(.get, patientPath(patient), as: .admin).json["phone"] as? String != "+1-555-9999")
            }
        }
    }

    // MARK: Discharge

    @Test(arguments: TestBackend.all)
    func dischargeRequiresAReasonAndNeverDeletes(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let path = patientPath(demo.john)
            let token = try await world.token(.admin)

            let noBody = try await world.call(.delete, path, token: token)
            #expect(noBody.status == .badRequest || noBody.status == .unprocessableContent, "no body: \(noBody.status.code) \(noBody.text)")
            #expect(noBody.problemFields.contains("reason") || noBody.problemFields.contains("body"), "no body: \(noBody.text)")
            let bodies: [[String: Any]] = [[:], ["reason": NSNull()]]
            for body in bodies {
                let reply = try await world.call(.delete, path, token: token, json: body)
                #expect(reply.status == .badRequest || reply.status == .unprocessableContent, "\(body): \(reply.status.code)")
                #expect(reply.problemFields == ["reason"], "\(body): \(reply.text)")
            }
            let blank = try await world.call(.delete, path, token: token, json: ["reason": "   "])
            #expect(blank.status == .unprocessableContent)
            #expect(blank.problemFields == ["reason"])
            let extra = try await world.call(.delete, path, token: token, json: ["reason": "done", "status": "active"])
            #expect(extra.status == .badRequest)
            #expect(extra.problemFields == ["status"])
            #expect(try await world.call(.get, path, token: token).json["status"] as? String == "active")

            let discharged = try await world.call(.delete, path, token: token, json: ["reason": "Treatment goals met."])
            #expect(discharged.status == .ok, "\(discharged.text)")
            #expect(discharged.json["status"] as? String == "discharged")
            #expect(discharged.json["dischargeReason"] as? String == "Treatment goals met.")
            #expect(discharged.json["dischargedAt"] is String)

            // Still there, for everyone who could see it before.
            for account in [Account.admin, .smith, .john] {
                let reply = try await world.call(.get, path, as: account)
                #expect(reply.status == .ok, "\(account) GET discharged patient")
                #expect(reply.json["status"] as? String == "discharged")
            }
            let listed = try await world.call(.get, "/api/v1/patients?status=discharged", token: token)
            #expect(ids(listed) == [wire(demo.john)])
            #expect(try await world.call(.get, "/api/v1/patients", token: token).items.count == 3)

            // Discharging again changes nothing.
            let stored = try await world.call(.get, path, token: token)
            let again = try await world.call(.delete, path, token: token, json: ["reason": "Another reason"])
            #expect(again.status == .ok)
            #expect(again.json["dischargedAt"] as? String == stored.json["dischargedAt"] as? String)
            #expect(again.json["updatedAt"] as? String == stored.json["updatedAt"] as? String)
            #expect(again.json["dischargeReason"] as? String == "Treatment goals met.")
        }
    }

    @Test(arguments: TestBackend.all)
    func therapistsAndClientsCannotDischarge(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let attempts: [(Account, UUID)] = [(.smith, demo.john), (.smith, demo.bob), (.johnson, demo.bob), (.john, demo.john), (.jane, demo.john)]
            for (account, patient) in attempts {
                let reply = try await world.call(.delete, patientPath(patient), as: account, json: ["reason": "Because."])
                #expect(reply.status == .notFound, "\(account) DELETE patient \(patient): expected 404, got \(reply.status.code) \(reply.text)")
            }
            let foreign = try await world.call(.delete, patientPath(demo.john), as: .admin, in: other, json: ["reason": "Because."])
            #expect(foreign.status == .notFound)
            let all = try await world.call(.get, "/api/v1/patients", as: .admin)
            #expect(all.items.allSatisfy { $0["status"] as? String == "active" })
        }
    }

    /// A write's answer shows the record as stored: the same timestamps a later GET shows.
    @Test(arguments: TestBackend.all)
    func writeAnswersShowTheStoredTimestamps(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let token = try await world.token(.admin)
            var mismatches: [String] = []
            func compare(_ answer: [String: Any], _ stored: [String: Any], _ keys: [String], _ what: String) {
                for key in keys where answer[key] as? String != stored[key] as? String {
                    mismatches.append("\(what) \(key): answered \(answer[key] ?? "nil"), stored \(stored[key] ?? "nil")")
                }
            }
            for index in 1...4 {
                let created = try await world.call(.post, "/api/v1/patients", token: token, json: newPatient(["firstName": "Casey \(index)"]))
                let patient = try #require(created.json["patient"] as? [String: Any])
                let path = "/api/v1/patients/" + (try #require(patient["id"] as? String))
                compare(patient, try await world.call(.get, path, token: token).json, ["createdAt", "updatedAt"], "POST")
                let updated = try await world.call(.patch, path, token: token, json: ["phone": "+1-555-010\(index)"])
                compare(updated.json, try await world.call(.get, path, token: token).json, ["createdAt", "updatedAt"], "PATCH")
                let discharged = try await world.call(.delete, path, token: token, json: ["reason": "Moved away."])
                compare(discharged.json, try await world.call(.get, path, token: token).json, ["dischargedAt", "updatedAt"], "DELETE")
            }
            #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
        }
    }

    // MARK: Helpers

    private func newPatient(_ overrides: [String: Any] = [:], removing: String? = nil) -> [String: Any] {
        var body: [String: Any] = [
            "firstName": "Casey", "lastName": "Morgan", "dateOfBirth": "1990-04-12", "assignedTherapistId": wire(demo.smith),
        ]
        body.merge(overrides) { _, new in new }
        if let removing { body[removing] = nil }
        return body
    }

    private func ids(_ reply: TestWorld.Reply) -> [String] { reply.items.compactMap { $0["id"] as? String } }
    private func patientPath(_ id: UUID) -> String { "/api/v1/patients/" + wire(id) }
    private func wire(_ id: UUID) -> String { id.uuidString.lowercased() }
    private func escaped(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~"))) ?? text
    }
}
