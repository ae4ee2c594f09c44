import Foundation

/// What the signaling relay carries between the two seats: WebRTC's session descriptions and ICE candidates,
/// nothing else. Media goes peer to peer (or through a TURN relay), never through the server.
public enum TelevisitSignalKind: String, Sendable, Codable, CaseIterable {
    case offer
    case answer
    case ice
}

/// Limits and timings of a televisit room.
public enum TelevisitRules {
    /// A room is open while its appointment may hold a televisit and has not ended.
    public static func isOpen(_ appointment: Appointment, at now: Date) -> Bool {
        appointment.kind == .televisit && AppointmentWorkflow.canStartTelevisit(appointment.status) && now < appointment.endsAt
    }

    /// The largest signaling frame relayed (a session description with many candidates stays well below).
    public static let maximumSignalBytes = 32 * 1024

    /// How long a seat is held without its socket renewing it: a server that died mid-call frees its seats
    /// after this, so the participant can come back through another instance.
    public static let seatLease: TimeInterval = 30

    /// How often a socket renews its seat, re-reading the appointment and the policy as it does.
    public static let seatRenewal: TimeInterval = 10

    /// The longest a TURN credential handed to a participant lives (it ends with the appointment, sooner).
    public static let maximumTurnCredentialLifetime: TimeInterval = 4 * 3600
}
