import EHRDomain
import Foundation

extension UseCases {
    /// The patient's thread, created on first use, as the caller sees it. Only the patient's portal account and
    /// their assigned therapist get it; anyone else gets 404 exactly as for a patient that does not exist.
    /// - Returns: the thread and whether this call created it.
    func openThread(_ principal: Principal, patientID raw: String?) async throws -> (ThreadSummary, created: Bool) {
        var v = Validator()
        let patientID = v.uuid(raw, "patientId")
        if raw?.isEmpty ?? true { v.add("patientId", "is required") }
        try v.check()
        guard let patient = try await store.find(id: patientID!, tenantID: principal.tenantID) as Patient? else { throw DomainError.notFound }
        audit?.patient(patient.id)
        guard AccessPolicy.canMessage(principal, patient: patient) else { throw DomainError.forbidden }
        var thread = try await store.findThread(patientID: patient.id, tenantID: principal.tenantID)
        var created = false
        if thread == nil {
            // Of two first opens racing, only the one whose id was stored created the thread.
            let newID = UUID()
            thread = try await store.thread(forPatient: patient.id, tenantID: principal.tenantID, at: now, newID: newID)
            created = thread?.id == newID
            if created { audit?.changed(["patientId"]) }
        }
        guard let thread else { throw DomainError.notFound }
        audit?.resource(thread.id)
        let unread = try await store.unreadCount(threadID: thread.id, userID: principal.userID, tenantID: principal.tenantID)
        return (ThreadSummary(thread: thread, participants: patient.threadParticipants, unreadCount: unread), created)
    }

    /// The caller's threads, newest activity first. Admins have none: they never read messages.
    func threads(_ principal: Principal, page: PageRequest) async throws -> Page<ThreadSummary> {
        guard let scope = AccessPolicy.threadScope(principal) else { return Page(items: [], next: nil) }
        let result = try await store.listThreads(scope: scope, readerID: principal.userID, page: page)
        audit?.listed(patients: result.items.map(\.thread.patientID))
        return result
    }

    /// The thread and its patient, if the caller is one of its participants; otherwise 404.
    func thread(_ principal: Principal, id: UUID) async throws -> (MessageThread, Patient) {
        guard let thread = try await store.findThread(id: id, tenantID: principal.tenantID),
            let patient = try await store.find(id: thread.patientID, tenantID: principal.tenantID) as Patient?
        else { throw DomainError.notFound }
        audit?.patient(patient.id)
        guard AccessPolicy.canMessage(principal, patient: patient) else { throw DomainError.forbidden }
        return (thread, patient)
    }

    /// A page of the thread's messages, newest first.
    func messages(_ principal: Principal, threadID: UUID, page: PageRequest) async throws -> Page<ReadableMessage> {
        let (thread, _) = try await thread(principal, id: threadID)
        return try await store.messages(threadID: thread.id, tenantID: principal.tenantID, page: page)
    }

    /// Sends a message to the thread (its sender has read it).
    func sendMessage(_ principal: Principal, threadID: UUID, body: String?) async throws -> (Message, MessageThread, Patient) {
        let (thread, patient) = try await thread(principal, id: threadID)
        var v = Validator()
        let body = v.messageBody(body)
        try v.check()
        let message = Message(tenantID: principal.tenantID, threadID: thread.id, senderID: principal.userID, body: body!, sentAt: now)
        audit?.changed(["body"])
        audit?.detail("message \(message.id.lowercasedString)")
        try await store.send(message, notifying: patient.threadParticipants)
        await services.publish(
            LiveSignal(kind: .message, tenantID: principal.tenantID, recipients: patient.threadParticipants, threadID: thread.id, messageID: message.id))
        return (message, thread, patient)
    }

    /// Marks the thread read up to now for the caller.
    func markThreadRead(_ principal: Principal, threadID: UUID) async throws -> (readAt: Date, unread: Int, MessageThread, Patient) {
        let (thread, patient) = try await thread(principal, id: threadID)
        audit?.changed(["readAt"])
        let readAt = try await store.markRead(threadID: thread.id, userID: principal.userID, tenantID: principal.tenantID, at: now)
        let unread = try await store.unreadCount(threadID: thread.id, userID: principal.userID, tenantID: principal.tenantID)
        await services.publish(
            LiveSignal(
                kind: .read, tenantID: principal.tenantID, recipients: patient.threadParticipants, threadID: thread.id, readerID: principal.userID,
                readAtMillis: Int64((readAt.timeIntervalSince1970 * 1000).rounded())))
        return (readAt, unread, thread, patient)
    }
}
