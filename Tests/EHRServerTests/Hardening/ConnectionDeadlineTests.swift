import FluentKit
import Foundation
import NIOPosix
import SQLKit
import Testing

@testable import EHRPersistence

/// The limit on one checkout: work past it is abandoned with 503's error at once, and work that finished in time
/// leaves its connection alone (the deadline's timer must not fire later and close a connection in use). The
/// deadlines in time are 2 s: under the whole suite's load a SQLite statement once took over 0.25 s.
@Suite("Connection deadline") struct ConnectionDeadlineTests {
    @Test(arguments: TestBackend.all)
    func workPastTheDeadlineIsAbandoned(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let started = ContinuousClock.now
            let error = await #expect(throws: StorageError.self) {
                try await ConnectionDeadline.run(0.2, on: world.services.database.fluent) {
                    try await Task.sleep(for: .seconds(30))
                    return 1
                }
            }
            guard case .unavailable? = error else {
                Issue.record("expected unavailable, got \(String(describing: error))")
                return
            }
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }

    /// The work runs in a task of its own (so it can be abandoned), and that task keeps to the caller's loop however
    /// what it awaited finished, as the caller does (see ``EventLoopTaskExecutor``).
    @Test(arguments: TestBackend.all)
    func workUnderADeadlineKeepsToTheCallersLoop(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let loops = Array(MultiThreadedEventLoopGroup.singleton.makeIterator())
            for loop in loops {
                let executor = try #require(EventLoopTaskExecutor.of(loop))
                let onTheLoop = try await withTaskExecutorPreference(executor) {
                    try await ConnectionDeadline.run(2, on: world.services.database.fluent) {
                        var onTheLoop = 0
                        for _ in 0..<20 {
                            // Resumed from a thread of no loop: without a preference the task goes on wherever NIO puts it.
                            await resumedFromAnotherThread()
                            if loop.inEventLoop { onTheLoop += 1 }
                        }
                        return onTheLoop
                    }
                }
                #expect(onTheLoop == 20, "loop \(loop)")
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func workInTimeKeepsItsConnection(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            struct One: Decodable { var one: Int }
            let answers = try await world.services.database.fluent.withConnection { connection in
                connection.eventLoop.makeFutureWithTask {
                    var answers: [Int] = []
                    for _ in 0..<5 {
                        answers.append(
                            try await ConnectionDeadline.run(2, on: connection) {
                                try await (connection as! any SQLDatabase).raw("SELECT 1 AS one").first(decoding: One.self)?.one ?? 0
                            })
                    }
                    // Well past every deadline armed above: none may have closed the connection.
                    try await Task.sleep(for: .milliseconds(2500))
                    answers.append(try await (connection as! any SQLDatabase).raw("SELECT 1 AS one").first(decoding: One.self)?.one ?? 0)
                    return answers
                }
            }.get()
            #expect(answers == Array(repeating: 1, count: 6))
        }
    }
}
