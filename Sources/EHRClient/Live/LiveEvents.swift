import Foundation

/// What the service tells a signed-in app as it happens (`/api/v1/live`).
public enum LiveEvent: Sendable, Equatable {
    /// A new message in one of the user's threads.
    case message(id: String, threadId: String, senderId: String, body: String, sentAt: Date)
    /// A participant read a thread up to `readAt` (a read receipt).
    case read(threadId: String, userId: String, readAt: Date)
    /// An appointment of the user was booked, changed, cancelled or started: read it again.
    case appointment(id: String, change: String)
    /// Events may have been missed (the socket was down): fetch what is newer by cursor.
    case resync
}

/// The live socket of the signed-in user: signs in with the access token in its first frame, renews it over the
/// socket before it expires, hands every event to each subscriber of ``events()``, and reconnects with backoff
/// when the socket drops; after a reconnect subscribers get ``LiveEvent/resync``, since nothing is replayed.
public actor LiveEvents {
    let session: SessionManager
    let connector: any LiveConnector
    /// Waits between reconnects (the last repeats).
    let retryDelays: [Duration]
    private var subscribers: [UUID: AsyncStream<LiveEvent>.Continuation] = [:]
    private var loop: Task<Void, Never>?
    /// True while the socket is open and signed in.
    public private(set) var isConnected = false

    public init(session: SessionManager, connector: any LiveConnector = URLSessionLiveConnector(), retryDelays: [Duration]? = nil) {
        self.session = session
        self.connector = connector
        self.retryDelays = retryDelays ?? [.seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30)]
    }

    /// The events from now on. The socket opens with the first subscriber and stays open until ``stop()`` or sign-out.
    public func events() -> AsyncStream<LiveEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: LiveEvent.self, bufferingPolicy: .bufferingNewest(256))
        let id = UUID()
        subscribers[id] = continuation
        continuation.onTermination = { _ in Task { await self.unsubscribe(id) } }
        if loop == nil { loop = Task { await self.run() } }
        return stream
    }

    /// Closes the socket and ends every subscriber's stream.
    public func stop() {
        loop?.cancel()
        loop = nil
        finishAll()
    }

    private func unsubscribe(_ id: UUID) {
        subscribers[id] = nil
    }

    private func finishAll() {
        for continuation in subscribers.values { continuation.finish() }
        subscribers = [:]
        isConnected = false
    }

    private func broadcast(_ event: LiveEvent) {
        for continuation in subscribers.values { continuation.yield(event) }
    }

    private func run() async {
        var failures = 0
        var connectedBefore = false
        while !Task.isCancelled, let info = await session.current {
            do {
                try await connection(to: Self.url(of: info.serverURL)) {
                    if connectedBefore { broadcast(.resync) }
                    connectedBefore = true
                    failures = 0
                }
            } catch ClientError.sessionExpired, ClientError.notSignedIn {
                break
            } catch {
                // Dropped, refused or unreachable: try again after a while.
            }
            isConnected = false
            if Task.isCancelled { break }
            let delay = retryDelays[min(failures, retryDelays.count - 1)]
            failures += 1
            try? await Task.sleep(for: delay)
        }
        if !Task.isCancelled { finishAll() }
    }

    /// One socket, from sign-in to close.
    private func connection(to url: URL, ready: () -> Void) async throws {
        let connection = try await connector.connect(url)
        do {
            // A token about to expire would close the socket before its renewal could land: start with a fresh one.
            var token = try await session.accessToken()
            if let current = await session.current, current.accessTokenExpiresAt.timeIntervalSinceNow < Self.minimumTokenLife {
                token = try await session.refresh().accessToken
            }
            try await connection.send(Self.authFrame(token))
            guard let first = try await connection.receive(), case .ready(let expiresAt) = LiveFrame(first) else {
                throw ClientError.server(status: 0, detail: "The live connection was refused.")
            }
            isConnected = true
            ready()
            let renewal = Task { [session] in try await Self.keepSignedIn(connection, session: session, token: token, expiresAt: expiresAt) }
            defer { renewal.cancel() }
            reading: while let text = try await connection.receive() {
                switch LiveFrame(text) {
                case .event(let event): broadcast(event)
                case .closing: break reading
                case .ready, .other: continue
                }
            }
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
    }

    /// Sends a fresh access token over the socket shortly before the current one expires (the server closes the
    /// socket at the token's end otherwise). A token is fresh when it is not the one the socket holds: one the app
    /// refreshed meanwhile, or else one exchanged now.
    private static func keepSignedIn(_ connection: any LiveConnection, session: SessionManager, token: String, expiresAt: Date) async throws {
        var (held, expiresAt) = (token, expiresAt)
        while !Task.isCancelled {
            let left = expiresAt.timeIntervalSinceNow
            let lead = min(60, max(0.5, left / 2))
            try await Task.sleep(for: .milliseconds(Int(max(0, left - lead) * 1000)))
            guard let current = await session.current else { throw ClientError.notSignedIn }
            let fresh = current.accessToken != held && current.accessTokenExpiresAt.timeIntervalSinceNow > lead ? current : try await session.refresh()
            try await connection.send(authFrame(fresh.accessToken))
            (held, expiresAt) = (fresh.accessToken, fresh.accessTokenExpiresAt)
        }
    }

    /// A socket signs in with a token that has at least this long left (else it refreshes first).
    static let minimumTokenLife: TimeInterval = 30

    /// `ws(s)://host/api/v1/live` of the server the user signed in to.
    static func url(of server: URL) -> URL {
        var components = URLComponents(url: server, resolvingAgainstBaseURL: false)!
        components.scheme = components.scheme == "https" ? "wss" : "ws"
        let base = components.path.hasSuffix("/") ? String(components.path.dropLast()) : components.path
        components.path = base + "/api/v1/live"
        components.query = nil
        return components.url!
    }

    static func authFrame(_ token: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: ["type": "auth", "accessToken": token]), as: UTF8.self)
    }
}

/// A frame of the live socket, read.
enum LiveFrame {
    case ready(expiresAt: Date)
    case event(LiveEvent)
    /// `expired` or `error`: the server closes the socket next.
    case closing
    case other

    init(_ text: String) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any], let type = object["type"] as? String else {
            self = .other
            return
        }
        switch type {
        case "ready":
            self = (object["expiresAt"] as? String).flatMap(LiveFrame.date).map { .ready(expiresAt: $0) } ?? .other
        case "message":
            guard let message = object["message"] as? [String: Any], let id = message["id"] as? String, let thread = message["threadId"] as? String,
                let sender = message["senderId"] as? String, let body = message["body"] as? String,
                let sentAt = (message["sentAt"] as? String).flatMap(LiveFrame.date)
            else {
                self = .other
                return
            }
            self = .event(.message(id: id, threadId: thread, senderId: sender, body: body, sentAt: sentAt))
        case "read":
            guard let thread = object["threadId"] as? String, let user = object["userId"] as? String,
                let readAt = (object["readAt"] as? String).flatMap(LiveFrame.date)
            else {
                self = .other
                return
            }
            self = .event(.read(threadId: thread, userId: user, readAt: readAt))
        case "appointment":
            guard let id = object["appointmentId"] as? String else {
                self = .other
                return
            }
            self = .event(.appointment(id: id, change: object["change"] as? String ?? "updated"))
        case "resync": self = .event(.resync)
        case "expired", "error": self = .closing
        default: self = .other
        }
    }

    static func date(_ text: String) -> Date? {
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text) ?? ISO8601DateFormatter().date(from: text)
    }
}
