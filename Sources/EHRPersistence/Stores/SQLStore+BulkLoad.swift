import EHRDomain
import Foundation
import SQLKit

extension SQLStore {
    /// Writes many appointments of one practice in one transaction, 500 rows per statement: the bulk path of
    /// the benchmark data generator. Each reason is sealed as on the single path, and the database's overlap
    /// constraint still holds; no audit events are written (this is not a user's action).
    public func bulkCreate(_ appointments: [Appointment]) async throws {
        guard let tenantID = appointments.first?.tenantID else { return }
        precondition(appointments.allSatisfy { $0.tenantID == tenantID }, "one practice per bulk load")
        let keys = try await vault.keys(for: tenantID)
        var statements: [SQLQueryString] = []
        for start in stride(from: 0, to: appointments.count, by: 500) {
            var query: SQLQueryString = """
                INSERT INTO appointments (id, tenant_id, patient_id, therapist_id, starts_at, ends_at, time_zone, status, kind, reason,
                    cancellation_reason, created_at, updated_at, key_version) VALUES
                """
            for (offset, a) in appointments[start..<min(start + 500, appointments.count)].enumerated() {
                let reason = try keys.seal(a.reason, "appointments", "reason", row: a.id)
                let cancellation = try keys.seal(a.cancellationReason, "appointments", "cancellation_reason", row: a.id)
                query += offset == 0 ? " " : ", "
                query += """
                    (\(bind: a.id), \(bind: a.tenantID), \(bind: a.patientID), \(bind: a.therapistID), \(bind: millisecondPrecision(a.startsAt)),
                    \(bind: millisecondPrecision(a.endsAt)), \(bind: a.timeZone), \(bind: a.status.rawValue), \(bind: a.kind.rawValue), \(bind: reason),
                    \(bind: cancellation), \(bind: millisecondPrecision(a.createdAt)), \(bind: millisecondPrecision(a.updatedAt)), \(bind: keys.currentVersion))
                    """
            }
            statements.append(query)
        }
        let batch = statements
        try await write { db in
            for statement in batch { try await db.raw(statement).run() }
        }
    }
}
