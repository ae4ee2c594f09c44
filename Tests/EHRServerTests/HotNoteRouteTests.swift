import EHRAPI
import Foundation
import HTTPTypes
import Testing

@testable import EHRServer

/// Note creation's direct body reading (``CreateNoteBody``) must mean exactly what the generated decoder means
/// whenever it answers, and the route must keep every guarantee of the generated one.
@Suite("Note creation's direct body reading")
struct HotNoteRouteTests {
    private func direct(_ body: String) -> Components.Schemas.CreateNoteRequest? {
        Array(body.utf8).withUnsafeBytes(CreateNoteBody.parse)
    }

    /// What the generated code decodes (its `Decodable` conformance, unknown members refused), or nil.
    private func generated(_ body: String) -> Components.Schemas.CreateNoteRequest? {
        try? JSONDecoder().decode(Components.Schemas.CreateNoteRequest.self, from: Data(body.utf8))
    }

    private static let patient = "0b5e4a9e-9d3c-4f57-8a1b-2c3d4e5f6a7b"

    @Test func plainBodiesAreReadDirectlyAndMeanWhatTheGeneratedDecoderReads() throws {
        let p = Self.patient
        let bodies = [
            #"{"patientId":"\#(p)","type":"soap","sections":{"subjective":"Reports steady mood this week.","plan":"Continue weekly sessions."}}"#,
            #"{"type":"progress","sections":{"narrative":"x"},"patientId":"\#(p)","appointmentId":"\#(p)"}"#,
            " \n{ \"patientId\" : \"\(p)\" ,\r\n\t\"type\": \"dap\", \"sections\": { } } \n",
            #"{"patientId":"not-a-uuid","type":"intake","sections":{"narrative":"ünïcödé ☂︎ 🧠 / slash \#u{7F}"}}"#,
            #"{"patientId":"","type":"birp","sections":{"behavior":"","Unknown Key":"kept for the rules to refuse"}}"#,
        ]
        for body in bodies {
            let read = try #require(direct(body), "\(body) should be read directly")
            #expect(read == generated(body), "\(body)")
        }
    }

