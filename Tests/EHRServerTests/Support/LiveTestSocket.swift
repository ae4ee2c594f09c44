import Foundation
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import Logging
import NIOConcurrencyHelpers
import NIOWebSocket

@testable import EHRServer

/// A WebSocket client of `/api/v1/live` for tests: frames received are kept in order; `next` waits for one.
final class LiveTestSocket: Sendable {
    private let received = NIOLockedValueBox<[String]>([])
    private let cursor = NIOLockedValueBox(0)
    private let outgoing: AsyncStream<String>.Continuation
    private let task: Task<WebSocketCloseFrame?, any Error>

    init(port: Int, path: String = LiveSocket.path) {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self)
        outgoing = continuation
        let received = self.received
        var logger = Logger(label: "ehr.test.live")
        logger.logLevel = .critical
        task = Task {
            try await WebSocketClient.connect(
                url: "ws://127.0.0.1:\(port)\(path)", configuration: .init(maxFrameSize: 1 << 20), logger: logger
            ) { inbound, outbound, _ in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await text in stream { try await outbound.write(.text(text)) }
                    }
                    group.addTask {
                        for try await message in inbound.messages(maxSize: 1 << 20) {
                            if case .text(let text) = message { received.withLockedValue { $0.append(text) } }
                        }
                    }
                    try await group.next()
                    group.cancelAll()
                }
            }
        }
    }

    /// Opens a socket and signs in with `token`; returns it once `ready` arrived (nil if it did not).
    static func signedIn(port: Int, token: String) async throws -> LiveTestSocket {
        let socket = LiveTestSocket(port: port)
        socket.send(["type": "auth", "accessToken": token])
        guard let ready = await socket.next(type: "ready") else { throw LiveTestError.notReady("\(socket.frames)") }
        _ = ready
        return socket
    }

    func send(_ object: [String: Any]) {
        outgoing.yield(String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self))
    }

    func sendText(_ text: String) { outgoing.yield(text) }

    /// Every frame received so far.
    var frames: [[String: Any]] { received.withLockedValue { $0 }.map(Self.object) }

    /// The next frame not read yet (of `type`, skipping others), waiting up to `timeout`.
    func next(type: String? = nil, timeout: Duration = .seconds(5)) async -> [String: Any]? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let frame: [String: Any]? = received.withLockedValue { all in
                cursor.withLockedValue { index in
                    while index < all.count {
                        let object = Self.object(all[index])
                        index += 1
                        if type == nil || object["type"] as? String == type { return object }
                    }
                    return nil
                }
            }
            if let frame { return frame }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// Waits for the server to close the socket and returns its close code (nil when it did not close in time).
    func closeCode(timeout: Duration = .seconds(15)) async -> UInt16? {
        let task = self.task
        return await withTaskGroup(of: UInt16?.self) { group in
            group.addTask {
                guard let frame = try? await task.value else { return nil }
                return Self.code(frame.closeCode)
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            // The socket's own task is not the group's: end it, or the group waits for it (a failing test hung here).
            if first == nil { task.cancel() }
            return first
        }
    }

    /// Whether the connection ended (refused or closed) within `timeout`.
    func ended(within timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if task.isCancelled { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    func close() {
        outgoing.finish()
        task.cancel()
    }

    private static func code(_ code: WebSocketErrorCode) -> UInt16 {
        switch code {
        case .normalClosure: 1000
        case .goingAway: 1001
        case .protocolError: 1002
        case .unacceptableData: 1003
        case .dataInconsistentWithMessage: 1007
        case .policyViolation: 1008
        case .messageTooLarge: 1009
        case .missingExtension: 1010
        case .unexpectedServerError: 1011
        case .unknown(let value): value
        }
    }

    private static func object(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }
}

enum LiveTestError: Error {
    case notReady(String)
}

extension TestWorld {
    /// The port of this world's server.
    var port: Int { client.port! }

    /// Runs `body` with the port of a second `ehr serve` instance on the same database (PostgreSQL), as a
    /// deployment behind a load balancer runs them; on SQLite (one process by design) the same instance.
    func withSecondInstance(_ body: @Sendable (Int) async throws -> Void) async throws {
        guard services.database.dialect == .postgres else {
            try await body(port)
            return
        }
        var configuration = services.configuration
        configuration.port = 0
        let second = try await AppServices.make(configuration: configuration, logger: services.logger)
        let app = try buildApplication(services: second)
        try await app.test(.live) { client in
            try await client.waitUntilConnected()
            try await body(client.port!)
        }
    }
}
