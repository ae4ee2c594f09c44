import EHRPersistence
import Foundation
import SQLKit
import Testing

@testable import EHRServer

/// The embedded database's split: lists read on read-only connections of their own while one connection writes,
/// and a checkpoint connection keeps the write-ahead log short. A list must still see every write that was
/// answered, and the read connections must not be a way to write.
@Suite("SQLite readers, writer and checkpoints", .serialized) struct SQLiteStorageTests {
    @Test(arguments: [TestBackend.sqlite])
    func readConnectionsRefuseWrites(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let reads = world.services.database.reads
            struct CountRow: Decodable { var count: Int }
            let before = try #require(try await reads.raw("SELECT COUNT(*) AS count FROM patients").first(decoding: CountRow.self))
            #expect(before.count > 0)
            await #expect(throws: (any Error).self) {
                try await reads.raw("UPDATE patients SET updated_at = updated_at + 1").run()
            }
            await #expect(throws: (any Error).self) {
                try await reads.raw("CREATE TABLE smuggled (x INTEGER)").run()
            }
            let tables = try await world.owner.sql.raw("SELECT COUNT(*) AS count FROM sqlite_master WHERE name = 'smuggled'").first(decoding: CountRow.self)
            #expect(tables?.count == 0)
        }
    }

    /// Each booking answered 201 is in the very next list, while other lists keep the read connections busy.
    @Test(arguments: TestBackend.all)
    func aListSeesEveryAnsweredWrite(_ backend: TestBackend) async throws {
        try await withWorld(backend, concurrent: true) { world in
            let d = TestWorld.demo
            let day = (Date().timeIntervalSince1970 / 86_400).rounded(.down) * 86_400 + 40 * 86_400
            let formatter = ISO8601DateFormatter()
            for round in 0..<24 {
                let start = Date(timeIntervalSince1970: day + Double(round) * 3600)
                async let busy = withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<6 { group.addTask { try await world.call(.get, "/api/v1/appointments?upcoming=true&limit=20", as: .smith).items.count } }
                    return try await group.reduce(0, +)
                }
                let booked = try await world.call(
                    .post, "/api/v1/appointments", as: .admin,
                    json: [
                        "patientId": d.john.wire, "therapistId": d.smith.wire, "startsAt": formatter.string(from: start),
                        "endsAt": formatter.string(from: start.addingTimeInterval(50 * 60)), "timeZone": "UTC", "kind": "in_person",
                    ])
                #expect(booked.status == .created, "round \(round): \(booked.text)")
                let id = try #require(booked.json["id"] as? String)
                let window = "from=\(formatter.string(from: start.addingTimeInterval(-60)))&to=\(formatter.string(from: start.addingTimeInterval(60)))"
                let listed = try await world.call(.get, "/api/v1/appointments?\(window)", as: .smith)
                let ids = listed.items.compactMap { $0["id"] as? String }
                #expect(ids == [id], "round \(round): the list after the booking showed \(ids)")
                _ = try await busy
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func checkpointsCopyTheLogIntoTheDatabaseFile(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            _ = try await world.call(.get, "/api/v1/patients", as: .smith)
            let result = try await world.services.database.checkpointWAL()
            guard case .sqlite = backend else {
                #expect(result == nil)
                return
            }
            let frames = try #require(result)
            #expect(frames.logFrames > 0, "the audited read left nothing in the log")
            #expect(frames.checkpointedFrames == frames.logFrames, "\(frames)")
        }
    }
}
