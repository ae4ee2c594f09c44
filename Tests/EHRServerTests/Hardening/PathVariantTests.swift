import EHRDomain
import Foundation
import HTTPTypes
import Testing

@testable import EHRServer

/// Every operation is classified once, by the route the router matched: another spelling of a path either
/// reaches the same operation (same answer, same audit event) or answers 404 and touches nothing.
@Suite("Path variants", .serialized) struct PathVariantTests {
    /// One call of an operation, with the account and body that make its answer repeatable.
    struct Probe {
        var method: HTTPRequest.Method
        var path: String
        var account: TestWorld.Account?
        var body: [String: any Sendable]?
        /// Bodies carry fresh tokens or times: compare status and problem type only.
        var compareBody: Bool
    }

    static func probe(_ operation: APIOperation, _ world: TestWorld) async throws -> Probe {
        let d = TestWorld.demo
        let id: UUID? =
            switch operation.template.split(separator: "/").dropFirst(2).first {
            case "users", "providers": d.johnson
            case "patients": d.john
            case "appointments": d.johnAppointment
            case "notes": d.johnSignedNote
            case "threads": d.johnThread
            default: nil
            }
        let path = operation.template.replacingOccurrences(of: "{id}", with: id?.wire ?? "")
        switch (operation.method, operation.template) {
        case (.post, "/api/v1/auth/login"):
            return Probe(
                method: .post, path: path, body: ["tenant": "demo", "email": "jane.smith@demo.test", "password": DemoSeed.password], compareBody: false)
        case (.post, "/api/v1/auth/refresh"), (.post, "/api/v1/auth/logout"):
            return Probe(method: .post, path: path, body: ["refreshToken": try await world.refreshToken(.jane)], compareBody: false)
        case (.post, "/api/v1/auth/accept-invite"):
            return Probe(method: .post, path: path, body: ["token": "not-an-invitation", "password": "a long enough passphrase 1"], compareBody: true)
        case (.get, let template):
            let admin = template.hasPrefix("/api/v1/users") || template.hasPrefix("/api/v1/audit") || template.hasSuffix("access-log")
            // The audit log and access logs grow with every request, so their bodies differ call to call.
            return Probe(
                method: .get, path: path, account: admin ? .admin : .smith,
                compareBody: !template.hasPrefix("/api/v1/audit") && !template.hasSuffix("access-log"))
        case (.post, "/api/v1/appointments/{id}/startTelevisit"):
            // John may join his own televisit: each answer carries a new join token.
            return Probe(method: .post, path: path, account: .john, body: [:], compareBody: false)
        case (.post, "/api/v1/threads/{id}/read"):
            // John marks his own thread read: each answer carries the time of the call.
            return Probe(method: .post, path: path, account: .john, body: nil, compareBody: false)
        default:
            // Writes as a client, who may do none of them: the answer is a refusal that changes nothing.
            return Probe(method: operation.method, path: path, account: .john, body: [:], compareBody: true)
        }
    }

    static func variants(of path: String) -> (same: [String], notFound: [String]) {
        let lastSlash = path.lastIndex(of: "/")!
        return (
            same: [path + "/", "/" + path, path.replacingOccurrences(of: "/v1/", with: "/v1//"), path + "//"],
            notFound: [
                path.replacingOccurrences(of: "/api/", with: "/api/./"),
                path.replacingCharacters(in: lastSlash...lastSlash, with: "%2F"),
                path.replacingOccurrences(of: "/api/", with: "/API/"),
                path.replacingOccurrences(of: "/api/", with: "/%61pi/"),
                path.replacingOccurrences(of: "/v1/", with: "/v1/../v1/"),
            ]
        )
    }

