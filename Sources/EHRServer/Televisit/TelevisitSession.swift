import EHRDomain
import EHRPersistence
import EHRWire
import Foundation
import HummingbirdWebSocket
import NIOConcurrencyHelpers
import NIOWebSocket

/// One participant's televisit socket: the join, the waiting room, the relay to the other seat, the seat's lease,
/// and the close at the appointment's end. See ``TelevisitSocket`` for the protocol.
final class TelevisitSession: Sendable {
    /// Who holds the socket once joined, and in which room.
    struct Participant: Sendable {
        var principal: Principal
        var role: TelevisitRole
        var roomID: String
        var appointment: Appointment
        var patientID: UUID
    }

    /// The other seat as this socket knows it.
    struct Peer: Sendable {
        var connectionID: UUID
        var admitted: Bool
    }

    private struct State: Sendable {
        var participant: Participant?
        var admitted = false
        var peer: Peer?
    }

    let services: AppServices
    let outbound: WebSocketOutboundWriter
    let clientIP: String?
    let connectionID = UUID()
    private let state = NIOLockedValueBox(State())
    private let frames: AsyncStream<String>
    private let framesContinuation: AsyncStream<String>.Continuation
    private let events: AsyncStream<(TelevisitEnvelope, String?)>
    private let eventsContinuation: AsyncStream<(TelevisitEnvelope, String?)>.Continuation

    init(services: AppServices, outbound: WebSocketOutboundWriter, clientIP: String?) {
        self.services = services
        self.outbound = outbound
        self.clientIP = clientIP
        (frames, framesContinuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(1024))
        (events, eventsContinuation) = AsyncStream.makeStream(of: (TelevisitEnvelope, String?).self, bufferingPolicy: .bufferingNewest(1024))
    }

