import EHRClient
import SwiftUI

/// Upcoming appointments: loading, the synced list, the cached list under an offline banner, or an error.
/// Pull to refresh; the first load and the re-sync when the network returns are started by `HomeView`.
struct AppointmentsView: View {
    let model: AppointmentListViewModel
    /// Video sessions of this user (a row of a video appointment links to its room).
    let videoVisit: VideoVisit
    /// Used when the session has ended: sign out and show the sign-in screen.
    let onSignInAgain: @MainActor () async -> Void

    var body: some View {
        content
            .navigationTitle("Appointments")
    }

    @ViewBuilder
    private var content: some View {
        switch model.state {
        case .loading:
            ProgressView("Loading appointments…")
                .frame(maxWidth: .infinity, maxHeight: .infinity)
        case .loaded(let snapshot):
            AppointmentList(snapshot: snapshot, showsOfflineBanner: false, videoVisit: videoVisit) {
                await model.refresh()
            }
        case .offline(let snapshot):
            AppointmentList(snapshot: snapshot, showsOfflineBanner: true, videoVisit: videoVisit) {
                await model.refresh()
            }
        case .failed(let error):
            ContentUnavailableView {
                Label("Appointments unavailable", systemImage: "exclamationmark.triangle")
            } description: {
                Text(error.message)
            } actions: {
                if error == .sessionExpired || error == .notSignedIn {
                    Button("Sign In Again") {
                        Task { await onSignInAgain() }
                    }
                    .buttonStyle(.borderedProminent)
                } else {
                    Button("Try Again") {
                        Task { await model.refresh() }
                    }
                    .buttonStyle(.borderedProminent)
                }
            }
        }
    }
}

/// The list itself, with the offline banner pinned above it.
private struct AppointmentList: View {
    let snapshot: AppointmentsSnapshot
    let showsOfflineBanner: Bool
    let videoVisit: VideoVisit
    let refresh: @MainActor () async -> Void

    var body: some View {
        List {
            if snapshot.appointments.isEmpty {
                ContentUnavailableView(
                    "No upcoming appointments",
                    systemImage: "calendar",
                    description: Text("Pull down to refresh.")
                )
                .listRowBackground(Color.clear)
            } else {
                ForEach(snapshot.appointments) { appointment in
                    AppointmentRow(appointment: appointment)
                    if appointment.isVideoSession && appointment.status != "cancelled" && !showsOfflineBanner {
                        NavigationLink {
                            VideoVisitView(model: VideoVisitViewModel(visit: videoVisit), appointmentID: appointment.id)
                        } label: {
                            Label("Join video session", systemImage: "video.fill")
                        }
                    }
                }
            }
        }
        .safeAreaInset(edge: .top, spacing: 0) {
            if showsOfflineBanner {
                OfflineBanner(snapshot: snapshot)
            }
        }
        .refreshable {
            await refresh()
        }
    }
}

/// "Offline. Last updated 5 minutes ago." — the text is the core's; the view only re-renders it every 30 s.
private struct OfflineBanner: View {
    let snapshot: AppointmentsSnapshot

    var body: some View {
        TimelineView(.periodic(from: .now, by: 30)) { context in
            Label(AppointmentListViewModel.offlineBanner(snapshot, now: context.date), systemImage: "wifi.slash")
                .font(.subheadline.weight(.medium))
                .frame(maxWidth: .infinity, alignment: .leading)
                .padding(.horizontal)
                .padding(.vertical, 10)
                .background(Color.yellow.opacity(0.3))
        }
        .accessibilityElement(children: .combine)
    }
}

/// One appointment. Day and times are shown in the zone the appointment was booked in, with the zone's
/// abbreviation, so they match what the practice booked whatever zone the phone is in.
private struct AppointmentRow: View {
    let appointment: UpcomingAppointment

    var body: some View {
        VStack(alignment: .leading, spacing: 4) {
            Text(appointment.startsAt, format: dayStyle)
                .font(.headline)
            Text("\(appointment.startsAt.formatted(timeStyle)) – \(appointment.endsAt.formatted(timeWithZoneStyle))")
                .font(.subheadline)
            HStack(spacing: 12) {
                Label(appointment.kindLabel, systemImage: appointment.isVideoSession ? "video" : "person.2")
                Text(appointment.statusLabel)
            }
            .font(.caption)
            .foregroundStyle(.secondary)
            if let reason = appointment.reason, !reason.isEmpty {
                Text(reason)
                    .font(.callout)
                    .foregroundStyle(.secondary)
            }
        }
        .padding(.vertical, 4)
        .accessibilityElement(children: .combine)
    }

    // Formatting only: the appointment's own IANA zone (the device's if the identifier is unknown).
    private var zone: TimeZone {
        TimeZone(identifier: appointment.timeZone) ?? .autoupdatingCurrent
    }

    private var dayStyle: Date.FormatStyle {
        var style = Date.FormatStyle.dateTime.weekday(.wide).month(.wide).day()
        style.timeZone = zone
        return style
    }

    private var timeStyle: Date.FormatStyle {
        var style = Date.FormatStyle.dateTime.hour().minute()
        style.timeZone = zone
        return style
    }

    private var timeWithZoneStyle: Date.FormatStyle {
        var style = Date.FormatStyle.dateTime.hour().minute().timeZone(.specificName(.short))
        style.timeZone = zone
        return style
    }
}
