import EHRDomain
import Foundation
import SQLKit
import SQLiteNIO

struct AppointmentRow: Codable, Sendable, Equatable {
    var id: UUID
    var tenantId: UUID
    var patientId: UUID
    var therapistId: UUID
    var startsAt: Date
    var endsAt: Date
    var timeZone: String
    var status: String
    var kind: String
    var reason: String?
    var cancellationReason: String?
    var createdAt: Date
    var updatedAt: Date

    // Explicit column names: SQLKit's automatic snake-case conversion costs more than the query on lists.
    enum CodingKeys: String, CodingKey {
        case id
        case tenantId = "tenant_id"
        case patientId = "patient_id"
        case therapistId = "therapist_id"
        case startsAt = "starts_at"
        case endsAt = "ends_at"
        case timeZone = "time_zone"
        case status
        case kind
        case reason
        case cancellationReason = "cancellation_reason"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    func appointment(_ keys: TenantKeys) throws -> Appointment {
        guard let status = AppointmentStatus(rawValue: status) else { throw StorageError.corrupt("appointments.status") }
        guard let kind = AppointmentKind(rawValue: kind) else { throw StorageError.corrupt("appointments.kind") }
        return Appointment(
            id: id, tenantID: tenantId, patientID: patientId, therapistID: therapistId, startsAt: startsAt, endsAt: endsAt,
            timeZone: timeZone, status: status, kind: kind, reason: try keys.open(reason, "appointments", "reason", row: id),
            cancellationReason: try keys.open(cancellationReason, "appointments", "cancellation_reason", row: id),
            createdAt: createdAt, updatedAt: updatedAt)
    }
}

extension AppointmentRow {
    /// A row of the embedded database from its columns' values in ``SQLStore/columns`` order (see
    /// ``EHRDatabase/preparedRows(_:)``): SQLite keeps ids as text, and `Codable` decoding read them through
    /// Foundation's `sscanf`-based parser (with `SQLRowDecoder`, 10.7% of the server's samples in
    /// `PROFILE_DB=sqlite bench/profile`). `TherapistListTests` holds it to the `Codable` decoding on real rows.
    init(columns: [SQLiteData]) throws {
        guard columns.count == 13 else { throw StorageError.corrupt("appointments") }
        func text(_ index: Int, _ name: String) throws -> String {
            guard case .text(let text) = columns[index] else { throw StorageError.corrupt("appointments.\(name)") }
            return text
        }
        func optionalText(_ index: Int, _ name: String) throws -> String? {
            if case .null = columns[index] { return nil }
            return try text(index, name)
        }
        func id(_ index: Int, _ name: String) throws -> UUID {
            guard let id = UUID(parsing: try text(index, name)) else { throw StorageError.corrupt("appointments.\(name)") }
            return id
        }
        func date(_ index: Int, _ name: String) throws -> Date {
            guard let date = Date(sqliteData: columns[index]) else { throw StorageError.corrupt("appointments.\(name)") }
            return date
        }
        self.init(
            id: try id(0, "id"), tenantId: try id(1, "tenant_id"), patientId: try id(2, "patient_id"), therapistId: try id(3, "therapist_id"),
            startsAt: try date(4, "starts_at"), endsAt: try date(5, "ends_at"), timeZone: try text(6, "time_zone"), status: try text(7, "status"),
            kind: try text(8, "kind"), reason: try optionalText(9, "reason"), cancellationReason: try optionalText(10, "cancellation_reason"),
            createdAt: try date(11, "created_at"), updatedAt: try date(12, "updated_at"))
    }
}

extension SQLStore: AppointmentRepository {
    /// The columns of ``AppointmentRow``, in its order (the prepared list uses the same).
    static let columns =
        "a.id, a.tenant_id, a.patient_id, a.therapist_id, a.starts_at, a.ends_at, a.time_zone, a.status, a.kind, a.reason, a.cancellation_reason, a.created_at, a.updated_at"

    public func find(id: UUID, tenantID: UUID) async throws -> Appointment? {
        guard
            let row = try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM appointments a WHERE a.tenant_id = \(bind: tenantID) AND a.id = \(bind: id)")
                .first(decoding: AppointmentRow.self, with: Self.decoder)
        else { return nil }
        return try await opening(tenantID) { try row.appointment($0) }
    }

