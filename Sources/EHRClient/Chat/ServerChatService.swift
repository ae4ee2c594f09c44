import EHRAPI
import Foundation
import GRDB

/// Secure messaging through the service (`/api/v1/threads`): the client's one thread with their therapist.
/// Messages written while offline wait on this device (``MessageDelivery/queued``) and are sent, in order, the
/// next time the thread is read or written online; what the server holds is cached here, so the thread reads
/// offline too. A message the therapist has read shows ``MessageDelivery/read``.
public actor ServerChatService: ChatService {
    let api: APIClient
    let store: LocalStore
    private var cached: ChatChannel?

    public init(api: APIClient, store: LocalStore) {
        self.api = api
        self.store = store
    }

    public func channel() async throws(ClientError) -> ChatChannel {
        if let cached { return cached }
        guard let session = await api.session.current else { throw .notSignedIn }
        guard let patientID = session.patientID else { throw .invalidRequest("Messaging in this app is for clients.") }
        do {
            let client = try await api.client()
            let output = try await client.openThread(body: .json(.init(patientId: patientID)))
            let thread: Components.Schemas.Thread
            switch output {
            case .ok(let ok):
                guard case .json(let body) = ok.body else { throw ClientError.server(status: 200, detail: nil) }
                thread = body
            case .created(let created):
                guard case .json(let body) = created.body else { throw ClientError.server(status: 201, detail: nil) }
                thread = body
            case .notFound: throw ClientError.invalidRequest("Messaging is not available for your record.")
            default: throw ClientError.server(status: 0, detail: "Your conversation could not be opened.")
            }
            let therapistID = thread.participants.first { $0 != session.userID } ?? ""
            let title = try await therapistName(client)
            let channel = ChatChannel(id: thread.id, title: title, therapistID: therapistID)
            try? await store.queue.write { db in
                // The stub's device-only channel (and its messages) give way to the server's thread.
                try ChatChannel.filter(Column("id") != channel.id).deleteAll(db)
                try channel.save(db)
            }
            cached = channel
            return channel
        } catch {
            let mapped = ClientError.from(error)
            // Known from an earlier session on this device: the thread reads offline.
            if mapped == .offline, let stored = try? await store.queue.read({ db in try ChatChannel.fetchOne(db) }), !stored.id.hasPrefix("dm:") {
                cached = stored
                return stored
            }
            throw mapped
        }
    }

    public func messages() async throws(ClientError) -> [ChatMessage] {
        let channel = try await channel()
        await flushQueue(channel)
        if let client = try? await api.client(),
            let output = try? await client.listMessages(path: .init(id: channel.id), query: .init(limit: 100)),
            case .ok(let ok) = output, case .json(let page) = ok.body
        {
            let me = await api.session.current?.userID
            let fetched = page.items.map { Self.local($0, channelID: channel.id, me: me) }
            try? await store.queue.write { db in for message in fetched { try message.save(db) } }
        }
        do {
            return try await store.queue.read { db in
                try ChatMessage.filter(Column("channelId") == channel.id).order(Column("sentAt"), Column("id")).fetchAll(db)
            }
        } catch { throw .server(status: 0, detail: "Messages could not be read on this device.") }
    }

    @discardableResult
    public func send(_ text: String) async throws(ClientError) -> ChatMessage {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .invalidRequest("A message cannot be empty.") }
        guard trimmed.count <= 10_000 else { throw .invalidRequest("A message can have at most 10,000 characters.") }
        let channel = try await channel()
        guard let session = await api.session.current else { throw .notSignedIn }
        let queued = ChatMessage(
            id: "queued:" + UUID().uuidString.lowercased(), channelId: channel.id, senderId: session.userID, text: trimmed, sentAt: Date(),
            delivery: .queued)
        do { try await store.queue.write { db in try queued.insert(db) } } catch {
            throw .server(status: 0, detail: "The message could not be saved on this device.")
        }
        if let sent = await flushQueue(channel)[queued.id] { return sent }
        let stored = try? await store.queue.read { db in try ChatMessage.fetchOne(db, key: queued.id) }
        return stored ?? queued
    }

    /// A message of the thread arriving live is cached (it reads offline like the rest); a receipt of the other
    /// participant marks one's own messages up to it read; a `resync` fetches what was missed.
    public func receive(_ event: LiveEvent) async -> [ChatMessage]? {
        guard let channel = try? await channel() else { return nil }
        let me = await api.session.current?.userID
        switch event {
        case .message(let id, let threadID, let senderID, let body, let sentAt):
            guard threadID == channel.id else { return nil }
            let message = ChatMessage(id: id, channelId: channel.id, senderId: senderID, text: body, sentAt: sentAt, delivery: .delivered)
            // Keep a receipt already recorded (the same message may also have come by cursor).
            try? await store.queue.write { db in if try ChatMessage.fetchOne(db, key: id) == nil { try message.insert(db) } }
        case .read(let threadID, let readerID, let readAt):
            guard threadID == channel.id, readerID != me, let me else { return nil }
            try? await store.queue.write { db in
                try ChatMessage.filter(
                    Column("channelId") == channel.id && Column("senderId") == me && Column("delivery") == MessageDelivery.delivered.rawValue
                        && Column("sentAt") <= readAt
                ).updateAll(db, Column("delivery").set(to: MessageDelivery.read.rawValue))
            }
        case .resync:
            return try? await messages()
        case .appointment:
            return nil
        }
        return try? await store.queue.read { db in
            try ChatMessage.filter(Column("channelId") == channel.id).order(Column("sentAt"), Column("id")).fetchAll(db)
        }
    }

    /// Sends the waiting messages in order; stops at the first that cannot go (offline: they wait). Returns what
    /// each sent one became, by its queued id.
    @discardableResult
    private func flushQueue(_ channel: ChatChannel) async -> [String: ChatMessage] {
        var sentByQueuedID: [String: ChatMessage] = [:]
        guard
            let waiting = try? await store.queue.read({ db in
                try ChatMessage.filter(Column("channelId") == channel.id && Column("delivery") == MessageDelivery.queued.rawValue)
                    .order(Column("sentAt"), Column("id")).fetchAll(db)
            }),
            let me = await api.session.current?.userID
        else { return sentByQueuedID }
        for message in waiting {
            guard let client = try? await api.client() else { return sentByQueuedID }
            let output: Operations.SendMessage.Output
            do { output = try await client.sendMessage(path: .init(id: channel.id), body: .json(.init(body: message.text))) } catch {
                return sentByQueuedID
            }
            switch output {
            case .created(let created):
                guard case .json(let sent) = created.body else { return sentByQueuedID }
                let delivered = Self.local(sent, channelID: channel.id, me: me)
                sentByQueuedID[message.id] = delivered
                try? await store.queue.write { db in
                    _ = try ChatMessage.deleteOne(db, key: message.id)
                    try delivered.save(db)
                }
            case .badRequest, .unprocessableContent, .contentTooLarge, .notFound:
                // The server will never take it: it stays on this device, marked as not delivered.
                try? await store.queue.write { db in
                    var failed = message
                    failed.delivery = .localOnly
                    try failed.save(db)
                }
            default:
                return sentByQueuedID
            }
        }
        return sentByQueuedID
    }

    private func therapistName(_ client: Client) async throws -> String {
        let output = try await client.listProviders()
        guard case .ok(let ok) = output, case .json(let page) = ok.body, let therapist = page.items.first else { return "Your therapist" }
        return therapist.displayName
    }

    /// The server's message as kept here. A receipt belongs to one's own messages: the therapist's show delivered.
    static func local(_ message: Components.Schemas.Message, channelID: String, me: String?) -> ChatMessage {
        ChatMessage(
            id: message.id, channelId: channelID, senderId: message.senderId, text: message.body, sentAt: message.sentAt,
            delivery: message.readAt != nil && message.senderId == me ? .read : .delivered)
    }
}
