import EHRDomain
import Foundation

/// A change the sockets of some users should hear about, as one instance tells every instance (itself included)
/// through PostgreSQL's `NOTIFY`. Identifiers only: the receiving instance loads what a recipient may see, checks
/// the policy again and audits the delivery. PHI never crosses `NOTIFY` (its queue lives in PostgreSQL's files).
struct LiveSignal: Codable, Sendable, Equatable {
    enum Kind: String, Codable, Sendable {
        /// A new message in a thread.
        case message
        /// A participant marked a thread read (a read receipt).
        case read
        /// An appointment was booked, changed, cancelled or started.
        case appointment
        /// A televisit socket's frame for another socket (``TelevisitEnvelope``); not a user's event.
        case televisit
    }

    var kind: Kind
    var tenantID: UUID
    /// The users whose sockets get it.
    var recipients: [UUID]
    var threadID: UUID? = nil
    var messageID: UUID? = nil
    var readerID: UUID? = nil
    /// Milliseconds since 1970 (a read receipt's marker).
    var readAtMillis: Int64? = nil
    var appointmentID: UUID? = nil
    /// What happened to the appointment: `created`, `updated`, `cancelled`, `started`.
    var change: String? = nil
    var televisit: TelevisitEnvelope? = nil

    static let channel = "ehr_live"

    var encoded: String { String(decoding: try! JSONEncoder().encode(self), as: UTF8.self) }

    static func decode(_ payload: String) -> LiveSignal? {
        try? JSONDecoder().decode(LiveSignal.self, from: Data(payload.utf8))
    }
}
