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
        struct WindowRow: Decodable {
            var last: Int64?
            var count: Int
        }
        let marks = try await db.raw(
            "SELECT tenant_id, seq, patients_indexed_seq FROM audit_heads WHERE patients_indexed_seq < seq ORDER BY tenant_id"
        ).all(decoding: MarkRow.self)
        var budget = Self.indexBatch
        for mark in marks where budget > 0 {
            let window = try await db.raw(
                """
                SELECT max(seq) AS last, count(*) AS count FROM (SELECT seq FROM audit_events
                WHERE tenant_id = \(bind: mark.tenant_id) AND seq > \(bind: mark.patients_indexed_seq) AND seq <= \(bind: mark.seq)
                ORDER BY seq LIMIT \(literal: budget))
                """
            ).first(decoding: WindowRow.self)
            guard let window, let last = window.last else { continue }
            budget -= window.count
            // SQLite reads the lists itself (json_each), so no patient id crosses into Swift and back as a bind (the
            // batch's parsing, sorting and 3-binds-a-row statements were most of the writer's time). Sorted, so the
            // batch touches each patient's part of the index once. A list that is not a JSON array of strings
            // (what ``stringArray(_:)`` refuses) is left out: verification reports its event (the chain's hash
            // covers the stored text). OR IGNORE: another process may have indexed these.
            try await db.raw(
                """
                INSERT OR IGNORE INTO audit_event_patients (tenant_id, patient_id, seq)
                SELECT \(bind: mark.tenant_id), p.value, e.seq FROM audit_events e, json_each(e.patient_ids) p
                WHERE e.tenant_id = \(bind: mark.tenant_id) AND e.seq > \(bind: mark.patients_indexed_seq) AND e.seq <= \(bind: last)
                    AND json_valid(e.patient_ids) AND json_type(e.patient_ids) = 'array'
                    AND NOT EXISTS (SELECT 1 FROM json_each(e.patient_ids) q WHERE q.type <> 'text')
                ORDER BY p.value, e.seq
                """
            ).run()
            try await db.raw(
                "UPDATE audit_heads SET patients_indexed_seq = \(bind: last) WHERE tenant_id = \(bind: mark.tenant_id) AND patients_indexed_seq < \(bind: last)"
            ).run()
        }
        return Self.indexBatch - budget
    }
}
