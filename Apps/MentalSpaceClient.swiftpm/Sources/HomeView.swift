import EHRClient
import Network
import SwiftUI
import UserNotifications

/// The signed-in app: appointments and chat tabs, the notification bell and sign-out.
/// The view models live here so they outlive tab switches.
@MainActor
struct HomeView: View {
    let services: UserServices
    let onSignOut: @MainActor () async -> Void

    @State private var appointments: AppointmentListViewModel
    @State private var chat: ChatViewModel
    @State private var notifications: NotificationsViewModel
    @State private var showingNotifications = false
    @State private var confirmingSignOut = false
    @Environment(\.scenePhase) private var scenePhase

    init(services: UserServices, onSignOut: @escaping @MainActor () async -> Void) {
        self.services = services
        self.onSignOut = onSignOut
        _appointments = State(initialValue: AppointmentListViewModel(store: services.appointments))
        _chat = State(initialValue: ChatViewModel(chat: services.chat))
        _notifications = State(initialValue: NotificationsViewModel(notifier: services.notifier))
    }

    var body: some View {
        TabView {
            NavigationStack {
                AppointmentsView(model: appointments, videoVisit: services.videoVisit, onSignInAgain: onSignOut)
                    .toolbar { toolbarItems }
            }
            .tabItem { Label("Appointments", systemImage: "calendar") }

            if services.session.hasTherapistChat {
                NavigationStack {
                    ChatView(model: chat, currentUserID: services.session.userID)
                        .toolbar { toolbarItems }
                }
                .tabItem { Label("Messages", systemImage: "bubble.left.and.bubble.right") }
            }
        }
        .sheet(isPresented: $showingNotifications, onDismiss: {
            // Opening the bell marks what has fired as read (the badge clears when the sheet closes).
            Task { await notifications.markAllRead() }
        }) {
            NotificationsView(model: notifications)
        }
        .confirmationDialog("Sign out of MentalSpace?", isPresented: $confirmingSignOut, titleVisibility: .visible) {
            Button("Sign Out", role: .destructive) {
                Task { await onSignOut() }
            }
        } message: {
            Text("Your appointments and messages are removed from this device.")
        }
        .task {
            await appointments.refresh()
        }
        .task {
            await notifications.load()
        }
        .task {
            // Appointment changes made at the practice show at once; missed events resync the list.
            await appointments.listen(services.live)
        }
        .task {
            // New messages and read receipts arrive over the live socket while the app is open.
            if services.session.hasTherapistChat { await chat.listen(services.live) }
        }
        .task {
            await requestNotificationPermission()
        }
        .task {
            await resyncWhenNetworkReturns()
        }
        .onChange(of: appointments.state) {
            // Every sync replaces the reminders: refresh the badge.
            Task { await notifications.load() }
        }
        .onChange(of: scenePhase) { _, phase in
            if phase == .active {
                Task { await notifications.load() }
            }
        }
    }

    @ToolbarContentBuilder
    private var toolbarItems: some ToolbarContent {
        ToolbarItem(placement: .topBarLeading) {
            Menu {
                Text(services.session.displayName)
                Text(services.session.email)
                Divider()
                Button("Sign Out", systemImage: "rectangle.portrait.and.arrow.right", role: .destructive) {
                    confirmingSignOut = true
                }
            } label: {
                Label("Account", systemImage: "person.crop.circle")
            }
        }
        ToolbarItem(placement: .topBarTrailing) {
            NotificationBell(count: notifications.badgeCount) {
                showingNotifications = true
            }
        }
    }

    /// Platform glue: ask once for permission to show the appointment reminders the core schedules.
    /// The system prompts only the first time; later calls return the stored answer.
    private func requestNotificationPermission() async {
        _ = try? await UNUserNotificationCenter.current().requestAuthorization(options: [.alert, .sound])
    }

    /// Platform glue: when the device gets a usable network path again, hand over to the view model,
    /// which re-syncs if it is showing cached data. The first path is the current state, not a change.
    private func resyncWhenNetworkReturns() async {
        var wasSatisfied = true
        for await path in NWPathMonitor() {
            let satisfied = path.status == .satisfied
            if satisfied && !wasSatisfied {
                await appointments.networkBecameAvailable()
            }
            wasSatisfied = satisfied
        }
    }
}

/// The bell with the unread count. Drawn as an overlay: `.badge(_:)` is only rendered in tab bars and
/// lists on iOS 17, not on toolbar buttons.
struct NotificationBell: View {
    let count: Int
    let action: () -> Void

    var body: some View {
        Button(action: action) {
            Image(systemName: "bell")
                .overlay(alignment: .topTrailing) {
                    if count > 0 {
                        Text(count, format: .number)
                            .font(.caption2.bold())
                            .monospacedDigit()
                            .foregroundStyle(.white)
                            .padding(.horizontal, 5)
                            .padding(.vertical, 1)
                            .background(Capsule().fill(Color.red))
                            .offset(x: 10, y: -8)
                    }
                }
        }
        .accessibilityLabel("Notifications")
        .accessibilityValue(Text(count, format: .number))
    }
}
