import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A WebSocket of JSON text frames, as ``LiveEvents`` uses it.
public protocol LiveConnection: Sendable {
    func send(_ text: String) async throws
    /// The next text frame; nil once the socket is closed.
    func receive() async throws -> String?
    func close() async
}

/// Opens ``LiveConnection``s.
public protocol LiveConnector: Sendable {
    func connect(_ url: URL) async throws -> any LiveConnection
}

/// WebSockets through `URLSessionWebSocketTask` (Apple platforms). On Linux the same type exists but
/// swift-corelibs-foundation needs a libcurl built with WebSocket support, which Debian's is not: there
/// ``LiveEvents`` reports the socket as unavailable and the app reads by cursor as before.
public struct URLSessionLiveConnector: LiveConnector {
    public init() {}

    public func connect(_ url: URL) async throws -> any LiveConnection {
        let task = URLSession.shared.webSocketTask(with: url)
        // Session descriptions and message bodies stay well below this; the default (1 MiB) is fine too.
        task.maximumMessageSize = 1 << 20
        task.resume()
        return URLSessionLiveConnection(task: task)
    }
}

final class URLSessionLiveConnection: LiveConnection, @unchecked Sendable {
    // URLSessionWebSocketTask is thread-safe; it is not marked Sendable.
    let task: URLSessionWebSocketTask

    init(task: URLSessionWebSocketTask) {
        self.task = task
    }

    func send(_ text: String) async throws {
        try await task.send(.string(text))
    }

    func receive() async throws -> String? {
        do {
            switch try await task.receive() {
            case .string(let text): return text
            case .data(let data): return String(decoding: data, as: UTF8.self)
            @unknown default: return nil
            }
        } catch {
            if task.closeCode != .invalid { return nil }
            throw error
        }
    }

    func close() async {
        task.cancel(with: .normalClosure, reason: nil)
    }
}
