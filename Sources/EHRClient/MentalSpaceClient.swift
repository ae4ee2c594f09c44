import Foundation
import OpenAPIRuntime
import OpenAPIURLSession

/// Everything an app needs, wired once: the session, and per signed-in user the local store, the
/// appointments store, the chat (through the service, queued while offline) and the notifier.
public final class MentalSpaceClient: Sendable {
    /// Folder for the session (non-Apple platforms) and the per-user stores.
    public let home: URL
    public let session: SessionManager
    public let api: APIClient
    let makeNotifier: @Sendable (LocalStore) -> any Notifier
    /// The live socket (`/api/v1/live`), one per client, opened by the first subscriber.
    public let live: LiveEvents
    /// Video sessions (`/api/v1/televisit`).
    public let videoVisit: VideoVisit

    /// - Parameters:
    ///   - home: the app's private folder (see ``defaultHome()``).
    ///   - secureStore: where tokens live; default: Keychain on Apple platforms, `home/session.json` (0600) elsewhere.
    ///   - makeNotifier: the notifier for a user's store; default: local notifications on iOS, recorded elsewhere.
    ///   - liveConnector: how the live socket is opened; default: `URLSessionWebSocketTask`.
    public init(
        home: URL, secureStore: (any SecureStore)? = nil, transport: any ClientTransport = URLSessionTransport(),
        refreshMargin: TimeInterval = 60, makeNotifier: (@Sendable (LocalStore) -> any Notifier)? = nil,
        liveConnector: any LiveConnector = URLSessionLiveConnector()
    ) {
        self.home = home
        self.session = SessionManager(store: secureStore ?? Self.defaultSecureStore(home: home), transport: transport, refreshMargin: refreshMargin)
        self.api = APIClient(session: session, transport: transport)
        self.makeNotifier = makeNotifier ?? Self.defaultNotifier
        self.live = LiveEvents(session: session, connector: liveConnector)
        self.videoVisit = VideoVisit(api: api, connector: liveConnector)
    }

    /// `EHR_CLIENT_HOME`, else the user's config folder (`$XDG_CONFIG_HOME` or `~/.config`) on Linux and
    /// Application Support on Apple platforms, plus `mentalspace-ehr`.
    public static func defaultHome(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let home = environment["EHR_CLIENT_HOME"], !home.isEmpty { return URL(fileURLWithPath: home) }
        #if os(Linux)
            let config =
                environment["XDG_CONFIG_HOME"].map { URL(fileURLWithPath: $0) }
                ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".config")
            return config.appendingPathComponent("mentalspace-ehr")
        #else
            let support = FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask).first!
            return support.appendingPathComponent("mentalspace-ehr")
        #endif
    }

    static func defaultSecureStore(home: URL) -> any SecureStore {
        #if canImport(Security)
            return KeychainSecureStore()
        #else
            return FileSecureStore(url: home.appendingPathComponent("session.json"))
        #endif
    }

    static func defaultNotifier(_ store: LocalStore) -> any Notifier {
        #if canImport(UserNotifications) && os(iOS)
            return LocalNotificationNotifier(store: store)
        #else
            return RecordingNotifier(store: store)
        #endif
    }

    /// Signs in (see ``SessionManager/signIn(server:tenant:email:password:)``).
    @discardableResult
    public func signIn(server: URL, tenant: String, email: String, password: String) async throws(ClientError) -> SessionInfo {
        try await session.signIn(server: server, tenant: tenant, email: email, password: password)
    }

    /// Revokes the session on the server and wipes the tokens and the signed-in user's local store.
    public func signOut() async {
        await live.stop()
        await videoVisit.leave()
        if let info = await session.current {
            let url = storeURL(for: info)
            // Scheduled reminders go first (on iOS they live outside the store), then the store itself.
            if FileManager.default.fileExists(atPath: url.path), let store = try? LocalStore(url: url) {
                await makeNotifier(store).removeAll()
            }
            LocalStore.destroy(at: url)
        }
        await session.signOut()
    }

    /// The signed-in user's services (their own store file, per practice and user).
    public func userServices() async throws(ClientError) -> UserServices {
        guard let info = await session.current else { throw .notSignedIn }
        let store: LocalStore
        do { store = try LocalStore(url: storeURL(for: info)) } catch {
            throw .server(status: 0, detail: "The local store could not be opened.")
        }
        let notifier = makeNotifier(store)
        return UserServices(
            session: info, store: store, appointments: AppointmentsStore(api: api, store: store, notifier: notifier),
            chat: ServerChatService(api: api, store: store), notifier: notifier, live: live, videoVisit: videoVisit)
    }

    func storeURL(for info: SessionInfo) -> URL {
        home.appendingPathComponent("stores").appendingPathComponent("\(info.tenantID)-\(info.userID).sqlite")
    }
}

/// The services of the signed-in user.
public struct UserServices: Sendable {
    public let session: SessionInfo
    public let store: LocalStore
    public let appointments: AppointmentsStore
    public let chat: any ChatService
    public let notifier: any Notifier
    /// New messages, receipts and appointment changes as they happen (see ``LiveEvents``).
    public let live: LiveEvents
    /// The video session of an appointment (see ``VideoVisit``).
    public let videoVisit: VideoVisit
}
