import EHRDomain
import Foundation
import SQLKit

/// SQLite's access-log index: one `audit_event_patients` row per patient each chained event's `patient_ids`
/// names, written behind the chain in sorted batches (see ``SQLiteDeferredAccessIndex``) up to each practice's
/// `audit_heads.patients_indexed_seq`. Verification compares the index with the chained lists up to that mark,
/// so a row removed (or a mark moved past events never indexed) shows as a mismatch.
extension AuditLog {
    /// Events indexed per batch.
    static let indexBatch = 2000
    /// Index rows written per statement of the single writer. A batch of 2,000 list events is 40,000 rows; written in
    /// one statement it held the writer, and so every audited read's flush, for 120–140 ms (the list's p99 under load).
    static let indexChunk = 2500

    /// Indexes the listed patients of every event chained past its practice's mark; returns how many events
    /// were read. The pairs are read and sorted on a read-only connection (WAL: beside the writer, not in its way);
    /// the writer only inserts them, about ``indexChunk`` rows a statement, so an audit flush waits at most
    /// for one chunk; the practice's mark moves once every chunk of the batch is in. A pass cut short leaves rows
    /// past the mark: verification reads the index only up to the mark, and the next pass writes them again
    /// (`OR IGNORE`, as for another process indexing the same events).
    func indexListedPatients(in database: EHRDatabase) async throws -> Int {
        guard dialect == .sqlite else { return 0 }
        var total = 0
        while true {
            let indexed = try await indexBatch(in: database)
            total += indexed
            if indexed < Self.indexBatch { return total }
        }
    }

    private func indexBatch(in database: EHRDatabase) async throws -> Int {
        struct MarkRow: Decodable {
            var tenant_id: UUID
            var seq: Int64
            var patients_indexed_seq: Int64
        }
        struct WindowRow: Decodable {
            var last: Int64?
            var count: Int
        }
        let reads = database.reads
        let marks = try await reads.raw(
            "SELECT tenant_id, seq, patients_indexed_seq FROM audit_heads WHERE patients_indexed_seq < seq ORDER BY tenant_id"
        ).all(decoding: MarkRow.self)
        var budget = Self.indexBatch
        for mark in marks where budget > 0 {
            let window = try await reads.raw(
                """
                SELECT max(seq) AS last, count(*) AS count FROM (SELECT seq FROM audit_events
                WHERE tenant_id = \(bind: mark.tenant_id) AND seq > \(bind: mark.patients_indexed_seq) AND seq <= \(bind: mark.seq)
                ORDER BY seq LIMIT \(literal: budget))
                """
            ).first(decoding: WindowRow.self)
            guard let window, let last = window.last else { continue }
            budget -= window.count
            // SQLite reads the lists itself (json_each), so no patient id is parsed in Swift: each group of patients
            // (by first character) comes back sorted, as one JSON array of "seq patient" strings, and goes to the
            // writer as one value. A list that is not a JSON array of strings (what ``stringArray(_:)`` refuses) is
            // left out: verification reports its event (the chain's hash covers the stored text).
            let groups = try await reads.raw(
                """
                SELECT count(*) AS count, json_group_array(seq || ' ' || patient_id) AS pairs FROM (
                    SELECT p.value AS patient_id, e.seq AS seq FROM audit_events e, json_each(e.patient_ids) p
                    WHERE e.tenant_id = \(bind: mark.tenant_id) AND e.seq > \(bind: mark.patients_indexed_seq) AND e.seq <= \(bind: last)
                        AND json_valid(e.patient_ids) AND json_type(e.patient_ids) = 'array'
                        AND NOT EXISTS (SELECT 1 FROM json_each(e.patient_ids) q WHERE q.type <> 'text')
                    ORDER BY 1, 2)
                GROUP BY substr(patient_id, 1, 1) ORDER BY substr(patient_id, 1, 1)
                """
            ).all(decoding: GroupRow.self)
            // Each statement commits on its own, so the writer is free for the audit's flushes between them.
            try await DatabaseScope.system(.auditWriter) {
                for chunk in Self.chunks(of: groups) {
                    // The seq is digits, so the first space ends it, whatever the patient's text holds.
                    try await database.sql.raw(
                        """
                        INSERT OR IGNORE INTO audit_event_patients (tenant_id, patient_id, seq)
                        SELECT \(bind: mark.tenant_id), substr(value, instr(value, ' ') + 1), CAST(substr(value, 1, instr(value, ' ') - 1) AS INTEGER)
                        FROM json_each(\(bind: chunk))
                        """
                    ).run()
                }
                try await database.sql.raw(
                    "UPDATE audit_heads SET patients_indexed_seq = \(bind: last) WHERE tenant_id = \(bind: mark.tenant_id) AND patients_indexed_seq < \(bind: last)"
                ).run()
            }
        }
        return Self.indexBatch - budget
    }

    /// One sorted group of index rows: how many, and their JSON array.
    struct GroupRow: Decodable {
        var count: Int
        var pairs: String
    }

    /// The groups joined in order into JSON arrays of at most ``indexChunk`` rows (a larger group stays whole), so
    /// a small pass is one statement and a large one a few.
    static func chunks(of groups: [GroupRow]) -> [String] {
        var chunks: [String] = []
        var items: [Substring] = []
        var count = 0
        for group in groups where group.count > 0 {
            if count > 0 && count + group.count > indexChunk {
                chunks.append("[" + items.joined(separator: ",") + "]")
                items = []
                count = 0
            }
            // json_group_array writes "[" items "]"; the items of several join with a comma into one array. The
            // brackets are cut off the UTF-8 view: String's own dropLast counts the whole text's characters first.
            items.append(Substring(group.pairs.utf8.dropFirst().dropLast()))
            count += group.count
        }
        if !items.isEmpty { chunks.append("[" + items.joined(separator: ",") + "]") }
        return chunks
    }
}
