import EHRAPI
import Foundation
import GRDB
import OpenAPIRuntime

/// One upcoming appointment as the app shows and caches it.
public struct UpcomingAppointment: Codable, Sendable, Equatable, Identifiable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "appointment"
    public var id: String
    public var startsAt: Date
    public var endsAt: Date
    /// The IANA zone it was booked in.
    public var timeZone: String
    public var status: String
    public var kind: String
    public var therapistId: String
    public var patientId: String
    public var reason: String?
}

extension UpcomingAppointment {
    /// "Video session" or "In person".
    public var kindLabel: String { kind == "televisit" ? "Video session" : "In person" }
    public var isVideoSession: Bool { kind == "televisit" }

    /// The status in words ("Scheduled", "In progress", "No show", …).
    public var statusLabel: String {
        let words = status.replacingOccurrences(of: "_", with: " ")
        return words.prefix(1).uppercased() + words.dropFirst()
    }

    init(_ a: Components.Schemas.Appointment) {
        id = a.id
        startsAt = a.startsAt
        endsAt = a.endsAt
        timeZone = a.timeZone
        status = a.status.rawValue
        kind = a.kind.rawValue
        therapistId = a.therapistId
        patientId = a.patientId
        reason = a.reason
    }
}

/// The list to show: from the server, or from the cache when offline, with the time of the last successful sync.
public struct AppointmentsSnapshot: Sendable, Equatable {
    public var appointments: [UpcomingAppointment]
    /// When the list last came from the server (nil: never synced on this device).
    public var lastSync: Date?
    /// True when the server could not be reached and the list comes from the cache.
    public var isOffline: Bool
}

/// Upcoming appointments, offline first: every sync replaces the cached list in one transaction; when the
/// server is unreachable the cached list is served with its sync time. Reminders follow every sync.
public actor AppointmentsStore {
    let api: APIClient
    let store: LocalStore
    let notifier: any Notifier

    public init(api: APIClient, store: LocalStore, notifier: any Notifier) {
        self.api = api
        self.store = store
        self.notifier = notifier
    }

    /// Fetches every page of `GET /api/v1/appointments?upcoming=true`, replaces the cache and reschedules reminders.
    /// - Throws: ``ClientError`` (`.offline` when the server cannot be reached).
    @discardableResult
    public func sync(now: Date = Date()) async throws(ClientError) -> AppointmentsSnapshot {
        let client = try await api.client()
        var items: [UpcomingAppointment] = []
        var cursor: String?
        repeat {
            let output: Operations.ListAppointments.Output
            do {
                output = try await client.listAppointments(query: .init(limit: 100, cursor: cursor, upcoming: true))
            } catch {
                throw ClientError.from(error)
            }
            switch output {
            case .ok(let ok):
                guard case .json(let page) = ok.body else { throw .server(status: 200, detail: nil) }
                items += page.items.map(UpcomingAppointment.init)
                cursor = page.nextCursor
            case .unauthorized: throw .sessionExpired
            case .badRequest(let response): throw .invalidRequest(SessionManager.detail(response.body) ?? "The request was not valid.")
            case .undocumented(let status, _): throw status == 410 ? .practiceUnavailable : .server(status: status, detail: nil)
            }
        } while cursor != nil
        let syncedAt = now
        do {
            try await store.queue.write { [items] db in
                try UpcomingAppointment.deleteAll(db)
                for item in items { try item.insert(db) }
                try db.execute(sql: "INSERT OR REPLACE INTO syncState (name, syncedAt) VALUES ('appointments', ?)", arguments: [syncedAt])
            }
        } catch {
            throw .server(status: 0, detail: "The appointments could not be saved on this device.")
        }
        // The service's reminders where it has them (it knows of moves and of the push switch); the local plan
        // elsewhere, and for everything when the reminders cannot be read.
        switch await serverReminders(client) {
        case .some((push: false, _)): await notifier.replaceReminders([])
        case .some((push: true, let server)): await notifier.replaceReminders(ReminderPlanner.reminders(for: items, server: server, now: now))
        case nil: await notifier.replaceReminders(ReminderPlanner.reminders(for: items, now: now))
        }
        return AppointmentsSnapshot(appointments: items, lastSync: syncedAt, isOffline: false)
    }

    /// `GET /api/v1/reminders`, or nil when it cannot be read.
    private func serverReminders(_ client: Client) async -> (push: Bool, items: [ServerReminder])? {
        guard let output = try? await client.listReminders(), case .ok(let ok) = output, case .json(let list) = ok.body else { return nil }
        let items = list.items.map { item in
            ServerReminder(
                appointmentId: item.appointmentId, appointmentStartsAt: item.appointmentStartsAt,
                label: item.kind == .appointmentReminder24h ? "24h" : "1h", dueAt: item.dueAt, title: item.title, body: item.body)
        }
        return (list.push, items)
    }

    /// The cached list (marked offline) without asking the server; appointments that have ended since are left out.
    public func cached(now: Date = Date()) throws -> AppointmentsSnapshot {
        try store.queue.read { db in
            let items = try UpcomingAppointment.filter(Column("endsAt") > now).order(Column("startsAt"), Column("id")).fetchAll(db)
            let lastSync = try Date.fetchOne(db, sql: "SELECT syncedAt FROM syncState WHERE name = 'appointments'")
            return AppointmentsSnapshot(appointments: items, lastSync: lastSync, isOffline: true)
        }
    }

    /// Syncs; when the server is unreachable, the cached list instead.
    public func load(now: Date = Date()) async throws(ClientError) -> AppointmentsSnapshot {
        do {
            return try await sync(now: now)
        } catch .offline {
            do { return try cached(now: now) } catch { throw .offline }
        }
    }
}