    @Test func anythingInDoubtIsLeftToTheGeneratedDecoder() {
        let p = Self.patient
        let doubtful = [
            "", "{}", "[]", "null", #"{"patientId":"\#(p)","type":"soap"}"#, #"{"patientId":"\#(p)","sections":{}}"#,
            #"{"type":"soap","sections":{}}"#, #"{"patientId":"\#(p)","type":"bogus","sections":{}}"#,
            #"{"patientId":"\#(p)","type":"soap","sections":{},"extra":1}"#, #"{"patientId":"\#(p)","patientId":"\#(p)","type":"soap","sections":{}}"#,
            #"{"patientId":"\#(p)","type":"soap","sections":{"plan":"a","plan":"b"}}"#, #"{"patientId":"\#(p)","type":"soap","sections":{"plan":null}}"#,
            #"{"patientId":"\#(p)","type":"soap","sections":{"plan":1}}"#, #"{"patientId":"\#(p)","type":"soap","sections":{"plan":{"a":"b"}}}"#,
            #"{"patientId":"\#(p)","type":"soap","sections":{"plan":"a\"b"}}"#, #"{"patientId":"\#(p)","type":"soap","sections":{"plan":"\u0041"}}"#,
            #"{"patientId":"\#(p)","type":"soap","sections":{"plan":"a/b"}}x"#, #"{"patientId":"\#(p)","type":"soap","sections":{},}"#,
            #"{"patientId":"\#(p)","type":"soap","sections":{"plan":"a",}}"#, #"{"patientId":"\#(p)","type":"soap","sections":{}}{}"#,
            "{\"patientId\":\"\(p)\",\"type\":\"soap\",\"sections\":{\"plan\":\"tab\there\"}}", #"{"patientId":null,"type":"soap","sections":{}}"#,
            #"{"patientId":"\#(p)","appointmentId":null,"type":"soap","sections":{}}"#, "\u{FEFF}{\"patientId\":\"\(p)\",\"type\":\"soap\",\"sections\":{}}",
            #"{'patientId':'\#(p)','type':'soap','sections':{}}"#, #"{"patientId":"\#(p)","type":"soap","sections":[]}"#,
        ]
        for body in doubtful {
            #expect(direct(body) == nil, "\(body)")
        }
        // Bytes that are not UTF-8 inside a string.
        let invalid = Array(#"{"patientId":"a"#.utf8) + [0xC3, 0x28] + Array(#"","type":"soap","sections":{}}"#.utf8)
        #expect(invalid.withUnsafeBytes(CreateNoteBody.parse) == nil)
    }

    /// Random bodies from pieces that tend to break parsers: whenever the direct reading answers, the generated
    /// decoder must accept the body and read the same values.
    @Test func randomBodiesNeverReadDifferently() {
        let names = [#""patientId""#, #""appointmentId""#, #""type""#, #""sections""#, #""extra""#, #""patientid""#]
        let values = [
            #""\#(Self.patient)""#, #""soap""#, #""progress""#, #""x""#, #""""#, #""a\"b""#, #""\u00e9""#, "null", "1", "true", "{}",
            #"{"plan":"p"}"#, #"{"plan":"p","narrative":"n"}"#, #"{"plan":1}"#, #"{"plan":"a","plan":"b"}"#, "[]", #""é""#,
        ]
        let glue = [",", " , ", ",\n", ""]
        var generator = SystemRandomNumberGenerator()
        var read = 0
        for _ in 0..<6_000 {
            // The three required members, each value sometimes replaced, in any order, with extra members mixed in.
            var members = [(#""patientId""#, #""\#(Self.patient)""#), (#""type""#, #""soap""#), (#""sections""#, #"{"plan":"p"}"#)].map { name, value in
                (name, Int.random(in: 0..<4, using: &generator) == 0 ? values.randomElement(using: &generator)! : value)
            }
            members += (0..<Int.random(in: 0...2, using: &generator)).map { _ in
                (names.randomElement(using: &generator)!, values.randomElement(using: &generator)!)
            }
            members.shuffle(using: &generator)
            var body = "{"
            for (index, (name, value)) in members.enumerated() {
                if index > 0 { body += glue.randomElement(using: &generator)! }
                body += name + (Bool.random(using: &generator) ? ":" : " : ") + value
            }
            body += Int.random(in: 0..<10, using: &generator) == 0 ? "" : "}"
            guard let value = direct(body) else { continue }
            read += 1
            #expect(value == generated(body), "\(body)")
        }
        #expect(read > 30)
    }

    /// The direct route answers what the generated one answers and audits each creation alike; its refusals are
    /// the generated route's problems, naming the field, and leave nothing written.
    @Test(arguments: TestBackend.all)
    func directRouteAnswersAndAuditsLikeTheGeneratedOne(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let demo = TestWorld.demo
            let token = try await world.token(.smith)
            // The same note twice: plain (read directly) and with an escape (left to the generated decoder).
            func body(_ patient: UUID, _ plan: String, escaped: Bool) -> String {
                let text = escaped ? plan.replacingOccurrences(of: " ", with: "\\u0020") : plan
                return #"{"patientId":"\#(patient.lowercasedString)","type":"soap","sections":{"subjective":"Calm.","plan":"\#(text)"}}"#
            }
            #expect(direct(body(demo.john, "Weekly sessions", escaped: false)) != nil)
            #expect(direct(body(demo.john, "Weekly sessions", escaped: true)) == nil)
            var answers: [[String: Any]] = []
            for escaped in [false, true] {
                let before = try await world.eventCount()
                let reply = try await world.call(.post, "/api/v1/notes", token: token, raw: body(demo.john, "Weekly sessions", escaped: escaped))
                #expect(reply.status == .created, "\(reply.text)")
                #expect(reply.headers[.contentType] == "application/json; charset=utf-8")
                #expect(reply.headers[.requestID] != nil)
                #expect(try await world.eventCount() == before + 1, "one audit event per note")
                answers.append(reply.json)
                // What was stored is what was answered.
                let id = try #require(reply.json["id"] as? String)
                let stored = try await world.call(.get, "/api/v1/notes/\(id)", as: .smith)
                #expect(stored.text == reply.text)
            }
            #expect(Set(answers[0].keys) == Set(answers[1].keys))
            for key in ["patientId", "authorId", "tenantId", "type", "status"] {
                #expect(answers[0][key] as? String == answers[1][key] as? String, "\(key)")
            }
            #expect(answers[0]["sections"] as? [String: String] == answers[1]["sections"] as? [String: String])
            // Refusals: a patient of another practice, an unknown one, a section the type lacks, an admin, no token.
            let notesBefore = try await world.call(.get, "/api/v1/notes?patientId=\(demo.john.lowercasedString)", as: .smith).items.count
            let refusals: [(String, String?)] = [
                (body(TestWorld.other.john, "x", escaped: false), token), (body(UUID(), "x", escaped: false), token),
                (#"{"patientId":"\#(demo.john.lowercasedString)","type":"progress","sections":{"plan":"x"}}"#, token),
                (body(demo.john, "x", escaped: false), try await world.token(.admin)), (body(demo.john, "x", escaped: false), nil),
            ]
            for (plain, caller) in refusals {
                let escapedBody = plain.replacingOccurrences(of: #""x""#, with: #""\u0078""#)
                #expect(direct(plain) != nil && direct(escapedBody) == nil, "\(plain)")
                let fast = try await world.call(.post, "/api/v1/notes", token: caller, raw: plain)
                let slow = try await world.call(.post, "/api/v1/notes", token: caller, raw: escapedBody)
                #expect(fast.status.code >= 400 && fast.status == slow.status, "\(plain): \(fast.status) \(slow.status)")
                #expect(fast.problemFields == slow.problemFields, "\(plain)")
                #expect(fast.json["title"] as? String == slow.json["title"] as? String, "\(plain)")
                #expect(fast.json["detail"] as? String == slow.json["detail"] as? String, "\(plain)")
            }
            let notesAfter = try await world.call(.get, "/api/v1/notes?patientId=\(demo.john.lowercasedString)", as: .smith).items.count
            #expect(notesAfter == notesBefore, "a refused note is not written")
            // Other spellings of the path reach the same route: created and audited alike.
            for path in ["/api/v1/notes/", "/api/v1//notes"] {
                let before = try await world.eventCount()
                let reply = try await world.call(.post, path, token: token, raw: body(demo.john, "Weekly sessions", escaped: false))
                #expect(reply.status == .created, "\(path): \(reply.text)")
                #expect(Set(reply.json.keys) == Set(answers[0].keys), "\(path)")
                #expect(try await world.eventCount() == before + 1, "\(path): one audit event")
            }
            // The generated client's spelling (with the charset) is read directly too and answers alike.
            let charset = try await world.call(
                .post, "/api/v1/notes", token: token, raw: body(demo.john, "Weekly sessions", escaped: false),
                headers: [.contentType: "application/json; charset=utf-8"])
            #expect(charset.status == .created, "\(charset.text)")
            #expect(Set(charset.json.keys) == Set(answers[0].keys))
            // Another content type or Accept is the generated route's to judge.
            let text = try await world.call(
                .post, "/api/v1/notes", token: token, raw: body(demo.john, "x", escaped: false), headers: [.accept: "text/plain"])
            #expect(text.status.code >= 400)
        }
    }

    @Test func onlyPlainJSONContentTypesAreReadDirectly() {
        for (value, plain) in [
            ("application/json", true), ("application/json; charset=utf-8", true), ("application/json;charset=utf-8", false),
            ("Application/JSON", false), ("application/json; charset=latin1", false), ("text/plain", false),
            ("application/json-patch+json", false), ("", false),
        ] {
            #expect(HotRouteTransport.sendsPlainJSON([.contentType: value]) == plain, "\(value)")
        }
        #expect(!HotRouteTransport.sendsPlainJSON([:]))
        var twice = HTTPFields()
        twice.append(HTTPField(name: .contentType, value: "application/json"))
        twice.append(HTTPField(name: .contentType, value: "application/json"))
        #expect(!HotRouteTransport.sendsPlainJSON(twice))
    }
}
