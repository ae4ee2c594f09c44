import EHRDomain
import EHRPersistence
import EHRWire
import Foundation

/// Turns a ``LiveSignal`` into the frames of this process's sockets. Each recipient's right to the record is
/// checked again at delivery (a patient reassigned a moment ago takes their thread along), and a message body
/// delivered to a socket is a read of the patient's thread: it is audited (`message.deliver`) before it is sent,
/// and not sent when the event cannot be recorded.
struct LiveDelivery: Sendable {
    let services: AppServices

    func deliver(_ signal: LiveSignal) async {
        for recipient in Set(signal.recipients) {
            let sockets = services.live.connections(of: recipient, tenantID: signal.tenantID)
            guard let first = sockets.first else { continue }
            do {
                let frame = try await DatabaseScope.$current.withValue(.tenant(signal.tenantID)) {
                    try await self.frame(signal, for: first)
                }
                if let frame { for socket in sockets { socket.send(frame) } }
            } catch {
                services.logger.error("live delivery failed", metadata: ["error.type": "\(type(of: error))", "live.kind": "\(signal.kind.rawValue)"])
            }
        }
    }

    /// The frame `socket`'s user gets for `signal`, or nil when they may not see it (any more).
    func frame(_ signal: LiveSignal, for socket: LiveHub.Connection) async throws -> String? {
        let principal = socket.principal
        let store = services.store
        switch signal.kind {
        case .message:
            guard let messageID = signal.messageID, let message = try await store.findMessage(id: messageID, tenantID: principal.tenantID),
                let (thread, patient) = try await messagingPatient(message.threadID, principal)
            else { return nil }
            if let writer = services.auditWriter {
                try await writer.record(
                    AuditEventDraft(
                        tenantID: principal.tenantID, actorID: principal.userID.lowercasedString, actorRole: principal.role.rawValue,
                        action: "message.deliver", resourceType: "thread", resourceID: thread.id.lowercasedString, patientID: patient.id,
                        outcome: .allowed, requestID: "live-\(socket.id.lowercasedString)", clientIP: socket.clientIP,
                        detail: "message \(message.id.lowercasedString)"))
            }
            return Self.json([
                "type": "message",
                "message": [
                    "id": message.id.lowercasedString, "threadId": message.threadID.lowercasedString, "senderId": message.senderID.lowercasedString,
                    "body": message.body, "sentAt": RFC3339.format(message.sentAt),
                ],
            ])
        case .read:
            guard let threadID = signal.threadID, let readerID = signal.readerID, let millis = signal.readAtMillis,
                try await messagingPatient(threadID, principal) != nil
            else { return nil }
            return Self.json([
                "type": "read", "threadId": threadID.lowercasedString, "userId": readerID.lowercasedString,
                "readAt": RFC3339.format(Date(timeIntervalSince1970: Double(millis) / 1000)),
            ])
        case .appointment:
            guard let appointmentID = signal.appointmentID,
                let appointment = try await store.find(id: appointmentID, tenantID: principal.tenantID) as Appointment?,
                let patient = try await store.find(id: appointment.patientID, tenantID: principal.tenantID) as Patient?,
                AccessPolicy.canViewAppointment(principal, appointment, patient: patient)
            else { return nil }
            // Which appointment changed and how; the client reads it through the API (an audited read).
            return Self.json([
                "type": "appointment", "appointmentId": appointment.id.lowercasedString, "change": signal.change ?? "updated",
                "status": appointment.status.rawValue,
            ])
        case .televisit:
            // Televisit frames go to their room's sockets (TelevisitHub), never to a user's live socket.
            return nil
        }
    }

    /// The thread and its patient when `principal` may message about that patient now.
    private func messagingPatient(_ threadID: UUID, _ principal: Principal) async throws -> (MessageThread, Patient)? {
        guard let thread = try await services.store.findThread(id: threadID, tenantID: principal.tenantID),
            let patient = try await services.store.find(id: thread.patientID, tenantID: principal.tenantID) as Patient?,
            AccessPolicy.canMessage(principal, patient: patient)
        else { return nil }
        return (thread, patient)
    }

    static func json(_ object: [String: Any]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data(), as: UTF8.self)
    }
}

extension AppServices {
    /// Tells the sockets of `signal`'s recipients, on every instance, once the change is committed. A failure is
    /// logged, never the caller's: the change is stored, and a client that missed the event fetches it by cursor.
    func publish(_ signal: LiveSignal) async {
        switch database.dialect {
        case .postgres:
            do {
                try await database.notify(channel: LiveSignal.channel, payload: signal.encoded)
            } catch {
                logger.error("live event not published", metadata: ["error.type": "\(type(of: error))"])
            }
        case .sqlite:
            let services = self
            Task { await LiveDelivery(services: services).deliver(signal) }
        }
    }
}
