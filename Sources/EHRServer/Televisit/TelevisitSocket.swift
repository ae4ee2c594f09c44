import EHRDomain
import EHRPersistence
import EHRWire
import Foundation
import HTTPTypes
import HummingbirdWebSocket
import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket

/// `GET /api/v1/televisit` upgraded to a WebSocket: the signaling of a televisit room. The appointment's therapist
/// and its client join with the join tokens `startTelevisit` handed them; the client waits until the therapist
/// admits them; then the socket relays WebRTC offers, answers and ICE candidates between exactly those two, on
/// whichever instances they joined through. Media never passes through the service.
///
/// The protocol, in JSON text frames:
/// - first, within 10 seconds: `{"type":"join","joinToken":"…"}`; answered
///   `{"type":"joined","roomId","appointmentId","role","admitted","endsAt","iceServers","peer"}` (`peer`: `absent`,
///   `waiting` or `joined`), or an `error` frame and a close: 4401 invalid or expired token, 4404 no such room for
///   this token's holder (another practice, not a participant), 4409 the seat is someone else's, 4410 the room is
///   closed (the appointment ended or was cancelled);
/// - the therapist: `{"type":"admit"}` lets the waiting client in (the client gets `{"type":"admitted"}`);
/// - both, once admitted: `{"type":"signal","kind":"offer"|"answer"|"ice","data":{…}}`, relayed to the other as
///   `{"type":"signal","from":"therapist"|"client","kind","data"}`;
/// - `{"type":"leave"}` closes (1000); `{"type":"ping"}` is answered `{"type":"pong"}`;
/// - server events: `{"type":"peer","role","state"}` (`waiting`, `joined`, `left`); `{"type":"closed","reason"}`
///   before close 4410 at the appointment's end; `{"type":"replaced"}` before close 4409 when the same user joined
///   from another device.
struct TelevisitSocket: Sendable {
    let services: AppServices
    static let path = "/api/v1/televisit"
    static let joinTimeout: TimeInterval = 10

    enum CloseCode {
        static let badFrame = WebSocketErrorCode.unknown(4400)
        static let unauthenticated = WebSocketErrorCode.unknown(4401)
        static let notFound = WebSocketErrorCode.unknown(4404)
        static let occupied = WebSocketErrorCode.unknown(4409)
        static let closed = WebSocketErrorCode.unknown(4410)
    }

    func shouldUpgrade(_ request: HTTPRequest, channel: any Channel) -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        guard request.method == .get, request.path == Self.path else { return .dontUpgrade }
        let clientIP = services.configuration.trustedProxies.clientAddress(
            peer: channel.remoteAddress?.ipAddress, forwardedFor: request.headerFields[values: .xForwardedFor])
        return .upgrade([:]) { inbound, outbound, _ in
            try await TelevisitSession(services: services, outbound: outbound, clientIP: clientIP).run(inbound)
        }
    }
}

/// Why a join was refused: the close code and what the `error` frame says.
struct TelevisitRefusal: Error {
    var code: WebSocketErrorCode
    var kind: String
    var message: String

    static let invalidToken = TelevisitRefusal(
        code: TelevisitSocket.CloseCode.unauthenticated, kind: "unauthenticated", message: "the join token is invalid or expired")
    static let noRoom = TelevisitRefusal(code: TelevisitSocket.CloseCode.notFound, kind: "not-found", message: "no such room")
    static let unavailable = TelevisitRefusal(
        code: .unexpectedServerError, kind: "unavailable", message: "the join could not be recorded; try again in a moment")
    static let roomClosed = TelevisitRefusal(code: TelevisitSocket.CloseCode.closed, kind: "closed", message: "the room is closed")
    static func occupied(_ role: TelevisitRole) -> TelevisitRefusal {
        TelevisitRefusal(code: TelevisitSocket.CloseCode.occupied, kind: "occupied", message: "the room already has its \(role.rawValue)")
    }
}
