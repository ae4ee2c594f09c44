import Foundation
import HTTPTypes
import NIOCore
import Testing

/// Malformed input on the appointment and note endpoints: bad JSON, wrong types, unknown enum values
/// and fields, missing fields, oversized bodies, bad path ids and query parameters, missing
/// credentials. Every refusal is a 4xx problem naming the field; nothing is ever a 500.
/// Every test runs on SQLite and PostgreSQL.
@Suite(.serialized) struct BadInputTests {
    typealias Reply = TestWorld.Reply
    let demo = TestWorld.demo
    let appointments = "/api/v1/appointments"
    let notes = "/api/v1/notes"

    // MARK: Bodies

    @Test(arguments: TestBackend.all)
    func malformedJSONIs400(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let draft = try await draftNote(world)
            let targets = bodyTargets(draft: draft)
            let token = try await world.token(.smith)
            for (method, path) in targets {
                for raw in ["{\"patientId\": ", "{not json}", "[]", "[{\"reason\": \"x\"}]", "\"a string\"", "42", "null", "{'reason': 'x'}"] {
                    let reply = try await world.call(method, path, token: token, raw: raw)
                    expectProblem(reply, 400, "\(method) \(path) with body \(raw)")
                }
            }
            // Nothing changed.
            #expect(try await world.call(.get, "\(notes)/\(draft)", as: .smith).json["status"] as? String == "draft")
            #expect(try await world.call(.get, "\(appointments)/\(demo.johnAppointment.idText)", as: .smith).json["status"] as? String == "scheduled")
        }
    }

    /// RFC 8259 allows neither trailing commas nor anything after the value: both are malformed JSON.
    /// (Kept apart from `malformedJSONIs400` because a lax parser would let these through and change the records.)
    @Test(arguments: TestBackend.all)
    func laxJSONIs400(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let token = try await world.token(.smith)
            for raw in ["{\"reason\": \"x\",}", "{\"reason\": \"x\"} {}"] {
                let draft = try await draftNote(world)
                for (method, path) in bodyTargets(draft: draft) {
                    expectProblem(try await world.call(method, path, token: token, raw: raw), 400, "\(method) \(path) with body \(raw)")
                }
            }
        }
    }

    /// Problem details name the request path in `instance` (contract: "The request path this problem occurred on").
    @Test(arguments: TestBackend.all)
    func problemInstanceIsTheRequestPath(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let missing = "\(appointments)/\(UUID().idText)"
            let reply = try await world.call(.get, missing, as: .admin)
            expectProblem(reply, 404, "unknown appointment")
            #expect(reply.json["instance"] as? String == missing, "instance: \(reply.json["instance"] ?? "none")")
            let bad = try await world.call(.get, "\(notes)?limit=0", as: .admin)
            expectProblem(bad, 400, field: "limit", "limit 0")
            #expect(bad.json["instance"] as? String == notes, "instance: \(bad.json["instance"] ?? "none")")
        }
    }

    @Test(arguments: TestBackend.all)
    func wrongTypesAre400NamingTheField(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let draft = try await draftNote(world)
            let appt = "\(appointments)/\(demo.johnAppointment.idText)"
            let cases: [(HTTPRequest.Method, String, [String: Any], String)] = [
                (.post, appointments, appointmentBody(["startsAt": 5]), "startsAt"),
                (.post, appointments, appointmentBody(["endsAt": true]), "endsAt"),
                (.post, appointments, appointmentBody(["patientId": 12345]), "patientId"),
                (.post, appointments, appointmentBody(["reason": ["x"]]), "reason"),
                (.post, appointments, appointmentBody(["timeZone": ["zone": "UTC"]]), "timeZone"),
                (.post, appointments, appointmentBody(["startsAt": "yesterday"]), "startsAt"),
                (.post, appointments, appointmentBody(["startsAt": "2027-02-30T09:00:00Z", "endsAt": "2027-02-30T09:50:00Z"]), "startsAt"),
                (.post, appointments, appointmentBody(["startsAt": NSNull()]), "startsAt"),
                (.patch, appt, ["startsAt": 5], "startsAt"),
                (.patch, appt, ["status": 1], "status"),
                (.patch, appt, ["reason": false], "reason"),
                (.delete, appt, ["reason": 7], "reason"),
                (.post, notes, ["patientId": demo.john.idText, "type": "soap", "sections": "all of it"], "sections"),
                (.post, notes, ["patientId": demo.john.idText, "type": 3, "sections": ["plan": "x"]], "type"),
                (.patch, "\(notes)/\(draft)", ["type": 3], "type"),
                (.patch, "\(notes)/\(draft)", ["sections": ["plan": ["nested"]]], "sections.plan"),
                (.delete, "\(notes)/\(draft)", ["reason": 1], "reason"),
            ]
            for (method, path, body, field) in cases {
                let reply = try await world.call(method, path, as: .smith, json: body)
                expectProblem(reply, 400, field: field, "\(method) \(path) \(body)")
            }
            // A number as a section value: 400 naming the section.
            let numeric = try await world.call(.post, notes, as: .smith, json: ["patientId": demo.john.idText, "type": "soap", "sections": ["subjective": 5]])
            expectProblem(numeric, 400, "numeric section")
            #expect(numeric.problemFields.contains { $0.hasPrefix("sections") })
        }
    }

    @Test(arguments: TestBackend.all)
    func unknownEnumValuesAre400NamingTheField(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let draft = try await draftNote(world)
            let appt = "\(appointments)/\(demo.johnAppointment.idText)"
            expectProblem(try await world.call(.post, appointments, as: .admin, json: appointmentBody(["kind": "zoom"])), 400, field: "kind", "kind zoom")
            expectProblem(try await world.call(.post, appointments, as: .admin, json: appointmentBody(["kind": "TELEVISIT"])), 400, field: "kind", "kind case")
            expectProblem(try await world.call(.patch, appt, as: .smith, json: ["kind": "zoom"]), 400, field: "kind", "PATCH kind zoom")
            expectProblem(try await world.call(.patch, appt, as: .smith, json: ["status": "done"]), 400, field: "status", "PATCH status done")
            expectProblem(
                try await world.call(.post, notes, as: .smith, json: ["patientId": demo.john.idText, "type": "essay", "sections": ["narrative": "x"]]),
                400, field: "type", "note type essay")
            expectProblem(try await world.call(.patch, "\(notes)/\(draft)", as: .smith, json: ["type": "essay"]), 400, field: "type", "PATCH note type")
            #expect(try await world.call(.get, appt, as: .smith).json["kind"] as? String == "televisit")
        }
    }

    @Test(arguments: TestBackend.all)
    func unknownFieldsAre400NamingTheField(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let draft = try await draftNote(world)
            let appt = "\(appointments)/\(demo.johnAppointment.idText)"
            let note = ["patientId": demo.john.idText, "type": "soap", "sections": ["plan": "x"]] as [String: Any]
            let cases: [(TestWorld.Account, HTTPRequest.Method, String, [String: Any], String)] = [
                (.smith, .post, notes, note.merging(["status": "signed"]) { $1 }, "status"),
                (.smith, .post, notes, note.merging(["authorId": demo.johnson.idText]) { $1 }, "authorId"),
                (.smith, .post, notes, note.merging(["contentHash": String(repeating: "0", count: 64)]) { $1 }, "contentHash"),
                (.smith, .post, notes, note.merging(["tenantId": TestWorld.other.tenantID.idText]) { $1 }, "tenantId"),
                (.admin, .post, appointments, appointmentBody(["tenantId": TestWorld.other.tenantID.idText]), "tenantId"),
                (.admin, .post, appointments, appointmentBody(["status": "completed"]), "status"),
                (.admin, .post, appointments, appointmentBody(["id": UUID().idText]), "id"),
                (.smith, .patch, appt, ["therapistId": demo.johnson.idText], "therapistId"),
                (.smith, .patch, appt, ["patientId": demo.jane.idText], "patientId"),
                (.smith, .patch, appt, ["tenantId": TestWorld.other.tenantID.idText], "tenantId"),
                (.smith, .delete, appt, ["reason": "x", "status": "no_show"], "status"),
                (.smith, .patch, "\(notes)/\(draft)", ["status": "signed"], "status"),
                (.smith, .patch, "\(notes)/\(draft)", ["patientId": demo.jane.idText], "patientId"),
                (.smith, .patch, "\(notes)/\(draft)", ["signedBy": demo.smith.idText, "sections": ["plan": "y"]], "signedBy"),
                (.smith, .delete, "\(notes)/\(draft)", ["reason": "x", "status": "signed"], "status"),
                (.smith, .post, "\(notes)/\(demo.johnSignedNote.idText)/addenda", ["text": "x", "authorId": demo.johnson.idText], "authorId"),
            ]
            for (account, method, path, body, field) in cases {
                expectProblem(try await world.call(method, path, as: account, json: body), 400, field: field, "\(method) \(path) with \(field)")
            }
            // None of them took effect.
            let draftNow = try await world.call(.get, "\(notes)/\(draft)", as: .smith)
            #expect(draftNow.json["status"] as? String == "draft")
            #expect(draftNow.json["patientId"] as? String == demo.john.idText)
            let apptNow = try await world.call(.get, appt, as: .admin)
            #expect(apptNow.json["status"] as? String == "scheduled")
            #expect(apptNow.json["therapistId"] as? String == demo.smith.idText)
            #expect((try await world.call(.get, "\(notes)/\(demo.johnSignedNote.idText)", as: .smith).json["addenda"] as? [Any])?.isEmpty == true)
            #expect(try await world.call(.get, notes, as: .admin).items.count == 3, "2 seeded + 1 draft")
        }
    }

    @Test(arguments: TestBackend.all)
    func missingRequiredFieldsAreNamed(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            for field in ["patientId", "therapistId", "startsAt", "endsAt", "timeZone", "kind"] {
                var body = appointmentBody([:])
                body[field] = nil
                let reply = try await world.call(.post, appointments, as: .admin, json: body)
                #expect([400, 422].contains(reply.status.code), "missing \(field): \(reply.status.code)")
                expectProblem(reply, reply.status.code, field: field, "missing \(field)")
            }
            let note: [String: Any] = ["patientId": demo.john.idText, "type": "soap", "sections": ["plan": "x"]]
            for field in ["patientId", "type", "sections"] {
                var body = note
                body[field] = nil
                let reply = try await world.call(.post, notes, as: .smith, json: body)
                #expect([400, 422].contains(reply.status.code), "missing \(field): \(reply.status.code)")
                expectProblem(reply, reply.status.code, field: field, "missing note \(field)")
            }
            let addendum = try await world.call(.post, "\(notes)/\(demo.johnSignedNote.idText)/addenda", as: .smith, json: [String: Any]())
            #expect([400, 422].contains(addendum.status.code))
            expectProblem(addendum, addendum.status.code, field: "text", "missing addendum text")
            // An empty object on PATCH changes nothing and is fine.
            #expect(try await world.call(.patch, "\(appointments)/\(demo.johnAppointment.idText)", as: .smith, json: [String: Any]()).status == .ok)
        }
    }

    @Test(arguments: TestBackend.all)
    func bodiesOver1MiBAre413(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let draft = try await draftNote(world)
            let huge = String(repeating: "x", count: 1_572_864)  // 1.5 MiB
            let cases: [(TestWorld.Account, HTTPRequest.Method, String, [String: Any])] = [
                (.smith, .post, notes, ["patientId": demo.john.idText, "type": "soap", "sections": ["subjective": huge]]),
                (.smith, .patch, "\(notes)/\(draft)", ["sections": ["subjective": huge]]),
                (.smith, .delete, "\(notes)/\(draft)", ["reason": huge]),
                (.smith, .post, "\(notes)/\(demo.johnSignedNote.idText)/addenda", ["text": huge]),
                (.admin, .post, appointments, appointmentBody(["reason": huge])),
                (.smith, .patch, "\(appointments)/\(demo.johnAppointment.idText)", ["reason": huge]),
            ]
            for (account, method, path, body) in cases {
                let reply = try await world.call(method, path, as: account, json: body)
                expectProblem(reply, 413, "\(method) \(path) with 1.5 MiB")
            }
            // Also without a token: still refused without reading it (413 or 401, never 2xx/5xx).
            let anonymous = try await world.call(.post, notes, json: ["sections": ["subjective": huge]])
            #expect([401, 413].contains(anonymous.status.code))
            // Just under the limit is read, then refused by validation (section too long), not 413.
            let big = String(repeating: "y", count: 1_000_000)
            expectProblem(
                try await world.call(.post, notes, as: .smith, json: ["patientId": demo.john.idText, "type": "soap", "sections": ["subjective": big]]),
                422, field: "sections.subjective", "1,000,000 characters")
            // Nothing changed.
            let after = try await world.call(.get, "\(notes)/\(draft)", as: .smith)
            #expect(after.json["status"] as? String == "draft")
            #expect(after.json["sections"] as? [String: String] == ["plan": "Draft plan."])
            #expect(try await world.call(.get, notes, as: .admin).items.count == 3)
        }
    }

    // MARK: Path and query

    @Test(arguments: TestBackend.all)
    func malformedPathIDsAre400NamingID(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            // An escaped character anywhere in a path is refused before routing (404), so `%20` is not an id at all.
            expectProblem(try await world.call(.get, "\(appointments)/%20", as: .admin), 404, "escaped path")
            for bad in ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g", "\(demo.johnAppointment.idText)x"] {
                let cases: [(TestWorld.Account, HTTPRequest.Method, String, [String: Any]?)] = [
                    (.admin, .get, "\(appointments)/\(bad)", nil),
                    (.admin, .patch, "\(appointments)/\(bad)", ["reason": "x"]),
                    (.admin, .delete, "\(appointments)/\(bad)", ["reason": "x"]),
                    (.smith, .post, "\(appointments)/\(bad)/startTelevisit", nil),
                    (.smith, .get, "\(notes)/\(bad)", nil),
                    (.smith, .patch, "\(notes)/\(bad)", ["sections": ["plan": "x"]]),
                    (.smith, .delete, "\(notes)/\(bad)", ["reason": "x"]),
                    (.smith, .post, "\(notes)/\(bad)/sign", nil),
                    (.smith, .post, "\(notes)/\(bad)/addenda", ["text": "x"]),
                ]
                for (account, method, path, body) in cases {
                    expectProblem(try await world.call(method, path, as: account, json: body), 400, field: "id", "\(method) \(path)")
                }
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func badQueryParametersAre400NamingTheParameter(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let appointmentCases: [(String, String)] = [
                ("limit=0", "limit"), ("limit=101", "limit"), ("limit=-1", "limit"), ("limit=abc", "limit"), ("limit=1.5", "limit"),
                ("limit=99999999999999999999", "limit"), ("limit=", "limit"),
                ("cursor=%%%", "cursor"), ("cursor=abc", "cursor"), ("cursor=", "cursor"),
                ("cursor=\(String(repeating: "A", count: 300))", "cursor"),
                ("from=yesterday", "from"), ("to=yesterday", "to"), ("from=2030-13-45T00:00:00Z", "from"), ("from=", "from"),
                ("upcoming=maybe", "upcoming"), ("upcoming=", "upcoming"),
                ("status=bogus", "status"), ("status=signed", "status"), ("status=", "status"),
                ("therapistId=xyz", "therapistId"), ("patientId=xyz", "patientId"), ("patientId=", "patientId"),
                ("from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z", "to"),
            ]
            for account in [TestWorld.Account.admin, .smith, .john] {
                for (query, field) in appointmentCases {
                    expectProblem(
                        try await world.call(.get, "\(appointments)?\(query)", as: account), 400, field: field, "\(account) GET appointments?\(query)")
                }
            }
            // Several bad parameters at once are all named.
            let several = try await world.call(.get, "\(appointments)?limit=0&status=bogus&upcoming=maybe", as: .admin)
            expectProblem(several, 400, field: "limit", "several")
            #expect(several.problemFields.contains("status"))
            #expect(several.problemFields.contains("upcoming"))

            let noteCases: [(String, String)] = [
                ("limit=0", "limit"), ("limit=101", "limit"), ("limit=abc", "limit"), ("cursor=%%%", "cursor"), ("cursor=abc", "cursor"),
                ("status=bogus", "status"), ("status=scheduled", "status"), ("type=bogus", "type"), ("patientId=nope", "patientId"),
            ]
            for account in [TestWorld.Account.admin, .smith, .john] {
                for (query, field) in noteCases {
                    expectProblem(try await world.call(.get, "\(notes)?\(query)", as: account), 400, field: field, "\(account) GET notes?\(query)")
                }
            }
            // Boundaries are fine.
            #expect(try await world.call(.get, "\(appointments)?limit=1", as: .admin).status == .ok)
            #expect(try await world.call(.get, "\(appointments)?limit=100", as: .admin).status == .ok)
            #expect(try await world.call(.get, "\(appointments)?upcoming=false&status=scheduled", as: .admin).status == .ok)
            #expect(try await world.call(.get, "\(notes)?limit=100&type=intake&status=voided", as: .admin).status == .ok)
        }
    }

    /// Contract: "A cursor that was tampered with or comes from another list gets 400."
    @Test(arguments: TestBackend.all)
    func foreignOrTamperedCursorsAre400(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let notePage = try await world.call(.get, "\(notes)?limit=1", as: .admin)
            let noteCursor = try #require(notePage.json["nextCursor"] as? String)
            let appointmentPage = try await world.call(.get, "\(appointments)?limit=1", as: .admin)
            let appointmentCursor = try #require(appointmentPage.json["nextCursor"] as? String)

            expectProblem(try await world.call(.get, "\(appointments)?cursor=\(noteCursor)", as: .admin), 400, field: "cursor", "notes cursor on appointments")
            expectProblem(try await world.call(.get, "\(notes)?cursor=\(appointmentCursor)", as: .admin), 400, field: "cursor", "appointments cursor on notes")

            // Tamper: flip one byte of the position inside the (opaque, authenticated) cursor.
            var b64 = appointmentCursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while b64.count % 4 != 0 { b64 += "=" }
            var raw = [UInt8](try #require(Data(base64Encoded: b64)))
            try #require(raw.count > 8)
            raw[8] ^= 0x01
            let tampered = Data(raw).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            expectProblem(try await world.call(.get, "\(appointments)?cursor=\(tampered)", as: .admin), 400, field: "cursor", "tampered cursor")
        }
    }

    // MARK: Authentication

    @Test(arguments: TestBackend.all)
    func missingOrBadCredentialsAre401(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let valid = try await world.token(.admin)
            var forged = Array(valid)
            forged[forged.count - 3] = forged[forged.count - 3] == "A" ? "B" : "A"
            let start = Date().addingTimeInterval(30 * 86_400)
            let body = appointmentBody(["startsAt": iso(start), "endsAt": iso(start.addingTimeInterval(3000))])
            let requests: [(HTTPRequest.Method, String, [String: Any]?)] = [
                (.get, appointments, nil), (.post, appointments, body), (.get, "\(appointments)/\(demo.johnAppointment.idText)", nil),
                (.get, notes, nil), (.get, "\(notes)/\(demo.johnSignedNote.idText)", nil),
            ]
            for (method, path, json) in requests {
                expectProblem(try await world.call(method, path, json: json), 401, "\(method) \(path) without Authorization")
                for header in [
                    "Basic YWRtaW46cGFzcw==", "Bearer", "Bearer ", "Bearer \(String(forged))", "bearer nonsense", "Token \(valid)",
                    "Bearer \(String(repeating: "a", count: 8_000))",
                ] {
                    let reply = try await send(world, method, path, body: json.map { jsonText($0) }, headers: [.authorization: header])
                    expectProblem(reply, 401, "\(method) \(path) with Authorization: \(header.prefix(40))")
                }
            }
            // Nothing was booked.
            let listed = try await world.call(.get, "\(appointments)?from=\(iso(start.addingTimeInterval(-3600)))", as: .admin)
            #expect(listed.items.isEmpty)
        }
    }

    /// An anonymous caller learns nothing about the request schema: authentication comes first.
    @Test(arguments: TestBackend.all)
    func unauthenticatedBadBodiesAre401(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            for raw in ["{not json", "[]", "{\"kind\": \"zoom\"}", "{\"tenantId\": \"x\"}"] {
                expectProblem(try await world.call(.post, appointments, raw: raw), 401, "anonymous POST appointments \(raw)")
                expectProblem(try await world.call(.post, notes, raw: raw), 401, "anonymous POST notes \(raw)")
            }
            expectProblem(try await world.call(.get, "\(appointments)?limit=abc"), 401, "anonymous bad query")
        }
    }

    // MARK: Never a 500

    @Test(arguments: TestBackend.all)
    func noInputEverCausesA500(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let draft = try await draftNote(world)
            let tokens: [String?] = [nil, try await world.token(.admin), try await world.token(.smith)]
            let appt = "\(appointments)/\(demo.johnAppointment.idText)"
            let paths = [
                appointments, appt, "\(appt)/startTelevisit", "\(appointments)/not-a-uuid", notes, "\(notes)/\(draft)",
                "\(notes)/\(draft)/sign", "\(notes)/\(draft)/addenda", "\(notes)/\(demo.johnSignedNote.idText)/addenda", "\(notes)/%00",
                "\(appointments)?limit=abc&cursor=%%%", "\(notes)?type=&status=", "\(appointments)?from=9999-12-31T23:59:59Z",
                "\(appointments)?from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59Z",
            ]
            let nul = "a\u{0000}b"
            let bodies: [String?] = [
                nil, "", "{", "[]", "null", "{}", "{\"\": 1}", "\u{FEFF}{}", String(repeating: "[", count: 2_000),
                "{\"startsAt\": 1e400}", "{\"limit\": 18446744073709551616}",
                jsonText(appointmentBody(["reason": nul])),
                jsonText(appointmentBody(["timeZone": nul])),
                jsonText(appointmentBody(["timeZone": String(repeating: "Z", count: 10_000)])),
                jsonText(appointmentBody(["startsAt": "9999-12-31T20:00:00Z", "endsAt": "9999-12-31T21:00:00Z"])),
                jsonText(appointmentBody(["startsAt": "0001-01-01T10:00:00Z", "endsAt": "0001-01-01T11:00:00Z"])),
                jsonText(appointmentBody(["startsAt": "2030-01-01T10:00:00+14:00", "endsAt": "2030-01-01T10:30:00-12:00"])),
                jsonText(["patientId": demo.john.idText, "type": "soap", "sections": ["plan": nul]]),
                jsonText(["patientId": demo.john.idText, "type": "soap", "sections": [nul: "x"]]),
                jsonText(["patientId": demo.john.idText, "type": "soap", "sections": ["plan": "😀 \u{202E} ﷽"]]),
                jsonText(["sections": ["plan": nul]]),
                jsonText(["reason": nul]),
                jsonText(["text": nul]),
                jsonText(["status": "in_progress"]),
                jsonText(["startsAt": "2030-01-01T10:00:00Z"]),
            ]
            var statuses: [(String, Int)] = []
            for path in paths {
                for method in [HTTPRequest.Method.get, .post, .patch, .delete] {
                    for token in tokens {
                        for body in (method == .get ? [nil] : bodies) {
                            var headers: HTTPFields = [:]
                            if let token { headers[.authorization] = "Bearer \(token)" }
                            let reply = try await send(world, method, path, body: body, headers: headers)
                            statuses.append(("\(method) \(path) \(token == nil ? "anon" : "auth") \(body?.prefix(400) ?? "-")", reply.status.code))
                            if reply.status.code >= 400 {
                                #expect(
                                    reply.headers[.contentType]?.hasPrefix("application/problem+json") == true,
                                    "\(method) \(path): \(reply.status.code) without problem+json")
                            }
                        }
                    }
                }
            }
            // Odd content types and no content type.
            for contentType in ["text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data; boundary=x", ""] {
                for (method, path) in [(HTTPRequest.Method.post, appointments), (.post, notes), (.patch, appt), (.delete, "\(notes)/\(draft)")] {
                    var headers: HTTPFields = [.authorization: "Bearer \(tokens[2]!)"]
                    if !contentType.isEmpty { headers[.contentType] = contentType }
                    let reply = try await send(world, method, path, body: jsonText(["reason": "x"]), headers: headers, contentType: nil)
                    statuses.append(("\(method) \(path) content-type \(contentType)", reply.status.code))
                    #expect(reply.status.code < 500)
                }
            }
            // Invalid UTF-8.
            var bytes = ByteBuffer(string: "{\"patientId\": \"")
            bytes.writeBytes([0xFF, 0xFE, 0xC3])
            bytes.writeString("\"}")
            let invalid = try await world.client.executeRequest(
                uri: appointments, method: .post, headers: [.authorization: "Bearer \(tokens[1]!)", .contentType: "application/json"], body: bytes)
            statuses.append(("invalid utf-8", invalid.status.code))

            let failures = statuses.filter { $0.1 >= 500 }
            #expect(failures.isEmpty, "\(failures.count) 5xx answers:\n\(failures.map { "\($0.0) -> \($0.1)" }.joined(separator: "\n"))")
            #expect(statuses.count > 1_000)
        }
    }

    @Test(arguments: TestBackend.all)
    func nulCharactersInTextAreNeverA500(_ backend: TestBackend) async throws {
        try await inWorld(backend) { world in
            let nul = "before\u{0000}after"
            let start = Date().addingTimeInterval(45 * 86_400)
            let booking = try await world.call(
                .post, appointments, as: .admin,
                json: appointmentBody(["startsAt": iso(start), "endsAt": iso(start.addingTimeInterval(3000)), "reason": nul]))
            #expect(booking.status.code < 500, "POST appointment with NUL in reason: \(booking.status.code) \(booking.text)")
            let note = try await world.call(.post, notes, as: .smith, json: ["patientId": demo.john.idText, "type": "soap", "sections": ["plan": nul]])
            #expect(note.status.code < 500, "POST note with NUL in a section: \(note.status.code) \(note.text)")
            let addendum = try await world.call(.post, "\(notes)/\(demo.johnSignedNote.idText)/addenda", as: .smith, json: ["text": nul])
            #expect(addendum.status.code < 500, "POST addendum with NUL: \(addendum.status.code) \(addendum.text)")
            let cancel = try await world.call(.delete, "\(appointments)/\(demo.johnAppointment.idText)", as: .smith, json: ["reason": nul])
            #expect(cancel.status.code < 500, "cancel with NUL reason: \(cancel.status.code) \(cancel.text)")
        }
    }

    // MARK: Helpers

    /// `withWorld`, but an error thrown by the test body is recorded as an issue instead of escaping:
    /// `withWorld` only shuts its database down when the body returns normally, and an unclosed pool
    /// aborts the whole test process.
    private func inWorld(_ backend: TestBackend, _ body: @Sendable (TestWorld) async throws -> Void) async throws {
        try await withWorld(backend) { world in
            do { try await body(world) } catch { Issue.record(error, "the test body threw") }
        }
    }

    /// Every operation with a JSON request body, for Dr. Smith.
    private func bodyTargets(draft: String) -> [(HTTPRequest.Method, String)] {
        [
            (.post, appointments), (.patch, "\(appointments)/\(demo.johnAppointment.idText)"), (.delete, "\(appointments)/\(demo.johnAppointment.idText)"),
            (.post, notes), (.patch, "\(notes)/\(draft)"), (.delete, "\(notes)/\(draft)"), (.post, "\(notes)/\(demo.johnSignedNote.idText)/addenda"),
        ]
    }

    /// Dr. Smith's fresh draft about John.
    private func draftNote(_ world: TestWorld, sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let reply = try await world.call(.post, notes, as: .smith, json: ["patientId": demo.john.idText, "type": "soap", "sections": ["plan": "Draft plan."]])
        #expect(reply.status == .created, "\(reply.text)", sourceLocation: sourceLocation)
        return try #require(reply.json["id"] as? String, sourceLocation: sourceLocation)
    }

    /// A valid booking of Dr. Smith with John 60 days ahead, with fields overridden.
    private func appointmentBody(_ overrides: [String: Any]) -> [String: Any] {
        let start = ((Date().timeIntervalSince1970 / 86_400).rounded(.down) + 60) * 86_400 + 9 * 3600
        var body: [String: Any] = [
            "patientId": demo.john.idText, "therapistId": demo.smith.idText, "startsAt": iso(Date(timeIntervalSince1970: start)),
            "endsAt": iso(Date(timeIntervalSince1970: start + 3000)), "timeZone": "America/New_York", "kind": "televisit",
        ]
        for (key, value) in overrides { body[key] = value }
        return body
    }

    private func iso(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    private func jsonText(_ object: [String: Any]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: object)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// A raw request with full control of the headers.
    private func send(
        _ world: TestWorld, _ method: HTTPRequest.Method, _ path: String, body: String?, headers: HTTPFields,
        contentType: String? = "application/json"
    ) async throws -> Reply {
        var headers = headers
        if let body, let contentType, headers[.contentType] == nil { headers[.contentType] = contentType }
        let response = try await world.client.executeRequest(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
        return Reply(status: response.status, headers: response.headers, body: response.body)
    }

}

private extension UUID {
    var idText: String { uuidString.lowercased() }
}
