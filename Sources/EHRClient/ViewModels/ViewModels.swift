import Foundation
import Observation

/// Sign-in screen: fields, progress and a typed error to show.
@MainActor @Observable
public final class SignInViewModel {
    public enum State: Equatable, Sendable {
        case idle
        case signingIn
        case signedIn(SessionInfo)
        case failed(ClientError)
    }

    public var server: String
    public var tenant = ""
    public var email = ""
    public var password = ""
    public private(set) var state: State = .idle
    let client: MentalSpaceClient

    public init(client: MentalSpaceClient, server: String = "http://127.0.0.1:8080") {
        self.client = client
        self.server = server
    }

    /// True when the form can be sent.
    public var canSubmit: Bool {
        URL(string: server)?.scheme != nil && !tenant.isEmpty && !email.isEmpty && !password.isEmpty && state != .signingIn
    }

    public func signIn() async {
        guard let url = URL(string: server.trimmingCharacters(in: .whitespaces)), url.scheme != nil else {
            state = .failed(.invalidRequest("Enter the server address, e.g. https://ehr.example.com."))
            return
        }
        state = .signingIn
        do {
            let info = try await client.signIn(
                server: url, tenant: tenant.trimmingCharacters(in: .whitespaces).lowercased(),
                email: email.trimmingCharacters(in: .whitespaces), password: password)
            password = ""
            state = .signedIn(info)
        } catch {
            state = .failed(error)
        }
    }
}

/// Upcoming appointments: loading, loaded, offline with the last sync time, or an error.
@MainActor @Observable
public final class AppointmentListViewModel {
    public enum State: Equatable, Sendable {
        case loading
        case loaded(AppointmentsSnapshot)
        /// The server is unreachable; the cached list (possibly empty) with when it was last synced.
        case offline(AppointmentsSnapshot)
        case failed(ClientError)
    }

    public private(set) var state: State = .loading
    let store: AppointmentsStore

    public init(store: AppointmentsStore) {
        self.store = store
    }

    /// Loads (or pull-to-refresh): from the server, or the cache when offline.
    public func refresh(now: Date = Date()) async {
        if case .failed = state { state = .loading }
        do {
            let snapshot = try await store.load(now: now)
            state = snapshot.isOffline ? .offline(snapshot) : .loaded(snapshot)
        } catch {
            state = .failed(error)
        }
    }

    /// Reloads whenever an appointment changes on the server, and after missed events, until the stream ends.
    public func listen(_ live: LiveEvents) async {
        for await event in await live.events() {
            switch event {
            case .appointment, .resync: await refresh()
            case .message, .read: continue
            }
        }
    }

    /// The network came back (NWPathMonitor on iOS): sync if the list is showing cached data.
    public func networkBecameAvailable(now: Date = Date()) async {
        if case .loaded = state { return }
        await refresh(now: now)
    }

    /// The banner text for the offline state, e.g. "Offline. Last updated 5 minutes ago.".
    public static func offlineBanner(_ snapshot: AppointmentsSnapshot, now: Date = Date()) -> String {
        guard let lastSync = snapshot.lastSync else { return "Offline. Not synced on this device yet." }
        let minutes = Int(now.timeIntervalSince(lastSync).rounded() / 60)
        let ago =
            minutes < 1
            ? "just now" : minutes < 60 ? "\(minutes) minute\(minutes == 1 ? "" : "s") ago" : "at \(lastSync.formatted(date: .abbreviated, time: .shortened))"
        return "Offline. Last updated \(ago)."
    }
}

/// The thread with the therapist: messages (delivered, read, or queued while offline), a draft and send.
@MainActor @Observable
public final class ChatViewModel {
    public private(set) var channel: ChatChannel?
    public private(set) var messages: [ChatMessage] = []
    public var draft = ""
    public private(set) var error: ClientError?
    /// Shown with the thread.
    public let notice = "Messages are encrypted and seen only by you and your therapist. Written offline, they are sent when you are back online."
    let chat: any ChatService

    public init(chat: any ChatService) {
        self.chat = chat
    }

    /// True when the draft has something to send.
    public var canSend: Bool { !draft.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }

    public func load() async {
        do {
            channel = try await chat.channel()
            messages = try await chat.messages()
            error = nil
        } catch {
            self.error = error
        }
    }

    /// Follows the thread live until the stream ends (sign-out) or the task is cancelled (the view went away).
    public func listen(_ live: LiveEvents) async {
        for await event in await live.events() {
            if let updated = await chat.receive(event) { messages = updated }
        }
    }

    public func send() async {
        do {
            try await chat.send(draft)
            draft = ""
            messages = try await chat.messages()
            error = nil
        } catch {
            self.error = error
        }
    }
}

/// The bell: scheduled reminders and the unread badge.
@MainActor @Observable
public final class NotificationsViewModel {
    public private(set) var reminders: [Reminder] = []
    public private(set) var badgeCount = 0
    let notifier: any Notifier

    public init(notifier: any Notifier) {
        self.notifier = notifier
    }

    public func load(now: Date = Date()) async {
        reminders = await notifier.scheduledReminders()
        badgeCount = await notifier.badgeCount(now: now)
    }

    /// Opening the bell marks what has fired as read.
    public func markAllRead(now: Date = Date()) async {
        await notifier.markAllRead(now: now)
        await load(now: now)
    }
}

/// A video session: joining, the waiting room, in the room with the other participant, or ended. The app's
/// WebRTC engine takes the ICE servers and the signals (``onSignal``) and gives its own to ``send(_:)``.
@MainActor @Observable
public final class VideoVisitViewModel {
    public enum State: Equatable, Sendable {
        case idle
        case joining
        /// The client waits for the therapist to let them in.
        case waiting
        /// In the room; `peer` is where the other participant is.
        case inRoom(peer: VideoVisitPeer)
        case ended(String)
        case failed(ClientError)
    }

    public private(set) var state: State = .idle
    public private(set) var role = ""
    public private(set) var iceServers: [VideoVisitICEServer] = []
    /// The last request the room refused (shown briefly).
    public private(set) var notice: String?
    /// Handed every offer, answer and candidate of the other participant.
    public var onSignal: (@MainActor (VideoVisitSignal) -> Void)?
    let visit: VideoVisit

    public init(visit: VideoVisit) {
        self.visit = visit
    }

    /// Joins the appointment's room and follows it until it ends.
    public func join(appointmentID: String) async {
        state = .joining
        let events: AsyncStream<VideoVisitEvent>
        do {
            events = try await visit.join(appointmentID: appointmentID)
        } catch {
            state = .failed(error)
            return
        }
        for await event in events { apply(event) }
    }

    /// The therapist admits the waiting client.
    public func admit() async {
        do { try await visit.admit() } catch { notice = error.message }
    }

    public func send(_ signal: VideoVisitSignal) async {
        do { try await visit.send(signal) } catch { notice = error.message }
    }

    public func leave() async {
        await visit.leave()
    }

    func apply(_ event: VideoVisitEvent) {
        switch event {
        case .joined(let role, let admitted, let peer, let servers):
            self.role = role
            iceServers = servers
            state = admitted ? .inRoom(peer: peer) : .waiting
        case .peer(let peer):
            if case .inRoom = state { state = .inRoom(peer: peer) }
        case .admitted:
            state = .inRoom(peer: .joined)
        case .signal(let signal):
            onSignal?(signal)
        case .refused(_, let message):
            notice = message
        case .ended(let reason):
            state = .ended(reason)
        }
    }
}
