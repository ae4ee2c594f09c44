import EHRAPI
import Foundation
import GRDB

/// A direct-message channel between a client and their therapist.
public struct ChatChannel: Codable, Sendable, Equatable, Identifiable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "chatChannel"
    public var id: String
    public var title: String
    public var therapistID: String
}

/// Whether a message reached the server.
public enum MessageDelivery: String, Codable, Sendable {
    /// Kept on this device only: never delivered (written with the device-only stub, or refused by the server).
    case localOnly = "local-only"
    /// Written offline: sent the next time the thread is read or written online.
    case queued
    /// The server holds it.
    case delivered
    /// The other participant has read it.
    case read
}

public struct ChatMessage: Codable, Sendable, Equatable, Identifiable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "chatMessage"
    public var id: String
    public var channelId: String
    public var senderId: String
    public var text: String
    public var sentAt: Date
    public var delivery: MessageDelivery
}

/// Secure messaging with the care team.
public protocol ChatService: Sendable {
    /// The client's DM channel with their assigned therapist.
    func channel() async throws(ClientError) -> ChatChannel
    func messages() async throws(ClientError) -> [ChatMessage]
    @discardableResult
    func send(_ text: String) async throws(ClientError) -> ChatMessage
    /// Takes in a live event: the thread's messages as they are now when it changed them, else nil.
    func receive(_ event: LiveEvent) async -> [ChatMessage]?
}

/// The stub: one hard-coded DM channel to the assigned therapist (looked up once from `GET /api/v1/providers`,
/// which shows a client only their own therapist), messages stored on this device and marked
/// ``MessageDelivery/localOnly`` — nothing is sent anywhere.
public actor StubChatService: ChatService {
    let api: APIClient
    let store: LocalStore
    private var cached: ChatChannel?

    public init(api: APIClient, store: LocalStore) {
        self.api = api
        self.store = store
    }

    public func channel() async throws(ClientError) -> ChatChannel {
        if let cached { return cached }
        // Known from an earlier session on this device: works offline too.
        if let stored = try? await store.queue.read({ db in try ChatChannel.fetchOne(db) }) {
            cached = stored
            return stored
        }
        guard let session = await api.session.current else { throw .notSignedIn }
        let client = try await api.client()
        let output: Operations.ListProviders.Output
        do { output = try await client.listProviders() } catch { throw ClientError.from(error) }
        guard case .ok(let ok) = output, case .json(let page) = ok.body else { throw .server(status: 0, detail: "Your therapist could not be found.") }
        guard let therapist = page.items.first else { throw .invalidRequest("No therapist is assigned to you yet.") }
        let channel = ChatChannel(id: "dm:\(session.userID):\(therapist.id)", title: therapist.displayName, therapistID: therapist.id)
        _ = try? await store.queue.write { db in try channel.insert(db) }
        cached = channel
        return channel
    }

    public func messages() async throws(ClientError) -> [ChatMessage] {
        let channel = try await channel()
        do {
            return try await store.queue.read { db in
                try ChatMessage.filter(Column("channelId") == channel.id).order(Column("sentAt"), Column("id")).fetchAll(db)
            }
        } catch { throw .server(status: 0, detail: "Messages could not be read on this device.") }
    }

    /// Nothing reaches the device-only stub.
    public func receive(_ event: LiveEvent) async -> [ChatMessage]? { nil }

    @discardableResult
    public func send(_ text: String) async throws(ClientError) -> ChatMessage {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .invalidRequest("A message cannot be empty.") }
        guard trimmed.count <= 4000 else { throw .invalidRequest("A message can have at most 4,000 characters.") }
        let channel = try await channel()
        guard let session = await api.session.current else { throw .notSignedIn }
        let message = ChatMessage(
            id: UUID().uuidString.lowercased(), channelId: channel.id, senderId: session.userID, text: trimmed,
            sentAt: Date(), delivery: .localOnly)
        do { try await store.queue.write { db in try message.insert(db) } } catch {
            throw .server(status: 0, detail: "The message could not be saved on this device.")
        }
        return message
    }
}
