import EHRDomain
import EHRPersistence
import EHRWire
import Foundation
import HTTPTypes
import HummingbirdWebSocket
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket

/// `GET /api/v1/live` upgraded to a WebSocket: new messages, read receipts and appointment changes of the signed-in
/// user as they happen, on whichever instance the change was made.
///
/// The protocol, in JSON text frames:
/// - the client's first frame, within 10 seconds: `{"type":"auth","accessToken":"…"}` (never a token in the URL,
///   where proxies and logs would keep it); the server answers `{"type":"ready","userId":…,"expiresAt":…}`, or
///   `{"type":"error",…}` and closes with 4401;
/// - the same frame again with a fresh access token of the same user extends the socket (`ready` again); when the
///   token expires without one, the server sends `{"type":"expired"}` and closes with 4401; a token of another
///   user closes it with 4403;
/// - `{"type":"ping"}` is answered `{"type":"pong"}`;
/// - server events: `message` (the message, as the API returns it), `read` (`threadId`, `userId`, `readAt`),
///   `appointment` (`appointmentId`, `change`, `status`), and `resync` (events may have been missed: fetch by cursor).
struct LiveSocket: Sendable {
    let services: AppServices
    static let path = "/api/v1/live"
    static let authTimeout: Duration = .seconds(10)
    static let maximumInboundFrame = 64 * 1024

    enum CloseCode {
        static let unauthenticated = WebSocketErrorCode.unknown(4401)
        static let otherUser = WebSocketErrorCode.unknown(4403)
        static let badFrame = WebSocketErrorCode.unknown(4400)
    }

    /// Upgrades only `GET /api/v1/live` exactly; anything else goes on to the router (which answers a plain GET of
    /// the path with 426 and every other spelling with 404).
    func shouldUpgrade(_ request: HTTPRequest, channel: any Channel) -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        guard request.method == .get, request.path == Self.path else { return .dontUpgrade }
        let clientIP = services.configuration.trustedProxies.clientAddress(
            peer: channel.remoteAddress?.ipAddress, forwardedFor: request.headerFields[values: .xForwardedFor])
        return .upgrade([:]) { inbound, outbound, _ in
            try await session(inbound: inbound, outbound: outbound, clientIP: clientIP)
        }
    }

    private struct ClientFrame: Decodable {
        var type: String
        var accessToken: String?
    }

    private func session(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, clientIP: String?) async throws {
        let (frames, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(1024))
        let connectionID = UUID()
        // Who the socket belongs to (nil until the first frame signs in) and until when.
        let state = NIOLockedValueBox<(principal: Principal?, expiresAt: Date)>((nil, Date().addingTimeInterval(Self.authTimeout.seconds)))
        defer {
            if let principal = state.withLockedValue({ $0.principal }) {
                services.live.unregister(LiveHub.Connection(id: connectionID, principal: principal, clientIP: clientIP) { _ in })
            }
            continuation.finish()
        }

        try await withThrowingTaskGroup(of: Void.self) { group in
            // The one writer of this socket.
            group.addTask {
                for await text in frames { try await outbound.writeTextMessage(text) }
            }
            // The client's frames: the sign-in, token renewals and pings.
            group.addTask {
                for try await message in inbound.messages(maxSize: Self.maximumInboundFrame) {
                    guard case .text(let text) = message, let frame = Self.decode(text) else {
                        try await outbound.close(CloseCode.badFrame, reason: "frames are JSON text")
                        return
                    }
                    let current = state.withLockedValue { $0.principal }
                    switch frame.type {
                    case "auth":
                        guard let token = frame.accessToken, let signedIn = await verify(token) else {
                            try await refuse(outbound, "the access token is invalid or expired")
                            return
                        }
                        if let current, current != signedIn.principal {
                            try await outbound.close(CloseCode.otherUser, reason: "a socket stays with the user who opened it")
                            return
                        }
                        let expiresAt = state.withLockedValue { state in
                            state.expiresAt = current == nil ? signedIn.expiresAt : max(state.expiresAt, signedIn.expiresAt)
                            state.principal = signedIn.principal
                            return state.expiresAt
                        }
                        if current == nil {
                            services.live.register(
                                LiveHub.Connection(id: connectionID, principal: signedIn.principal, clientIP: clientIP) { continuation.yield($0) })
                        }
                        continuation.yield(Self.ready(signedIn.principal, expiresAt))
                    case _ where current == nil:
                        try await refuse(outbound, "send {\"type\":\"auth\",\"accessToken\":…} first")
                        return
                    case "ping":
                        continuation.yield(#"{"type":"pong"}"#)
                    default:
                        continuation.yield(LiveDelivery.json(["type": "error", "code": "unknown-type", "message": "unknown frame type"]))
                    }
                }
            }
            // Sign in within the first seconds; then the token's end is the socket's end, unless a renewal moved it.
            group.addTask {
                while true {
                    let left = state.withLockedValue { $0.expiresAt }.timeIntervalSinceNow
                    if left <= 0 { break }
                    // Short naps: a sign-in moves the end nearer than the sign-in deadline this task may be sleeping towards.
                    try await Task.sleep(for: .milliseconds(Int(min(left, 0.5) * 1000) + 1))
                }
                if state.withLockedValue({ $0.principal }) == nil {
                    try await refuse(outbound, "no access token within \(Self.authTimeout.seconds) seconds")
                } else {
                    try await outbound.writeTextMessage(#"{"type":"expired"}"#)
                    try await outbound.close(CloseCode.unauthenticated, reason: "the access token expired")
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    private func verify(_ token: String) async -> (principal: Principal, expiresAt: Date)? {
        guard let principal = try? await services.tokens.verifyAccessToken(token), let expiresAt = TokenService.expiry(of: token) else { return nil }
        return (principal, expiresAt)
    }

    private func refuse(_ outbound: WebSocketOutboundWriter, _ message: String) async throws {
        try await outbound.writeTextMessage(LiveDelivery.json(["type": "error", "code": "unauthenticated", "message": message]))
        try await outbound.close(CloseCode.unauthenticated, reason: "unauthenticated")
    }

    private static func decode(_ text: String) -> ClientFrame? {
        try? JSONDecoder().decode(ClientFrame.self, from: Data(text.utf8))
    }

    private static func ready(_ principal: Principal, _ expiresAt: Date) -> String {
        LiveDelivery.json(["type": "ready", "userId": principal.userID.lowercasedString, "expiresAt": RFC3339.format(expiresAt)])
    }
}

extension Duration {
    /// Whole seconds.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
