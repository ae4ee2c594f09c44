import EHRDomain
import Foundation
import HTTPTypes
import SQLKit
import Testing

@testable import EHRServer

/// Secure messaging over HTTP: one thread per patient between the client and their assigned therapist, encrypted
/// bodies, read receipts, cursor paging, and 404 for everyone else. Every test runs on SQLite and PostgreSQL.
@Suite("Secure messaging", .serialized)
struct MessagingTests {
    let demo = TestWorld.demo
    let threads = "/api/v1/threads"

    private func messages(_ thread: String) -> String { "\(threads)/\(thread)/messages" }

    @Test(arguments: TestBackend.all)
    func clientAndTherapistExchangeMessagesWithReadReceipts(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            // Jane has no thread yet: the first open creates it, every later one returns it.
            let opened = try await world.call(.post, threads, as: .jane, json: ["patientId": demo.jane.wire])
            #expect(opened.status == .created, "\(opened.text)")
            let thread = try #require(opened.json["id"] as? String)
            #expect(Set(opened.json["participants"] as? [String] ?? []) == [demo.janeUser.wire, demo.smith.wire])
            #expect(opened.json["unreadCount"] as? Int == 0 && opened.json["lastMessageAt"] == nil)
            let again = try await world.call(.post, threads, as: .smith, json: ["patientId": demo.jane.wire])
            #expect(again.status == .ok && again.json["id"] as? String == thread)

            let sent = try await world.call(.post, messages(thread), as: .jane, json: ["body": "  Can we move Thursday to 3pm?\n"])
            #expect(sent.status == .created, "\(sent.text)")
            #expect(sent.json["body"] as? String == "Can we move Thursday to 3pm?" && sent.json["senderId"] as? String == demo.janeUser.wire)
            #expect(sent.json["threadId"] as? String == thread && sent.json["readAt"] == nil)

            // Dr. Smith sees one unread message in Jane's thread; Jane has read her own.
            let smithList = try await world.call(.get, threads, as: .smith)
            let janeThread = try #require(smithList.items.first { $0["id"] as? String == thread })
            #expect(janeThread["unreadCount"] as? Int == 1 && janeThread["lastMessageAt"] as? String != nil)
            #expect(smithList.items.first?["id"] as? String == thread, "newest activity first")
            #expect(try await world.call(.get, threads, as: .jane).items.map { $0["unreadCount"] as? Int } == [0])

            let read = try await world.call(.post, "\(threads)/\(thread)/read", as: .smith)
            #expect(read.status == .ok && read.json["unreadCount"] as? Int == 0 && read.json["threadId"] as? String == thread)
            let seenByJane = try await world.call(.get, messages(thread), as: .jane)
            #expect(seenByJane.items.count == 1 && seenByJane.items[0]["readAt"] as? String != nil, "the read receipt reaches the sender")

            let reply = try await world.call(.post, messages(thread), as: .smith, json: ["body": "Yes, 3pm works."])
            #expect(reply.status == .created)
            let janeView = try await world.call(.get, messages(thread), as: .jane)
            #expect(janeView.items.map { $0["body"] as? String } == ["Yes, 3pm works.", "Can we move Thursday to 3pm?"], "newest first")
            #expect(janeView.items[0]["readAt"] == nil)
            #expect(try await world.call(.get, threads, as: .jane).items.first?["unreadCount"] as? Int == 1)
        }
    }

    @Test(arguments: TestBackend.all)
    func messagesPageBackByCursorWithoutGapsOrRepeats(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let thread = try #require(try await world.call(.post, threads, as: .john, json: ["patientId": demo.john.wire]).json["id"] as? String)
            for i in 0..<7 {
                #expect(try await world.call(.post, messages(thread), as: i.isMultiple(of: 2) ? .john : .smith, json: ["body": "m\(i)"]).status == .created)
            }
            var bodies: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await world.call(.get, messages(thread) + "?limit=3" + (cursor.map { "&cursor=\($0)" } ?? ""), as: .john)
                #expect(page.status == .ok, "\(page.text)")
                bodies += page.items.compactMap { $0["body"] as? String }
                cursor = page.json["nextCursor"] as? String
                pages += 1
            } while cursor != nil && pages < 10
            // Seven new messages and the demo's welcome message, newest first, each once.
            #expect(bodies.prefix(7) == ["m6", "m5", "m4", "m3", "m2", "m1", "m0"] && bodies.count == 8 && pages == 3)
            // A cursor of another list is refused.
            let notesCursor = try await world.call(.get, "/api/v1/threads?limit=1", as: .smith).json["nextCursor"] as? String
            if let notesCursor {
                #expect(try await world.call(.get, messages(thread) + "?cursor=\(notesCursor)", as: .john).problemFields == ["cursor"])
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func onlyTheClientAndTheirTherapistReachTheThread(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let thread = try #require(try await world.call(.post, threads, as: .smith, json: ["patientId": demo.john.wire]).json["id"] as? String)
            let before = try await world.call(.get, messages(thread), as: .john).items.count
            // An admin, another therapist of the practice, another client, and every account of another practice.
            var outsiders: [(TestWorld.Account, TestWorld.Practice)] = [(.admin, demo), (.johnson, demo), (.bob, demo), (.jane, demo)]
            outsiders += TestWorld.Account.allCases.map { ($0, TestWorld.other) }
            for (account, practice) in outsiders {
                let who = "\(practice.slug)/\(account.rawValue)"
                let attempts = [
                    try await world.call(.post, threads, as: account, in: practice, json: ["patientId": demo.john.wire]),
                    try await world.call(.get, messages(thread), as: account, in: practice),
                    try await world.call(.post, messages(thread), as: account, in: practice, json: ["body": "intrusion"]),
                    try await world.call(.post, "\(threads)/\(thread)/read", as: account, in: practice),
                ]
                for reply in attempts {
                    #expect(reply.status == .notFound, "\(who): \(reply.status)")
                    // The problem's `instance` echoes the caller's own path; anything else about the thread would be a leak.
                    let text = reply.text.replacingOccurrences(of: "\"instance\":\"\(messages(thread))\"", with: "")
                        .replacingOccurrences(of: "\"instance\":\"\(threads)/\(thread)/read\"", with: "")
                    #expect(!text.contains(thread) && !text.contains("breathing"), "\(who) learned something: \(reply.text)")
                }
                let list = try await world.call(.get, threads, as: account, in: practice)
                #expect(list.status == .ok && !list.text.contains(thread), "\(who) lists John's thread")
            }
            // Admins have no threads at all; nothing was written by anyone.
            #expect(try await world.call(.get, threads, as: .admin).items.isEmpty)
            #expect(try await world.call(.get, messages(thread), as: .john).items.count == before)
            // Each refusal of a real record is in the audit log as denied, against John.
            let denied = try await world.storedEvents().filter { $0.outcome == "denied" && $0.action.hasPrefix("message.") }
            #expect(denied.count >= 6 && denied.allSatisfy { $0.patient_id == demo.john.wire })
        }
    }

    @Test(arguments: TestBackend.all)
    func reassigningThePatientHandsTheThreadToTheNewTherapist(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let thread = try #require(try await world.call(.post, threads, as: .john, json: ["patientId": demo.john.wire]).json["id"] as? String)
            #expect(try await world.call(.post, messages(thread), as: .john, json: ["body": "Before the change"]).status == .created)
            let moved = try await world.call(.patch, "/api/v1/patients/\(demo.john.wire)", as: .admin, json: ["assignedTherapistId": demo.johnson.wire])
            #expect(moved.status == .ok, "\(moved.text)")
            #expect(try await world.call(.get, messages(thread), as: .smith).status == .notFound)
            #expect(try await world.call(.post, messages(thread), as: .smith, json: ["body": "still here?"]).status == .notFound)
            #expect(!(try await world.call(.get, threads, as: .smith).text.contains(thread)))
            let history = try await world.call(.get, messages(thread), as: .johnson)
            #expect(history.status == .ok && history.items.first?["body"] as? String == "Before the change")
            let johnsonThreads = try await world.call(.get, threads, as: .johnson)
            let listed = try #require(johnsonThreads.items.first { $0["id"] as? String == thread })
            #expect(Set(listed["participants"] as? [String] ?? []) == [demo.johnUser.wire, demo.johnson.wire])
            #expect(try await world.call(.post, messages(thread), as: .johnson, json: ["body": "Hello John, I am taking over."]).status == .created)
        }
    }

    @Test(arguments: TestBackend.all)
    func badInputIsAProblemNamingTheFieldAndWritesNothing(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let thread = try #require(try await world.call(.post, threads, as: .john, json: ["patientId": demo.john.wire]).json["id"] as? String)
            let count = try await world.call(.get, messages(thread), as: .john).items.count
            let tooLong = String(repeating: "x", count: MessageRules.maximumBodyLength + 1)
            let cases: [(Any, String)] = [
                ([String: Any](), "body"), (["body": ""], "body"), (["body": " \n\t "], "body"), (["body": tooLong], "body"),
                (["body": "ok", "senderId": demo.smith.wire], "senderId"), (["body": 42], "body"), (["body": "bell\u{07}"], "body"),
            ]
            for (json, field) in cases {
                let reply = try await world.call(.post, messages(thread), as: .john, json: json)
                #expect((400..<500).contains(reply.status.code) && reply.problemFields.contains(field), "\(json): \(reply.status) \(reply.text)")
            }
            #expect(
                try await world.call(.post, messages(thread), as: .john, json: ["body": String(repeating: "y", count: MessageRules.maximumBodyLength)]).status
                    == .created)
            #expect(try await world.call(.get, messages(thread), as: .john).items.count == count + 1)
            for (json, field) in [([String: Any](), "patientId"), (["patientId": "not-a-uuid"], "patientId"), (["patientId": 7], "patientId")]
                as [(Any, String)]
            {
                let reply = try await world.call(.post, threads, as: .john, json: json)
                #expect((400..<500).contains(reply.status.code) && reply.problemFields.contains(field), "\(json): \(reply.text)")
            }
            let malformed = try await world.call(.get, "\(threads)/not-a-uuid/messages", as: .john)
            #expect(malformed.status == .badRequest && malformed.problemFields == ["id"])
            #expect(try await world.call(.get, "\(threads)/\(UUID().uuidString.lowercased())/messages", as: .john).status == .notFound)
            #expect(try await world.call(.get, threads + "?limit=0", as: .john).problemFields == ["limit"])
        }
    }

    @Test(arguments: TestBackend.all)
    func racingOpensMakeOneThreadAndRacingSendsAllLand(_ backend: TestBackend) async throws {
        try await withWorld(backend, concurrent: true) { world in
            let janeToken = try await world.token(.jane)
            let smithToken = try await world.token(.smith)
            let opens = try await withThrowingTaskGroup(of: TestWorld.Reply.self) { group in
                for i in 0..<12 {
                    group.addTask {
                        try await world.call(.post, threads, token: i.isMultiple(of: 2) ? janeToken : smithToken, json: ["patientId": demo.jane.wire])
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(opens.allSatisfy { $0.status == .ok || $0.status == .created }, "\(opens.map(\.status))")
            #expect(opens.filter { $0.status == .created }.count == 1, "exactly one open created the thread")
            let ids = Set(opens.compactMap { $0.json["id"] as? String })
            #expect(ids.count == 1)
            let thread = try #require(ids.first)
            let sends = try await withThrowingTaskGroup(of: TestWorld.Reply.self) { group in
                for i in 0..<16 {
                    group.addTask {
                        try await world.call(.post, messages(thread), token: i.isMultiple(of: 2) ? janeToken : smithToken, json: ["body": "race \(i)"])
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(sends.allSatisfy { $0.status == .created }, "\(sends.map(\.status))")
            let stored = try await world.call(.get, messages(thread) + "?limit=100", token: janeToken)
            #expect(Set(stored.items.compactMap { $0["body"] as? String }) == Set((0..<16).map { "race \($0)" }))
            let events = try await world.storedEvents().filter { $0.action == "message.send" }
            #expect(events.count == 16 && events.allSatisfy { $0.patient_id == demo.jane.wire && $0.outcome == "allowed" })
        }
    }

    @Test(arguments: TestBackend.all)
    func everyReadAndWriteIsAuditedWithThePatientAndNoText(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let thread = try #require(try await world.call(.post, threads, as: .john, json: ["patientId": demo.john.wire]).json["id"] as? String)
            #expect(try await world.call(.post, messages(thread), as: .john, json: ["body": "audit-sentinel-Capybarish"]).status == .created)
            #expect(try await world.call(.get, messages(thread), as: .smith).status == .ok)
            #expect(try await world.call(.post, "\(threads)/\(thread)/read", as: .smith).status == .ok)
            #expect(try await world.call(.get, threads, as: .smith).status == .ok)
            let events = try await world.storedEvents().filter { $0.tenant_id == demo.tenantID }
            for action in ["thread.open", "message.send", "message.list", "thread.read"] {
                let matching = events.filter { $0.action == action }
                #expect(matching.count == 1 && matching[0].patient_id == demo.john.wire, "\(action): \(matching.count)")
            }
            let listed = try #require(events.last { $0.action == "thread.list" })
            #expect(listed.patient_ids?.contains(demo.john.wire) == true)
            struct Row: Decodable { var n: Int }
            let withText = try await world.services.database.sql.raw(
                "SELECT COUNT(*) AS n FROM audit_events WHERE detail LIKE '%Capybarish%' OR changed_fields LIKE '%Capybarish%'"
            ).first(decoding: Row.self)
            #expect(withText?.n == 0)
        }
    }
}
