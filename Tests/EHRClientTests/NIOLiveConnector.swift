import EHRClient
import Foundation
import HummingbirdWSClient
import Logging
import NIOConcurrencyHelpers

/// The live socket for tests on Linux, where `URLSessionWebSocketTask` has no WebSocket-capable libcurl to run
/// on: the same ``LiveConnection`` contract over Hummingbird's WebSocket client.
struct NIOLiveConnector: LiveConnector {
    func connect(_ url: URL) async throws -> any LiveConnection {
        NIOLiveConnection(url: url)
    }
}

final class NIOLiveConnection: LiveConnection {
    private let outgoing: AsyncStream<String>.Continuation
    private let inbox: Inbox
    private let task: Task<Void, Never>

    init(url: URL) {
        let (outbound, outgoing) = AsyncStream.makeStream(of: String.self)
        let (inbound, incoming) = AsyncStream.makeStream(of: String.self)
        self.outgoing = outgoing
        self.inbox = Inbox(inbound)
        var logger = Logger(label: "ehr.client-test.live")
        logger.logLevel = .critical
        task = Task {
            _ = try? await WebSocketClient.connect(url: url.absoluteString, configuration: .init(maxFrameSize: 1 << 20), logger: logger) {
                socketIn, socketOut, _ in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await text in outbound { try await socketOut.write(.text(text)) }
                    }
                    group.addTask {
                        for try await message in socketIn.messages(maxSize: 1 << 20) {
                            if case .text(let text) = message { incoming.yield(text) }
                        }
                    }
                    try await group.next()
                    group.cancelAll()
                }
            }
            incoming.finish()
        }
    }

    func send(_ text: String) async throws { outgoing.yield(text) }

    func receive() async throws -> String? { await inbox.next() }

    func close() async {
        outgoing.finish()
        task.cancel()
    }

    /// The frames received; ``LiveEvents`` reads them one at a time, never two readers at once.
    private final class Inbox: @unchecked Sendable {
        var iterator: AsyncStream<String>.AsyncIterator

        init(_ stream: AsyncStream<String>) {
            iterator = stream.makeAsyncIterator()
        }

        func next() async -> String? { await iterator.next() }
    }
}