    public func list(scope: AppointmentScope, filter: AppointmentFilter, page: PageRequest) async throws -> Page<Appointment> {
        if case .therapist(let tenant, let therapist) = scope, let now = filter.upcomingAfter,
            filter == AppointmentFilter(upcomingAfter: now),
            let fast = try await PostgresFastRows.appointments(
                UpcomingForTherapist(tenantID: tenant, therapistID: therapist, now: now, after: page.after, limit: page.limit + 1), on: database)
        {
            return try await appointmentPage(fast, limit: page.limit, tenantID: tenant)
        }
        let tenant: UUID
        let query: SQLQueryString
        let rest = Self.conditions(filter, after: page.after) + " ORDER BY a.starts_at, a.id LIMIT \(literal: page.limit + 1)"
        switch scope {
        case .tenant(let tenantID):
            tenant = tenantID
            query = "SELECT \(unsafeRaw: Self.columns) FROM appointments a WHERE a.tenant_id = \(bind: tenantID)" + rest
        case .therapist(let tenantID, let therapistID) where database.dialect == .sqlite:
            tenant = tenantID
            query = Self.sqliteTherapistList(tenantID: tenantID, therapistID: therapistID, rest: rest, limit: page.limit + 1)
        case .therapist(let tenantID, let therapistID):
            // Theirs, or their patient's with someone else: two ordered index reads (see AppointmentCareTherapist),
            // never one scan filtered by an OR.
            tenant = tenantID
            query =
                "SELECT * FROM (SELECT \(unsafeRaw: Self.columns) FROM appointments a WHERE a.tenant_id = \(bind: tenantID) AND a.therapist_id = \(bind: therapistID)"
                + rest
                + ") AS mine UNION ALL SELECT * FROM (SELECT \(unsafeRaw: Self.columns) FROM appointments a WHERE a.tenant_id = \(bind: tenantID)"
                + " AND a.care_therapist_id = \(bind: therapistID) AND a.care_therapist_id <> a.therapist_id" + rest
                + ") AS theirs ORDER BY starts_at, id LIMIT \(literal: page.limit + 1)"
        case .portalUser(let tenantID, let userID):
            tenant = tenantID
            query =
                "SELECT \(unsafeRaw: Self.columns) FROM appointments a WHERE a.tenant_id = \(bind: tenantID) AND a.patient_id IN (SELECT id FROM patients WHERE tenant_id = \(bind: tenantID) AND user_id = \(bind: userID))"
                + rest
        }
        let rows =
            if let prepared = try await database.preparedRows(query) {
                try prepared.map(AppointmentRow.init(columns:))
            } else {
                try await reads.raw(query).all(decoding: AppointmentRow.self, with: Self.decoder)
            }
        return try await appointmentPage(rows, limit: page.limit, tenantID: tenant)
    }

    /// SQLite's therapist scope: the same two ordered index reads as PostgreSQL's general path, naming row ids only;
    /// the outer query reads the columns of at most twice a page by row id. SQLite prepares every statement anew
    /// (sqlite-nio keeps no statement cache), and with two subqueries of every column preparing took about as long
    /// as running: 193 → 152 µs to prepare and run on the bench's practice (Python's sqlite3 without its statement
    /// cache, best of five). `rest`: the conditions, order and limit of each arm.
    static func sqliteTherapistList(tenantID: UUID, therapistID: UUID, rest: SQLQueryString, limit: Int) -> SQLQueryString {
        "SELECT \(unsafeRaw: columns) FROM appointments a WHERE a.rowid IN (SELECT rowid FROM (SELECT a.rowid FROM appointments a"
            + " WHERE a.tenant_id = \(bind: tenantID) AND a.therapist_id = \(bind: therapistID)" + rest
            + ") UNION ALL SELECT rowid FROM (SELECT a.rowid FROM appointments a WHERE a.tenant_id = \(bind: tenantID)"
            + " AND a.care_therapist_id = \(bind: therapistID) AND a.care_therapist_id <> a.therapist_id" + rest
            + ")) ORDER BY a.starts_at, a.id LIMIT \(literal: limit)"
    }

    /// The filter's conditions on `a`, each starting with AND.
    private static func conditions(_ filter: AppointmentFilter, after cursor: PageCursor?) -> SQLQueryString {
        var query: SQLQueryString = ""
        if let from = filter.from { query += " AND a.starts_at >= \(bind: from)" }
        if let to = filter.to { query += " AND a.starts_at < \(bind: to)" }
        if let therapist = filter.therapistID { query += " AND a.therapist_id = \(bind: therapist)" }
        if let patient = filter.patientID { query += " AND a.patient_id = \(bind: patient)" }
        if let status = filter.status { query += " AND a.status = \(bind: status.rawValue)" }
        if let now = filter.upcomingAfter {
            // No appointment lasts longer than the maximum, so "ends after now" also bounds the start: the
            // ordered index can then skip the past instead of filtering it.
            query +=
                " AND a.ends_at > \(bind: now) AND a.starts_at > \(bind: now.addingTimeInterval(-AppointmentRules.maximumDuration)) AND a.status NOT IN ('cancelled', 'completed', 'no_show')"
        }
        if let cursor {
            query += " AND (a.starts_at, a.id) > (\(bind: cursor.key), \(bind: cursor.id))"
        }
        return query
    }

    private func appointmentPage(_ rows: [AppointmentRow], limit: Int, tenantID: UUID) async throws -> Page<Appointment> {
        let items = try await opening(tenantID) { keys in try rows.prefix(limit).map { try $0.appointment(keys) } }
        let next = rows.count > limit ? items.last.map { PageCursor(key: $0.startsAt, id: $0.id) } : nil
        return Page(items: items, next: next)
    }

