import EHRAPI
import EHRDomain
import EHRPersistence
import Foundation
import HTTPTypes
import NIOConcurrencyHelpers
import SQLKit
import Testing

@testable import EHRServer

/// Every audited operation, called once by every role: exactly one new event each, with the right actor,
/// action, outcome (denials included) and patient.
@Suite("Audit completeness", .serialized)
struct AuditCompletenessTests {
    struct Call: Sendable {
        let method: HTTPRequest.Method
        let path: String
        let body: [String: any Sendable]?
        /// The record the call aims at exists in the caller's practice (a 404 then means "denied").
        let targetExists: Bool
        /// The patient whose record this is, when the target exists.
        let patient: UUID?
    }

    /// One call per operation of the API (sign-in operations are tested separately), aimed at the demo practice.
    static func calls() -> [Call] {
        let d = TestWorld.demo
        let missing = UUID().wire
        func c(_ m: HTTPRequest.Method, _ p: String, _ b: [String: any Sendable]? = nil, exists: Bool = true, patient: UUID? = nil) -> Call {
            Call(method: m, path: "/api/v1" + p, body: b, targetExists: exists, patient: patient)
        }
        return [
            c(.get, "/auth/me"),
            c(.get, "/users"), c(.get, "/users/\(d.smith.wire)"), c(.patch, "/users/\(d.johnson.wire)", ["displayName": "Dr. M. Johnson"]),
            c(.post, "/users", ["email": "new.admin@demo.test", "displayName": "New Admin", "role": "admin"]),
            c(.get, "/providers"), c(.get, "/providers/\(d.smith.wire)"), c(.patch, "/providers/\(d.smith.wire)", ["credentials": "PhD"]),
            c(.get, "/patients"), c(.get, "/patients?email=john.doe@demo.test"), c(.get, "/patients?lastName=Doe&dateOfBirth=1985-04-12"),
            c(.get, "/patients/\(d.john.wire)", patient: d.john), c(.get, "/patients/\(missing)", exists: false),
            c(.patch, "/patients/\(d.john.wire)", ["phone": "+1-212-555-0177"], patient: d.john),
            c(.get, "/patients/\(d.john.wire)/access-log", patient: d.john),
            c(.post, "/patients", ["firstName": "New", "lastName": "Patient", "dateOfBirth": "1991-02-03", "assignedTherapistId": d.smith.wire]),
            c(.get, "/appointments"), c(.get, "/appointments/\(d.johnAppointment.wire)", patient: d.john),
            c(.get, "/appointments/\(missing)", exists: false),
            c(.patch, "/appointments/\(d.johnAppointment.wire)", ["reason": "Follow-up"], patient: d.john),
            c(.post, "/appointments/\(d.johnAppointment.wire)/startTelevisit", patient: d.john),
            c(
                .post, "/appointments",
                [
                    "patientId": d.john.wire, "therapistId": d.smith.wire, "startsAt": "2031-01-06T15:00:00Z",
                    "endsAt": "2031-01-06T16:00:00Z", "timeZone": "America/New_York", "kind": "televisit",
                ]),
            c(.get, "/notes"), c(.get, "/notes/\(d.johnSignedNote.wire)", patient: d.john), c(.get, "/notes/\(missing)", exists: false),
            c(.post, "/notes", ["patientId": d.john.wire, "type": "progress", "sections": ["narrative": "Session"]]),
            c(.patch, "/notes/\(d.bobDraftNote.wire)", ["sections": ["narrative": "Edited"]], patient: d.bob),
            c(.post, "/notes/\(d.johnSignedNote.wire)/addenda", ["text": "Addendum text"], patient: d.john),
            c(.post, "/notes/\(d.johnSignedNote.wire)/break-glass", ["reason": "Covering clinician in a crisis"], patient: d.john),
            c(.post, "/notes/\(d.bobDraftNote.wire)/sign", patient: d.bob),
            c(.delete, "/notes/\(d.bobDraftNote.wire)", ["reason": "Entered in error"], patient: d.bob),
            c(.delete, "/appointments/\(d.bobAppointment.wire)", patient: d.bob),
            c(.delete, "/patients/\(d.jane.wire)", ["reason": "Moved away"], patient: d.jane),
            c(.delete, "/providers/\(d.johnson.wire)"),
            c(.get, "/audit-events"), c(.get, "/audit/verify"),
        ]
    }

    struct EventRow: Decodable {
        var seq: Int64
        var actor_id: String
        var action: String
        var outcome: String
        var patient_id: String?
        var request_id: String
    }

    static func events(_ world: TestWorld, tenant: UUID = TestWorld.demo.tenantID) async throws -> [EventRow] {
        try await world.sealAudit()
        return try await world.services.database.sql.raw(
            "SELECT seq, actor_id, action, outcome, patient_id, request_id FROM audit_events WHERE tenant_id = \(bind: tenant) ORDER BY seq"
        )
        .all(decoding: EventRow.self)
    }

