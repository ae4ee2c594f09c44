import EHRClient
import SwiftUI

/// The bell's sheet: the appointment reminders the core has scheduled, soonest first.
/// `HomeView` marks them read when the sheet closes.
struct NotificationsView: View {
    let model: NotificationsViewModel
    @Environment(\.dismiss) private var dismiss

    var body: some View {
        NavigationStack {
            List(model.reminders) { reminder in
                ReminderRow(reminder: reminder)
            }
            .overlay {
                if model.reminders.isEmpty {
                    ContentUnavailableView(
                        "No reminders",
                        systemImage: "bell.slash",
                        description: Text("Reminders for your upcoming appointments appear here.")
                    )
                }
            }
            .navigationTitle("Notifications")
            .navigationBarTitleDisplayMode(.inline)
            .toolbar {
                ToolbarItem(placement: .confirmationAction) {
                    Button("Done") { dismiss() }
                }
            }
            .task {
                await model.load()
            }
        }
    }
}

private struct ReminderRow: View {
    let reminder: Reminder

    var body: some View {
        VStack(alignment: .leading, spacing: 4) {
            HStack(spacing: 6) {
                if reminder.isUnread() {
                    Circle().fill(.tint).frame(width: 8, height: 8).accessibilityLabel("Unread")
                }
                Text(reminder.title)
                    .font(.headline)
            }
            Text(reminder.body)
            HStack(spacing: 4) {
                Text(reminder.fireAt, format: .dateTime.weekday(.abbreviated).hour().minute())
                Text("·")
                Text(reminder.fireAt, format: .relative(presentation: .named))
            }
            .font(.caption)
            .foregroundStyle(.secondary)
        }
        .padding(.vertical, 2)
        .accessibilityElement(children: .combine)
    }
}
