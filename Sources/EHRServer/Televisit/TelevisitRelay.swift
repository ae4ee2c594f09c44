import Crypto
import EHRDomain
import EHRPersistence
import EHRWire
import Foundation
import NIOConcurrencyHelpers

/// Televisit rooms are named from the appointment and the service's signing key: stable for both participants,
/// not guessable, and never the appointment id itself. Admission is by the signed join token, not by the name.
enum TelevisitRoom {
    static func id(of appointment: Appointment, keyID: String) -> String {
        let digest = SHA256.hash(data: Data("televisit:\(keyID):\(appointment.tenantID.wire):\(appointment.id.wire)".utf8))
        return digest.prefix(12).map { String(format: "%02x", $0) }.joined()
    }
}

/// What one televisit socket tells the other, addressed to a socket (`to`) on whichever instance holds it.
struct TelevisitEnvelope: Codable, Sendable, Equatable {
    enum Event: String, Codable, Sendable {
        /// The sender's seat changed: it joined (waiting or admitted) or left.
        case peer
        /// The therapist let the waiting client in.
        case admitted
        /// A WebRTC offer, answer or ICE candidate (the frame travels sealed, in parts when long).
        case signal
        /// The same user joined again elsewhere; the addressed socket closes.
        case replaced
    }

    var event: Event
    var tenantID: UUID
    var roomID: String
    var to: UUID
    var from: UUID
    var fromRole: TelevisitRole
    /// `peer`: whether the sender is in the room and admitted.
    var present: Bool? = nil
    var admitted: Bool? = nil
    /// `signal`: one part of the sealed frame.
    var frameID: UUID? = nil
    var part: Int? = nil
    var parts: Int? = nil
    var sealed: String? = nil
}

/// The televisit sockets of this process, by socket id, and the relay between instances. Frames cross PostgreSQL's
/// `NOTIFY` sealed under the practice's keys (an SDP names the participants' network addresses), split in parts
/// that fit its 8,000-byte payload and sent in one transaction, so they arrive together and in order.
final class TelevisitHub: Sendable {
    typealias Receiver = @Sendable (TelevisitEnvelope, String?) -> Void

    /// Characters of a sealed frame per notification (the rest of the payload is the envelope).
    static let partLength = 6000
    private let receivers = NIOLockedValueBox<[UUID: Receiver]>([:])
    private let partial = NIOLockedValueBox<[UUID: (parts: [String], started: Date)]>([:])

    init() {}

    func register(_ connectionID: UUID, _ receiver: @escaping Receiver) {
        receivers.withLockedValue { $0[connectionID] = receiver }
    }

    func unregister(_ connectionID: UUID) {
        _ = receivers.withLockedValue { $0.removeValue(forKey: connectionID) }
    }

    var count: Int { receivers.withLockedValue { $0.count } }

    /// An envelope that arrived through `NOTIFY`: parts are collected, the frame opened, and the socket handed it.
    func receive(_ envelope: TelevisitEnvelope, vault: KeyVault) async {
        guard let receiver = receivers.withLockedValue({ $0[envelope.to] }) else { return }
        guard envelope.event == .signal else { return receiver(envelope, nil) }
        guard let frameID = envelope.frameID, let part = envelope.part, let parts = envelope.parts, let sealed = envelope.sealed,
            (1...64).contains(parts), (0..<parts).contains(part)
        else { return }
        let complete: String? = partial.withLockedValue { partial in
            // Parts of one frame arrive together; anything older was cut off by a lost connection.
            let now = Date()
            partial = partial.filter { now.timeIntervalSince($0.value.started) < 60 }
            var entry = partial[frameID] ?? ([], now)
            guard entry.parts.count == part else {
                partial[frameID] = nil
                return nil
            }
            entry.parts.append(sealed)
            if entry.parts.count == parts {
                partial[frameID] = nil
                return entry.parts.joined()
            }
            partial[frameID] = entry
            return nil
        }
        guard let complete else { return }
        let text = try? await DatabaseScope.$current.withValue(.tenant(envelope.tenantID)) {
            try await vault.keys(for: envelope.tenantID).open(complete, "televisit", "signal", row: frameID)
        }
        if let text { receiver(envelope, text) }
    }

    /// Hands an envelope to a socket of this process (one instance on SQLite), in the caller's order.
    func deliverLocally(_ envelope: TelevisitEnvelope, _ text: String?) {
        receivers.withLockedValue { $0[envelope.to] }?(envelope, text)
    }
}

extension AppServices {
    /// Sends `envelope` (with the signal frame `text`) to its socket, on this instance or another. Returns false
    /// when it could not be sent (the database is unreachable): the sender is told, nothing is retried.
    @discardableResult
    func relay(_ envelope: TelevisitEnvelope, text: String? = nil) async -> Bool {
        guard database.dialect == .postgres else {
            televisit.deliverLocally(envelope, text)
            return true
        }
        do {
            var parts = [envelope]
            if let text {
                let frameID = UUID()
                let sealed = try await DatabaseScope.$current.withValue(.tenant(envelope.tenantID)) {
                    try await vault.keys(for: envelope.tenantID).seal(text, "televisit", "signal", row: frameID)
                }
                let chunks = stride(from: 0, to: sealed.count, by: TelevisitHub.partLength).map { start in
                    let from = sealed.index(sealed.startIndex, offsetBy: start)
                    return String(sealed[from..<(sealed.index(from, offsetBy: TelevisitHub.partLength, limitedBy: sealed.endIndex) ?? sealed.endIndex)])
                }
                parts = chunks.enumerated().map { index, chunk in
                    var part = envelope
                    (part.frameID, part.part, part.parts, part.sealed) = (frameID, index, chunks.count, chunk)
                    return part
                }
            }
            let payloads = parts.map { LiveSignal(kind: .televisit, tenantID: envelope.tenantID, recipients: [], televisit: $0).encoded }
            try await database.notify(channel: LiveSignal.channel, payloads: payloads)
            return true
        } catch {
            logger.error("televisit relay failed", metadata: ["error.type": "\(type(of: error))"])
            return false
        }
    }
}
