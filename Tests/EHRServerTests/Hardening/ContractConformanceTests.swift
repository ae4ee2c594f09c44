import EHRDomain
import Foundation
import HTTPTypes
import NIOCore
import Testing

@testable import EHRServer

/// What scripts/contract-fuzz found the server accepting although the contract refuses it: a missing required
/// body, `null` for a property that is not nullable, and the QUERY method. Each answers as the contract says.
@Suite("Contract conformance")
struct ContractConformanceTests {
    @Test(arguments: TestBackend.all)
    func requiredBodiesMustBeSent(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let d = TestWorld.demo
            let token = try await world.token(.admin)
            for (method, path) in [
                (HTTPRequest.Method.patch, "/api/v1/users/\(d.smith.wire)"), (.patch, "/api/v1/patients/\(d.john.wire)"),
                (.patch, "/api/v1/providers/\(d.smith.wire)"), (.post, "/api/v1/patients"),
            ] {
                let reply = try await world.call(method, path, token: token)
                expectProblem(reply, 400, field: "body", "\(method) \(path) without a body")
            }
            // The one optional body: cancelling an appointment without a reason.
            let appointments = try await world.call(.get, "/api/v1/appointments", as: .admin).items
            let id = try #require(appointments.first?["id"] as? String)
            #expect(try await world.call(.delete, "/api/v1/appointments/\(id)", token: token).status == .ok)
        }
    }

    @Test(arguments: TestBackend.all)
    func nullIsRefusedWhereTheContractDoesNotAllowIt(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let d = TestWorld.demo
            let token = try await world.token(.admin)
            let appointments = try await world.call(.get, "/api/v1/appointments", as: .admin).items
            let id = try #require(appointments.first?["id"] as? String)
            let cancel = try await world.call(.delete, "/api/v1/appointments/\(id)", token: token, raw: #"{"reason":null}"#)
            expectProblem(cancel, 400, field: "reason", "a null reason")
            let rename = try await world.call(.patch, "/api/v1/patients/\(d.john.wire)", token: token, raw: #"{"firstName":null,"phone":null}"#)
            expectProblem(rename, 400, field: "firstName", "a null first name")
            #expect(rename.problemFields.contains("phone"))
            // The contract's nullable properties clear with null.
            let cleared = try await world.call(.patch, "/api/v1/patients/\(d.john.wire)", token: token, raw: #"{"address":null}"#)
            #expect(cleared.status == .ok, "\(cleared.text)")
            // The word inside a string is text, not a null.
            let named = try await world.call(.patch, "/api/v1/patients/\(d.john.wire)", token: token, raw: #"{"lastName":"Annull"}"#)
            #expect(named.status == .ok && named.json["lastName"] as? String == "Annull", "\(named.text)")
        }
    }
}

extension ContractConformanceTests {
    @Test(arguments: TestBackend.all)
    func addressesAndIdsAreWhatTheContractSays(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let d = TestWorld.demo
            let token = try await world.token(.admin)
            func address(_ state: String, _ zip: String) -> [String: Any] {
                ["address": ["line1": "1 Main St", "city": "Springfield", "state": state, "postalCode": zip]]
            }
            let path = "/api/v1/patients/\(d.john.wire)"
            expectProblem(try await world.call(.patch, path, token: token, json: address("Bavaria", "10001")), 422, field: "address.state")
            expectProblem(try await world.call(.patch, path, token: token, json: address("NY", "SW1A 1AA")), 422, field: "address.postalCode")
            let stored = try await world.call(.patch, path, token: token, json: address("ny", "10001-1234"))
            #expect(stored.status == .ok, "\(stored.text)")
            #expect((stored.json["address"] as? [String: Any])?["state"] as? String == "NY")
            expectProblem(try await world.call(.patch, path, token: token, json: ["assignedTherapistId": ""]), 422, field: "assignedTherapistId")
        }
    }
}

extension ContractConformanceTests {
    /// The scan that decides whether a body is read for `null` members finds the word at either end and nowhere else.
    @Test func nullScanFindsTheWordAnywhere() {
        let found = ["null", "[null]", "{\"a\":null}", "{\"a\":nul,\"b\":null", "xxxxnull"]
        let absent = ["", "n", "nul", "nulL", "NULL", "{\"a\":\"nu\"}", "{\"a\":1}", "nul l"]
        for text in found { #expect(BodyLimitMiddleware.mentionsNull(ByteBuffer(string: text)), "\(text)") }
        for text in absent { #expect(!BodyLimitMiddleware.mentionsNull(ByteBuffer(string: text)), "\(text)") }
        var offset = ByteBuffer(string: "nullxx{}")
        offset.moveReaderIndex(forwardBy: 4)
        #expect(!BodyLimitMiddleware.mentionsNull(offset))
    }
}
