import EHRDomain
import Foundation
import SQLKit

/// SQLite's access-log index: one `audit_event_patients` row per patient each chained event's `patient_ids`
/// names, written behind the chain in sorted batches (see ``SQLiteDeferredAccessIndex``) up to each practice's
/// `audit_heads.patients_indexed_seq`. Verification compares the index with the chained lists up to that mark,
/// so a row removed (or a mark moved past events never indexed) shows as a mismatch.
extension AuditLog {
    /// Events indexed per transaction.
    static let indexBatch = 2000

    /// Indexes the listed patients of every event chained past its practice's mark; returns how many events
    /// were read. Runs on the writer's named path, in transactions of at most ``indexBatch`` events.
    func indexListedPatients(in database: EHRDatabase) async throws -> Int {
        guard dialect == .sqlite else { return 0 }
        var total = 0
        while true {
            let indexed = try await DatabaseScope.system(.auditWriter) {
                try await database.transaction { db in try await self.indexBatch(on: db) }
            }
            total += indexed
            if indexed < Self.indexBatch { return total }
        }
    }

    private func indexBatch(on db: any SQLDatabase) async throws -> Int {
        struct MarkRow: Decodable {
            var tenant_id: UUID
            var seq: Int64
            var patients_indexed_seq: Int64
        }
        struct ListRow: Decodable {
            var seq: Int64
            var patient_ids: String?
        }
        let marks = try await db.raw(
            "SELECT tenant_id, seq, patients_indexed_seq FROM audit_heads WHERE patients_indexed_seq < seq ORDER BY tenant_id"
        ).all(decoding: MarkRow.self)
        var budget = Self.indexBatch
        for mark in marks where budget > 0 {
            let rows = try await db.raw(
                """
                SELECT seq, patient_ids FROM audit_events
                WHERE tenant_id = \(bind: mark.tenant_id) AND seq > \(bind: mark.patients_indexed_seq) AND seq <= \(bind: mark.seq)
                ORDER BY seq LIMIT \(literal: budget)
                """
            ).all(decoding: ListRow.self)
            guard let last = rows.last else { continue }
            budget -= rows.count
            // Sorted, so the batch touches each patient's part of the index once. An unreadable list is left out:
            // verification reports its event (the chain's hash covers the stored text).
            var entries: [(patient: String, seq: Int64)] = []
            for row in rows {
                guard let text = row.patient_ids, let patients = AuditLog.stringArray(text) else { continue }
                for patient in patients { entries.append((patient, row.seq)) }
            }
            entries.sort { $0.patient == $1.patient ? $0.seq < $1.seq : $0.patient < $1.patient }
            // 3 binds a row: stay far below SQLite's limit. OR IGNORE: another process may have indexed these.
            for start in stride(from: 0, to: entries.count, by: 1000) {
                var insert: SQLQueryString = "INSERT OR IGNORE INTO audit_event_patients (tenant_id, patient_id, seq) VALUES "
                for (i, entry) in entries[start..<min(start + 1000, entries.count)].enumerated() {
                    insert += (i == 0 ? "" : ", ") as SQLQueryString
                    insert += "(\(bind: mark.tenant_id), \(bind: entry.patient), \(bind: entry.seq))"
                }
                try await db.raw(insert).run()
            }
            try await db.raw(
                "UPDATE audit_heads SET patients_indexed_seq = \(bind: last.seq) WHERE tenant_id = \(bind: mark.tenant_id) AND patients_indexed_seq < \(bind: last.seq)"
            ).run()
        }
        return Self.indexBatch - budget
    }
}