    func run(_ inbound: WebSocketInboundStream) async throws {
        let joinDeadline = Date().addingTimeInterval(TelevisitSocket.joinTimeout)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                // The one writer of this socket.
                group.addTask { [frames, outbound] in
                    for await text in frames { try await outbound.writeTextMessage(text) }
                }
                group.addTask { try await self.read(inbound) }
                group.addTask { try await self.handleEvents() }
                group.addTask { try await self.keepSeat(joinDeadline: joinDeadline) }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            await leave()
            throw error
        }
        await leave()
    }

    private var participant: Participant? { state.withLockedValue { $0.participant } }

    // MARK: The participant's frames

    private func read(_ inbound: WebSocketInboundStream) async throws {
        for try await message in inbound.messages(maxSize: 64 * 1024) {
            guard case .text(let text) = message, let frame = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                let type = frame["type"] as? String
            else {
                try await outbound.close(TelevisitSocket.CloseCode.badFrame, reason: "frames are JSON objects with a type")
                return
            }
            guard let participant else {
                guard type == "join", let token = frame["joinToken"] as? String else {
                    return try await refuse(.invalidToken.with(message: "send {\"type\":\"join\",\"joinToken\":…} first"))
                }
                do {
                    try await join(token)
                } catch let refusal as TelevisitRefusal {
                    return try await refuse(refusal)
                }
                continue
            }
            switch type {
            case "admit": try await admit(participant)
            case "signal": await signal(frame, text: text, participant)
            case "leave":
                try await outbound.close(.normalClosure, reason: "left")
                return
            case "ping": send(["type": "pong"])
            case "join": sendError("already-joined", "this socket is in the room already")
            default: sendError("unknown-type", "unknown frame type")
            }
        }
    }

    private func join(_ token: String) async throws {
        let tokens = services.tokens
        guard let admission = try? await tokens.verifyTelevisitToken(token) else { throw TelevisitRefusal.invalidToken }
        let principal = admission.principal
        try await DatabaseScope.$current.withValue(.tenant(principal.tenantID)) {
            let store = services.store
            // A deactivated account's join token (issued before) admits nobody.
            guard try await (store.find(id: principal.userID, tenantID: principal.tenantID) as User?)?.active == true,
                let appointment = try await store.find(id: admission.appointmentID, tenantID: principal.tenantID) as Appointment?,
                let patient = try await store.find(id: appointment.patientID, tenantID: principal.tenantID) as Patient?,
                TelevisitRoom.id(of: appointment, keyID: tokens.keyID) == admission.roomID
            else { throw TelevisitRefusal.noRoom }
            guard let role = TelevisitRole.seat(of: principal, in: appointment, patient: patient) else {
                // A signed token whose holder is no longer a participant (the patient changed therapist).
                try? await audit("televisit.join", principal, appointment, patientID: patient.id, outcome: .denied, detail: "not a participant")
                throw TelevisitRefusal.noRoom
            }
            let now = Date()
            guard TelevisitRules.isOpen(appointment, at: now) else { throw TelevisitRefusal.roomClosed }
            let seat = TelevisitSeat(
                tenantID: principal.tenantID, roomID: admission.roomID, role: role, appointmentID: appointment.id, userID: principal.userID,
                connectionID: connectionID, admitted: role == .therapist, joinedAt: now, leaseUntil: now.addingTimeInterval(TelevisitRules.seatLease))
            // Registered before the seat is taken: the other seat may answer the moment it sees this one.
            services.televisit.register(connectionID) { [eventsContinuation] envelope, text in eventsContinuation.yield((envelope, text)) }
            guard case .seated(let replaced) = try await store.takeSeat(seat, now: now) else {
                services.televisit.unregister(connectionID)
                try? await audit("televisit.join", principal, appointment, patientID: patient.id, outcome: .denied, detail: "\(role.rawValue) seat taken")
                throw TelevisitRefusal.occupied(role)
            }
            let other = try await store.seat(tenantID: principal.tenantID, roomID: admission.roomID, role: role.other, now: now)
            let participant = Participant(principal: principal, role: role, roomID: admission.roomID, appointment: appointment, patientID: patient.id)
            state.withLockedValue {
                $0.participant = participant
                $0.admitted = seat.admitted
                $0.peer = other.map { Peer(connectionID: $0.connectionID, admitted: $0.admitted) }
            }
            do {
                try await audit("televisit.join", principal, appointment, patientID: patient.id, outcome: .allowed, detail: role.rawValue)
            } catch {
                // No join that the audit log cannot show: the seat is given up again.
                state.withLockedValue { $0.participant = nil }
                services.televisit.unregister(connectionID)
                try? await store.leaveSeat(connectionID: connectionID, tenantID: principal.tenantID)
                throw TelevisitRefusal.unavailable
            }
            if let replaced, replaced != connectionID { await tell(replaced, .replaced, participant) }
            let until = min(appointment.endsAt, now.addingTimeInterval(TelevisitRules.maximumTurnCredentialLifetime))
            send([
                "type": "joined", "roomId": admission.roomID, "appointmentId": appointment.id.wire, "role": role.rawValue, "admitted": seat.admitted,
                "endsAt": RFC3339.format(appointment.endsAt), "peer": Self.state(of: other),
                "iceServers": TurnCredentials(urls: services.configuration.turnURLs, secret: services.configuration.turnSecret)
                    .iceServers(for: connectionID, until: until),
            ])
            if let other { await tell(other.connectionID, .peer, participant, present: true, admitted: seat.admitted) }
        }
    }

    private func admit(_ participant: Participant) async throws {
        guard participant.role == .therapist else { return sendError("forbidden", "only the therapist admits") }
        do {
            try await audit("televisit.admit", participant.principal, participant.appointment, patientID: participant.patientID, outcome: .allowed, detail: nil)
        } catch {
            return sendError("unavailable", "the admission could not be recorded; try again")
        }
        let client = try await DatabaseScope.$current.withValue(.tenant(participant.principal.tenantID)) {
            try await services.store.admitClient(tenantID: participant.principal.tenantID, roomID: participant.roomID, now: Date())
        }
        guard let client else { return sendError("nobody-waiting", "no client is waiting") }
        state.withLockedValue { $0.peer = Peer(connectionID: client.connectionID, admitted: true) }
        await tell(client.connectionID, .admitted, participant)
        send(["type": "peer", "role": TelevisitRole.client.rawValue, "state": "joined"])
    }

    private func signal(_ frame: [String: Any], text: String, _ participant: Participant) async {
        guard let kind = (frame["kind"] as? String).flatMap(TelevisitSignalKind.init(rawValue:)) else {
            return sendError("bad-signal", "kind must be offer, answer or ice")
        }
        guard let data = frame["data"] as? [String: Any] else { return sendError("bad-signal", "data must be an object") }
        guard text.utf8.count <= TelevisitRules.maximumSignalBytes else {
            return sendError("too-large", "a signal is at most \(TelevisitRules.maximumSignalBytes) bytes")
        }
        let (admitted, peer) = state.withLockedValue { ($0.admitted, $0.peer) }
        guard admitted else { return sendError("waiting", "wait until the therapist admits you") }
        guard let peer, peer.admitted else { return sendError("peer-not-ready", "the other participant is not in the room") }
        let relayed = Self.json(["type": "signal", "from": participant.role.rawValue, "kind": kind.rawValue, "data": data])
        let envelope = TelevisitEnvelope(
            event: .signal, tenantID: participant.principal.tenantID, roomID: participant.roomID, to: peer.connectionID, from: connectionID,
            fromRole: participant.role)
        if await !services.relay(envelope, text: relayed) { sendError("unavailable", "the signal could not be relayed; send it again") }
    }

    // MARK: The other seat's events

    private func handleEvents() async throws {
        for await (envelope, text) in events {
            guard let participant, envelope.roomID == participant.roomID, envelope.tenantID == participant.principal.tenantID else { continue }
            switch envelope.event {
            case .replaced:
                return try await close(["type": "replaced"], TelevisitSocket.CloseCode.occupied, "joined from another device")
            case _ where envelope.fromRole != participant.role.other:
                continue
            case .peer:
                let present = envelope.present ?? false
                let admitted = envelope.admitted ?? false
                guard state.withLockedValue({ Self.take(envelope.from, present: present, admitted: admitted, into: &$0) }) else { continue }
                send(["type": "peer", "role": envelope.fromRole.rawValue, "state": present ? (admitted ? "joined" : "waiting") : "left"])
            case .admitted:
                guard participant.role == .client else { continue }
                state.withLockedValue {
                    $0.admitted = true
                    $0.peer = Peer(connectionID: envelope.from, admitted: true)
                }
                send(["type": "admitted"])
            case .signal:
                // Only from the seat this socket knows, and only once admitted: nothing reaches a client in the waiting room.
                let accepted = state.withLockedValue { $0.admitted && $0.peer?.connectionID == envelope.from }
                if accepted, let text { framesContinuation.yield(text) }
            }
        }
    }

    /// Applies the other seat's notice to `state`; false when the notice is stale and is dropped. Notices from
    /// another instance cross PostgreSQL and can arrive after what this socket did meanwhile: a client's "waiting"
    /// after this therapist admitted that very connection (admission never goes back for a connection), or a
    /// "left" of a connection the seat has since been taken from.
    private static func take(_ from: UUID, present: Bool, admitted: Bool, into state: inout State) -> Bool {
        if present {
            if let peer = state.peer, peer.connectionID == from, peer.admitted, !admitted { return false }
            state.peer = Peer(connectionID: from, admitted: admitted)
            return true
        }
        if let peer = state.peer, peer.connectionID != from { return false }
        state.peer = nil
        return true
    }

    // MARK: The seat's lease and the room's end

    /// Before the join: the join deadline. After: renews the seat, and re-reads the appointment and the policy, at
    /// least every ``TelevisitRules/seatRenewal`` and at the appointment's end; closes when the room closed, the
    /// caller is no longer a participant, or another socket took the seat.
    private func keepSeat(joinDeadline: Date) async throws {
        while participant == nil {
            if Date() >= joinDeadline {
                return try await refuse(.invalidToken.with(message: "no join token within \(Int(TelevisitSocket.joinTimeout)) seconds"))
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        while let participant {
            let left = participant.appointment.endsAt.timeIntervalSinceNow
            try await Task.sleep(for: .milliseconds(Int(max(0, min(TelevisitRules.seatRenewal, left)) * 1000) + 1))
            let tenantID = participant.principal.tenantID
            let store = services.store
            let connectionID = self.connectionID
            let (appointment, patient, renewed) = try await DatabaseScope.$current.withValue(.tenant(tenantID)) {
                let active = try await (store.find(id: participant.principal.userID, tenantID: tenantID) as User?)?.active == true
                let appointment = try await store.find(id: participant.appointment.id, tenantID: tenantID) as Appointment?
                let patient = try await appointment.asyncMap { try await store.find(id: $0.patientID, tenantID: tenantID) as Patient? } ?? nil
                let renewed = try await store.renewSeat(
                    connectionID: connectionID, tenantID: tenantID, until: Date().addingTimeInterval(TelevisitRules.seatLease))
                return (active ? appointment : nil, patient, renewed)
            }
            guard renewed else { return try await close(["type": "replaced"], TelevisitSocket.CloseCode.occupied, "the seat was taken") }
            guard let appointment, let patient, TelevisitRole.seat(of: participant.principal, in: appointment, patient: patient) == participant.role,
                TelevisitRules.isOpen(appointment, at: Date())
            else {
                let ended = appointment.map { Date() >= $0.endsAt } ?? false
                let reason = ended ? "the appointment has ended" : "the room is closed"
                return try await close(["type": "closed", "reason": reason], TelevisitSocket.CloseCode.closed, "the room is closed")
            }
            state.withLockedValue { $0.participant?.appointment = appointment }
        }
    }

    /// Frees the seat and tells the other seat, once the socket ended however it ended.
    private func leave() async {
        framesContinuation.finish()
        eventsContinuation.finish()
        services.televisit.unregister(connectionID)
        // A socket that outlives the service (cancelled as it stops) leaves its seat to lapse with its lease.
        guard let participant, services.database.isOpen else { return }
        let tenantID = participant.principal.tenantID
        let store = services.store
        let connectionID = self.connectionID
        let other = try? await DatabaseScope.$current.withValue(.tenant(tenantID)) {
            () async throws -> TelevisitSeat? in
            // A socket that was replaced holds no seat: the same user is still in the room through the new one.
            guard try await store.leaveSeat(connectionID: connectionID, tenantID: tenantID) else { return nil }
            return try await store.seat(tenantID: tenantID, roomID: participant.roomID, role: participant.role.other, now: Date())
        }
        if let other { await tell(other.connectionID, .peer, participant, present: false, admitted: false) }
        try? await audit("televisit.leave", participant.principal, participant.appointment, patientID: participant.patientID, outcome: .allowed, detail: nil)
    }

    // MARK: Helpers

    private func tell(
        _ to: UUID, _ event: TelevisitEnvelope.Event, _ participant: Participant, present: Bool? = nil, admitted: Bool? = nil
    ) async {
        await services.relay(
            TelevisitEnvelope(
                event: event, tenantID: participant.principal.tenantID, roomID: participant.roomID, to: to, from: connectionID,
                fromRole: participant.role, present: present, admitted: admitted))
    }

    /// Records a televisit event; throws when it cannot be recorded (a join and an admission then do not happen).
    private func audit(_ action: String, _ principal: Principal, _ appointment: Appointment, patientID: UUID, outcome: AuditOutcome, detail: String?)
        async throws
    {
        guard let writer = services.auditWriter else { return }
        do {
            try await writer.record(
                AuditEventDraft(
                    tenantID: principal.tenantID, actorID: principal.userID.lowercasedString, actorRole: principal.role.rawValue, action: action,
                    resourceType: "appointment", resourceID: appointment.id.lowercasedString, patientID: patientID, outcome: outcome,
                    requestID: "televisit-\(connectionID.lowercasedString)", clientIP: clientIP, detail: detail))
        } catch {
            services.logger.error("televisit audit failed", metadata: ["error.type": "\(type(of: error))", "audit.action": "\(action)"])
            throw error
        }
    }

    private func refuse(_ refusal: TelevisitRefusal) async throws {
        try await close(["type": "error", "code": refusal.kind, "message": refusal.message], refusal.code, refusal.kind)
    }

    /// Writes a last frame straight to the socket (not behind queued ones: it ends the room for this socket) and closes.
    private func close(_ last: [String: Any], _ code: WebSocketErrorCode, _ reason: String) async throws {
        try await outbound.writeTextMessage(Self.json(last))
        try await outbound.close(code, reason: reason)
    }

    private func send(_ object: [String: Any]) { framesContinuation.yield(Self.json(object)) }

    private func sendError(_ code: String, _ message: String) { send(["type": "error", "code": code, "message": message]) }

    private static func state(of seat: TelevisitSeat?) -> String {
        guard let seat else { return "absent" }
        return seat.admitted ? "joined" : "waiting"
    }

    static func json(_ object: [String: Any]) -> String { LiveDelivery.json(object) }
}

extension TelevisitRefusal {
    func with(message: String) -> TelevisitRefusal {
        var copy = self
        copy.message = message
        return copy
    }
}

extension Optional {
    fileprivate func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