    @Test(arguments: TestBackend.all)
    func everyOperationByEveryRoleWritesExactlyOneEvent(_ backend: TestBackend) async throws {
        let tally = NIOLockedValueBox<[String: Int]>([:])
        for account in [TestWorld.Account.admin, .smith, .johnson, .john] {
            // A fresh world per role: the calls change records (sign, discharge, deactivate).
            try await withWorld(backend) { world in
                let actor = account.userID(in: TestWorld.demo).wire
                for call in Self.calls() {
                    let before = try await Self.events(world)
                    let otherBefore = try await Self.events(world, tenant: TestWorld.other.tenantID).count
                    let reply = try await world.call(call.method, call.path, as: account, json: call.body)
                    let after = try await Self.events(world)
                    let label = "\(account) \(call.method) \(call.path) → \(reply.status.code)"
                    try #require(after.count == before.count + 1, "\(label): \(after.count - before.count) events")
                    #expect(try await Self.events(world, tenant: TestWorld.other.tenantID).count == otherBefore, "\(label): event in the other practice")
                    let event = after.last!
                    #expect(event.actor_id == actor, "\(label)")
                    #expect(event.request_id == reply.headers[.requestID], "\(label): request id")
                    let expected: String
                    switch reply.status.code {
                    case 200..<300: expected = "allowed"
                    case 404: expected = call.targetExists ? "denied" : "not_found"
                    default: expected = "error"
                    }
                    #expect(event.outcome == expected, "\(label): outcome \(event.outcome), expected \(expected)")
                    if let patient = call.patient, reply.status.code != 400 {
                        #expect(event.patient_id == patient.wire, "\(label): patient \(event.patient_id ?? "nil")")
                    }
                    let operation = APIOperations.matching(call.method, String(call.path.split(separator: "?")[0]))
                    #expect(event.action == operation?.audit?.action, "\(label): action \(event.action)")
                    tally.withLockedValue { $0[event.outcome, default: 0] += 1 }
                }
                let report = try await world.services.auditLog.verify(tenantID: TestWorld.demo.tenantID, on: world.services.database.sql)
                #expect(report.isIntact)
            }
        }
        let outcomes = tally.withLockedValue { $0 }
        let checked = outcomes.values.reduce(0, +)
        // Every outcome occurs, so none of the checks above is vacuous.
        #expect(outcomes["allowed", default: 0] > 0 && outcomes["denied", default: 0] > 0 && outcomes["not_found", default: 0] > 0)
        print(
            "audit completeness (\(backend.testDescription)): \(checked) calls (4 roles × \(Self.calls().count) operations), each exactly one event; outcomes \(outcomes.sorted { $0.key < $1.key })"
        )
    }

    @Test(arguments: TestBackend.all)
    func signInOperationsAreAudited(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let demo = TestWorld.demo
            func login(_ email: String, _ password: String, tenant: String = "demo") async throws -> TestWorld.Reply {
                try await world.call(.post, "/api/v1/auth/login", json: ["tenant": tenant, "email": email, "password": password])
            }
            let ok = try await login("dr.smith@demo.test", DemoSeed.password)
            #expect(ok.status == .ok)
            _ = try await login("dr.smith@demo.test", "wrong-password-123")
            _ = try await login("nobody@demo.test", "wrong-password-123")
            _ = try await login("dr.smith@demo.test", "wrong-password-123", tenant: "no-such-practice")
            let refresh = ok.json["refreshToken"] as! String
            let refreshed = try await world.call(.post, "/api/v1/auth/refresh", json: ["refreshToken": refresh])
            #expect(refreshed.status == .ok)
            #expect(try await world.call(.post, "/api/v1/auth/refresh", json: ["refreshToken": refresh]).status == .unauthorized)
            #expect(try await world.call(.post, "/api/v1/auth/logout", json: ["refreshToken": refreshed.json["refreshToken"] as! String]).status == .noContent)
            let events = try await Self.events(world)
            let summary = events.map { "\($0.action) \($0.outcome) \($0.actor_id == demo.smith.wire ? "smith" : $0.actor_id)" }
            #expect(
                summary == [
                    "auth.login allowed smith", "auth.login denied smith", "auth.login denied anonymous",
                    "auth.refresh allowed smith", "auth.refresh denied smith", "auth.logout allowed smith",
                ])
            // An unknown practice has no chain to hold the event, and nothing leaks into another practice's chain.
            #expect(try await Self.events(world, tenant: TestWorld.other.tenantID).isEmpty)
            // No event holds a token or password.
            try await world.sealAudit()
            let all = try await world.services.database.sql.raw("SELECT * FROM audit_events").all()
            let text = all.map { "\($0)" }.joined()
            #expect(!text.contains(refresh) && !text.contains("wrong-password-123") && !text.contains(DemoSeed.password))
        }
    }

    /// The operation table is the contract: the same operations, each public exactly when the contract says
    /// `security: []` and a list exactly when it takes the `Cursor` parameter; every /api/v1 operation is audited.
    @Test func operationTableMatchesTheContract() throws {
        let contract = try ContractOperations.parse()
        #expect(contract.count >= 40)
        let table = Dictionary(uniqueKeysWithValues: APIOperations.all.filter { $0.template != "/metrics" && !$0.isPage }.map { ($0.key, $0) })
        #expect(Set(table.keys) == Set(contract.map(\.key)), "table and contract differ")
        for operation in contract {
            let entry = try #require(table[operation.key], "\(operation.key) missing from the operation table")
            #expect(entry.isPublic == operation.isPublic, "\(operation.key): public")
            #expect(entry.isList == operation.isList, "\(operation.key): list")
            // The sockets' plain GETs only answer 426; what a socket delivers is audited per delivery (live events) or
            // per join, admission and leave (televisit rooms).
            if operation.template.hasPrefix("/api/v1/"), ![LiveSocket.path, TelevisitSocket.path].contains(operation.template) {
                #expect(entry.audit != nil, "\(operation.key) is not audited")
            }
        }
        #expect(Set(contract.filter(\.bodyRequired).map(\.key)) == APIOperations.bodyRequired, "required request bodies differ")
    }
}
