import EHRAPI
import Foundation

/// A WebRTC signal between the two participants: a session description (`offer`, `answer`) or an ICE candidate
/// (`ice`), with its fields as the WebRTC engine gives and takes them.
public struct VideoVisitSignal: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case offer, answer, ice
    }

    public var kind: Kind
    /// `type` and `sdp` of a description; `candidate`, `sdpMid` and `sdpMLineIndex` (as text) of a candidate.
    public var fields: [String: String]

    public init(kind: Kind, fields: [String: String]) {
        self.kind = kind
        self.fields = fields
    }
}

/// Where the other participant is.
public enum VideoVisitPeer: String, Sendable, Equatable {
    case absent, waiting, joined, left
}

/// What the room tells a participant.
public enum VideoVisitEvent: Sendable, Equatable {
    /// In the room: `role` is `therapist` or `client`; a client starts out not admitted (the waiting room).
    case joined(role: String, admitted: Bool, peer: VideoVisitPeer, iceServers: [VideoVisitICEServer])
    case peer(VideoVisitPeer)
    /// The therapist let the client in.
    case admitted
    case signal(VideoVisitSignal)
    /// A request the room refused (the socket stays): `waiting`, `peer-not-ready`, `too-large`, …
    case refused(code: String, message: String)
    /// The room ended for this device: the appointment ended, the join was refused, another device took the seat,
    /// or the connection dropped.
    case ended(String)
}

/// An ICE server for the WebRTC engine (TURN credentials valid until the appointment ends).
public struct VideoVisitICEServer: Sendable, Equatable {
    public var urls: [String]
    public var username: String?
    public var credential: String?
}

/// A televisit's signaling for the signed-in participant: `startTelevisit` hands out a join token, the room's
/// socket (`/api/v1/televisit`) admits with it, and offers, answers and candidates go to the other participant.
/// Media goes peer to peer through the WebRTC engine of the app, never through the service.
public actor VideoVisit {
    let api: APIClient
    let connector: any LiveConnector
    private var connection: (any LiveConnection)?

    public init(api: APIClient, connector: any LiveConnector = URLSessionLiveConnector()) {
        self.api = api
        self.connector = connector
    }

    /// Starts (therapist) or joins (client) the appointment's televisit and opens its room; the events end when
    /// the room does.
    /// - Throws: ``ClientError`` when the visit cannot be started (`.invalidRequest` for a finished or in-person
    ///   appointment, `.offline`, …).
    public func join(appointmentID: String) async throws(ClientError) -> AsyncStream<VideoVisitEvent> {
        let client = try await api.client()
        let output: Operations.StartTelevisit.Output
        do { output = try await client.startTelevisit(path: .init(id: appointmentID)) } catch { throw ClientError.from(error) }
        let token: String
        switch output {
        case .ok(let ok):
            guard case .json(let pass) = ok.body else { throw .server(status: 200, detail: nil) }
            token = pass.joinToken
        case .notFound: throw .invalidRequest("This appointment has no video session for you.")
        case .conflict: throw .invalidRequest("This appointment cannot have a video session now.")
        case .unauthorized: throw .sessionExpired
        default: throw .server(status: 0, detail: "The video session could not be started.")
        }
        guard let server = await api.session.current?.serverURL else { throw .notSignedIn }
        let opened: any LiveConnection
        do {
            opened = try await connector.connect(Self.url(of: server))
            try await opened.send(Self.frame(["type": "join", "joinToken": token]))
        } catch {
            throw .offline
        }
        await connection?.close()
        connection = opened
        let (events, continuation) = AsyncStream.makeStream(of: VideoVisitEvent.self, bufferingPolicy: .bufferingNewest(512))
        Task {
            var ending = "The video session ended."
            while let text = try? await opened.receive() {
                guard let event = Self.event(text) else { continue }
                if case .ended(let reason) = event {
                    ending = reason
                    break
                }
                continuation.yield(event)
            }
            continuation.yield(.ended(ending))
            continuation.finish()
            await opened.close()
        }
        return events
    }

    /// The therapist lets the waiting client in.
    public func admit() async throws(ClientError) {
        try await send(["type": "admit"])
    }

    /// Sends a signal to the other participant (once both are in the room).
    public func send(_ signal: VideoVisitSignal) async throws(ClientError) {
        var data: [String: Any] = signal.fields
        if let index = signal.fields["sdpMLineIndex"].flatMap(Int.init) { data["sdpMLineIndex"] = index }
        try await send(["type": "signal", "kind": signal.kind.rawValue, "data": data])
    }

    /// Leaves the room (the other participant is told).
    public func leave() async {
        try? await send(["type": "leave"])
        await connection?.close()
        connection = nil
    }

    private func send(_ object: [String: Any]) async throws(ClientError) {
        guard let connection else { throw .invalidRequest("Join the video session first.") }
        do { try await connection.send(Self.frame(object)) } catch { throw .offline }
    }

    /// `ws(s)://host/api/v1/televisit`.
    static func url(of server: URL) -> URL {
        let live = LiveEvents.url(of: server)
        return live.deletingLastPathComponent().appendingPathComponent("televisit")
    }

    static func frame(_ object: [String: Any]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: object)) ?? Data(), as: UTF8.self)
    }

    static func event(_ text: String) -> VideoVisitEvent? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any], let type = object["type"] as? String else {
            return nil
        }
        switch type {
        case "joined":
            let servers = (object["iceServers"] as? [[String: Any]] ?? []).map { server in
                VideoVisitICEServer(
                    urls: server["urls"] as? [String] ?? [], username: server["username"] as? String, credential: server["credential"] as? String)
            }
            return .joined(
                role: object["role"] as? String ?? "", admitted: object["admitted"] as? Bool ?? false,
                peer: VideoVisitPeer(rawValue: object["peer"] as? String ?? "") ?? .absent, iceServers: servers)
        case "peer": return .peer(VideoVisitPeer(rawValue: object["state"] as? String ?? "") ?? .absent)
        case "admitted": return .admitted
        case "signal":
            guard let kind = (object["kind"] as? String).flatMap(VideoVisitSignal.Kind.init(rawValue:)), let data = object["data"] as? [String: Any]
            else { return nil }
            return .signal(VideoVisitSignal(kind: kind, fields: data.mapValues { "\($0)" }))
        case "error":
            let code = object["code"] as? String ?? "error"
            let message = object["message"] as? String ?? "The request was refused."
            // Refusals of the join end the room for this device; the others leave the socket open.
            let endsTheRoom = ["unauthenticated", "not-found", "occupied", "closed"].contains(code)
            return endsTheRoom ? .ended(message) : .refused(code: code, message: message)
        case "closed": return .ended(object["reason"] as? String ?? "The video session ended.")
        case "replaced": return .ended("You joined from another device.")
        default: return nil
        }
    }
}
