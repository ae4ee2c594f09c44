import EHRClient
import SwiftUI

/// The app: one client core for the whole process. Sign-in until a session is stored on this device,
/// then the signed-in tabs.
@main
struct MentalSpaceApp: App {
    private let client = MentalSpaceClient(home: MentalSpaceClient.defaultHome())

    var body: some Scene {
        WindowGroup {
            RootView(client: client)
        }
    }
}

/// Chooses between the sign-in screen and the signed-in tabs from `session.current`.
@MainActor
struct RootView: View {
    enum Phase {
        case starting
        case signedOut
        case signedIn(UserServices)
        /// A session exists but the user's services could not be opened (e.g. the local store).
        case unavailable(ClientError)
    }

    let client: MentalSpaceClient
    @State private var phase: Phase = .starting

    var body: some View {
        // A ZStack (not a Group) so that `.task` runs once for the root, not once per branch.
        ZStack {
            switch phase {
            case .starting:
                ProgressView()
            case .signedOut:
                SignInView(client: client) {
                    await openSession()
                }
            case .signedIn(let services):
                HomeView(services: services) {
                    await signOut()
                }
            case .unavailable(let error):
                ContentUnavailableView {
                    Label("Your account could not be opened", systemImage: "exclamationmark.triangle")
                } description: {
                    Text(error.message)
                } actions: {
                    Button("Try Again") {
                        Task { await openSession() }
                    }
                    Button("Sign Out", role: .destructive) {
                        Task { await signOut() }
                    }
                }
            }
        }
        .task {
            await openSession()
        }
    }

    /// The tabs when a session is stored on this device, else the sign-in screen.
    private func openSession() async {
        guard await client.session.current != nil else {
            phase = .signedOut
            return
        }
        do {
            phase = .signedIn(try await client.userServices())
        } catch {
            phase = error == .notSignedIn ? .signedOut : .unavailable(error)
        }
    }

    private func signOut() async {
        await client.signOut()
        phase = .signedOut
    }
}