    @Test(arguments: TestBackend.all)
    func everyOperationAnswersAsCanonicalOrNotFoundWithOneEvent(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            var tried = 0
            var events = 0
            for operation in APIOperations.all where operation.template.hasPrefix("/api/v1/") {
                func send(_ path: String) async throws -> (TestWorld.Reply, Int) {
                    let probe = try await Self.probe(operation, world)
                    let before = try await world.eventCount()
                    let token = try await probe.account.asyncFlatMap { try await world.token($0) }
                    let reply = try await world.call(probe.method, path, token: token, json: probe.body)
                    return (reply, try await world.eventCount() - before)
                }
                let canonicalPath = try await Self.probe(operation, world).path
                let (canonical, canonicalEvents) = try await send(canonicalPath)
                let label = "\(operation.method) \(canonicalPath)"
                if operation.template != "/api/v1/auth/accept-invite", operation.audit != nil {
                    // An invitation nobody issued names no practice: there is no chain to record it in.
                    #expect(canonicalEvents == 1, "\(label): \(canonicalEvents) events")
                }
                let compareBody = try await Self.probe(operation, world).compareBody
                let (same, notFound) = Self.variants(of: canonicalPath)
                for path in same {
                    let (reply, count) = try await send(path)
                    tried += 1
                    events += count
                    #expect(reply.status == canonical.status, "\(operation.method) \(path): \(reply.status) vs \(canonical.status)")
                    #expect(count == canonicalEvents, "\(operation.method) \(path): \(count) events, canonical \(canonicalEvents)")
                    if compareBody {
                        #expect(Self.comparable(reply) == Self.comparable(canonical), "\(operation.method) \(path): body differs")
                    }
                }
                for path in notFound {
                    let (reply, count) = try await send(path)
                    tried += 1
                    events += count
                    expectProblem(reply, 404, "\(operation.method) \(path)")
                    #expect(count == 0, "\(operation.method) \(path): \(count) events for an unknown path")
                }
            }
            #expect(tried == APIOperations.all.filter { $0.template.hasPrefix("/api/v1/") }.count * 9)
            print("path variants (\(backend.testDescription)): \(tried) variant requests, \(events) audit events")
        }
    }

    /// Undeclared methods on known paths answer 405 naming the declared ones; unknown paths 404; neither is audited.
    @Test(arguments: TestBackend.all)
    func undeclaredMethodsAnswer405WithAllow(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let token = try await world.token(.admin)
            let before = try await world.eventCount()
            for (template, methods) in APIOperations.undeclared {
                let path = template.replacingOccurrences(of: "{id}", with: TestWorld.demo.john.wire)
                let declared = Set(APIOperations.all.filter { $0.template == template }.map(\.method.rawValue))
                for method in methods {
                    let reply = try await world.call(method, path, token: token)
                    #expect(reply.status == .methodNotAllowed, "\(method) \(path): \(reply.status)")
                    let allow = Set((reply.headers[.allow] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                    #expect(allow == declared, "\(method) \(path): Allow \(allow)")
                }
            }
            expectProblem(try await world.call(.get, "/api/v1/nothing-here", token: token), 404)
            expectProblem(try await world.call(.get, "/api/v1/nothing-here"), 404)
            #expect(try await world.eventCount() == before)
        }
    }

    /// Every answer, whatever its kind, carries the cache and sniffing headers; production adds HSTS.
    @Test(arguments: TestBackend.all)
    func everyAnswerCarriesNoStoreAndNosniff(_ backend: TestBackend) async throws {
        let production: @Sendable (inout AppConfiguration) -> Void = { $0.environment = .production }
        try await withWorld(backend, configure: production) { world in
            let token = try await world.token(.smith)
            let replies = [
                try await world.call(.get, "/api/v1/patients", token: token),
                try await world.call(.get, "/api/v1/patients"),
                try await world.call(.get, "/api/v1/patients/\(UUID().wire)", token: token),
                try await world.call(.put, "/api/v1/patients", token: token),
                try await world.call(.get, "/api/v1/unknown"),
                try await world.call(.post, "/api/v1/notes", token: token, json: ["patientId": "x"]),
                try await world.call(.get, "/health"),
                try await world.call(.get, "/openapi.yaml"),
            ]
            #expect(Set(replies.map(\.status.code)).isSuperset(of: [200, 401, 404, 405]))
            for reply in replies {
                #expect(reply.headers[.cacheControl] == "no-store", "\(reply.status)")
                #expect(reply.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff", "\(reply.status)")
                #expect(reply.headers[.strictTransportSecurity]?.hasPrefix("max-age=") == true, "\(reply.status)")
            }
        }
        try await withWorld(backend) { world in
            let reply = try await world.call(.get, "/health")
            #expect(reply.headers[.cacheControl] == "no-store")
            #expect(reply.headers[.strictTransportSecurity] == nil, "HSTS only in production")
        }
    }

    /// A status and body without `instance` (which echoes the path as sent).
    static func comparable(_ reply: TestWorld.Reply) -> String {
        var json = reply.json
        guard !json.isEmpty else { return reply.text }
        json["instance"] = nil
        let data = try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        return data.map { String(decoding: $0, as: UTF8.self) } ?? reply.text
    }
}

/// A parameter the generated code cannot read is named in our words, never with the decoder's own text.
@Suite("Problem text", .serialized) struct ProblemTextTests {
    @Test(arguments: TestBackend.all)
    func badParametersAreNamedWithoutInternalText(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            for path in ["/api/v1/audit-events?outcome=bogus", "/api/v1/audit-events?actorId=not-a-uuid&limit=x", "/api/v1/notes/not-a-uuid"] {
                let reply = try await world.call(.get, path, as: .admin)
                expectProblem(reply, 400, path)
                #expect(!reply.problemFields.isEmpty, "\(path): no field named")
                for leaked in ["Error", "Swift", "Decoding", "OpenAPI", "underlying", "Optional("] {
                    #expect(!reply.text.contains(leaked), "\(path): \(reply.text)")
                }
            }
        }
    }
}
