import Foundation

/// The secure conversation about one patient: between the patient's portal account and the therapist the
/// patient is assigned to at the time. One per patient. Its participants are not stored: they follow the
/// patient record, so reassigning the patient hands the thread to the new therapist from then on.
public struct MessageThread: Sendable, Hashable {
    public var id: UUID
    public var tenantID: UUID
    public var patientID: UUID
    public var createdAt: Date
    /// When the newest message was sent; nil while the thread is empty.
    public var lastMessageAt: Date?

    public init(id: UUID = UUID(), tenantID: UUID, patientID: UUID, createdAt: Date, lastMessageAt: Date? = nil) {
        self.id = id
        self.tenantID = tenantID
        self.patientID = patientID
        self.createdAt = createdAt
        self.lastMessageAt = lastMessageAt
    }

    /// The order of the caller's thread list: newest activity first.
    public var activityAt: Date { lastMessageAt ?? createdAt }
}

/// A thread as one participant sees it: who is in it and how many messages they have not read.
public struct ThreadSummary: Sendable, Hashable {
    public var thread: MessageThread
    /// The patient's portal account (when there is one) and the assigned therapist.
    public var participants: [UUID]
    public var unreadCount: Int

    public init(thread: MessageThread, participants: [UUID], unreadCount: Int) {
        self.thread = thread
        self.participants = participants
        self.unreadCount = unreadCount
    }
}

/// One message of a thread. Its body is PHI: stored only as ciphertext under the practice's keys.
public struct Message: Sendable, Hashable {
    public var id: UUID
    public var tenantID: UUID
    public var threadID: UUID
    public var senderID: UUID
    public var body: String
    public var sentAt: Date

    public init(id: UUID = UUID(), tenantID: UUID, threadID: UUID, senderID: UUID, body: String, sentAt: Date) {
        self.id = id
        self.tenantID = tenantID
        self.threadID = threadID
        self.senderID = senderID
        self.body = body
        self.sentAt = sentAt
    }
}

extension Patient {
    /// The people who may read and write the patient's thread.
    public var threadParticipants: [UUID] { [userID, assignedTherapistID].compactMap { $0 } }
}