    public func create(_ a: Appointment) async throws {
        let keys = try await vault.keys(for: a.tenantID)
        let reason = try keys.seal(a.reason, "appointments", "reason", row: a.id)
        let cancellation = try keys.seal(a.cancellationReason, "appointments", "cancellation_reason", row: a.id)
        try await writeGuardingOverlap(a) { db in
            try await db.raw(
                """
                INSERT INTO appointments (id, tenant_id, patient_id, therapist_id, starts_at, ends_at, time_zone, status, kind, reason,
                    cancellation_reason, created_at, updated_at, key_version)
                VALUES (\(bind: a.id), \(bind: a.tenantID), \(bind: a.patientID), \(bind: a.therapistID), \(bind: millisecondPrecision(a.startsAt)),
                    \(bind: millisecondPrecision(a.endsAt)), \(bind: a.timeZone), \(bind: a.status.rawValue), \(bind: a.kind.rawValue),
                    \(bind: reason), \(bind: cancellation), \(bind: millisecondPrecision(a.createdAt)), \(bind: millisecondPrecision(a.updatedAt)),
                    \(bind: keys.currentVersion))
                """
            ).run()
        }
    }

    public func update(_ a: Appointment) async throws {
        let keys = try await vault.keys(for: a.tenantID)
        let reason = try keys.seal(a.reason, "appointments", "reason", row: a.id)
        let cancellation = try keys.seal(a.cancellationReason, "appointments", "cancellation_reason", row: a.id)
        try await writeGuardingOverlap(a) { db in
            try await Self.updateAppointment(a, reason: reason, cancellation: cancellation, keyVersion: keys.currentVersion, on: db)
        }
    }

    static func updateAppointment(_ a: Appointment, reason: String?, cancellation: String?, keyVersion: Int, on db: any SQLDatabase) async throws {
        try await db.raw(
            """
            UPDATE appointments SET starts_at = \(bind: millisecondPrecision(a.startsAt)), ends_at = \(bind: millisecondPrecision(a.endsAt)),
                time_zone = \(bind: a.timeZone), status = \(bind: a.status.rawValue), kind = \(bind: a.kind.rawValue), reason = \(bind: reason),
                cancellation_reason = \(bind: cancellation), updated_at = \(bind: millisecondPrecision(a.updatedAt)), key_version = \(bind: keyVersion)
            WHERE tenant_id = \(bind: a.tenantID) AND id = \(bind: a.id)
            """
        ).run()
    }

    /// Checks for a conflicting booking first (to name it in the answer), then writes. The database
    /// constraint (exclusion constraint or trigger) is what actually guarantees no double-booking when
    /// two requests race; its violation is turned into the same domain error.
    private func writeGuardingOverlap(_ a: Appointment, write: @escaping @Sendable (any SQLDatabase) async throws -> Void) async throws {
        if a.status.occupiesSlot, let conflict = try await conflictingAppointment(a, on: sql) {
            throw DomainError.appointmentOverlap(conflictingID: conflict)
        }
        // Two transactions inserting overlapping rows at once may deadlock on the exclusion constraint's check;
        // PostgreSQL aborts one (40P01). Its retry then finds the winner (409) or books the slot if the winner
        // rolled back: never a 500 for a double booking.
        var attempt = 0
        while true {
            do {
                // Bookings of one therapist queue on a transaction lock first: concurrent inserts into one slot then
                // meet the exclusion constraint one after another (409) instead of deadlocking in its check.
                let postgres = database.dialect == .postgres
                try await self.write { db in
                    if postgres {
                        try await db.raw("SELECT pg_advisory_xact_lock(hashtext(\(bind: "booking:\(a.tenantID):\(a.therapistID)")))").run()
                    }
                    try await write(db)
                }
                return
            } catch  where Self.isOverlapViolation(error) {
                throw DomainError.appointmentOverlap(conflictingID: try await conflictingAppointment(a, on: sql))
            } catch  where isTransientConflict(error) && attempt < 5 {
                attempt += 1
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...10) * attempt))
            }
        }
    }

    private func conflictingAppointment(_ a: Appointment, on db: any SQLDatabase) async throws -> UUID? {
        struct IDRow: Decodable { var id: UUID }
        return try await db.raw(
            """
            SELECT id FROM appointments
            WHERE tenant_id = \(bind: a.tenantID) AND therapist_id = \(bind: a.therapistID) AND id <> \(bind: a.id)
              AND status <> 'cancelled' AND starts_at < \(bind: millisecondPrecision(a.endsAt)) AND ends_at > \(bind: millisecondPrecision(a.startsAt))
            ORDER BY starts_at LIMIT 1
            """
        ).first(decoding: IDRow.self)?.id
    }

    private static func isOverlapViolation(_ error: any Error) -> Bool {
        let text = String(reflecting: error)
        return text.contains("appointment_overlap") || text.contains("appointments_no_overlap") || text.contains("23P01")
    }
}
