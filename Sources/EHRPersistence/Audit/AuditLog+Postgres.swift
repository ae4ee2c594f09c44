import EHRDomain
import EHRSecurity
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// PostgreSQL's audit statements (the inbox's insert and take, the sealer's head lock and insert), each prepared
/// once per connection whatever the batch size. A batch travels as arrays (one per column, `unnest`ed by the
/// server), so neither side parses or plans a statement of hundreds of parameters, and the sealed events
/// and the moved heads go in one round trip while the heads are locked.
enum AuditPostgres {
    /// Locks the chain heads of `tenants` (in id order, so concurrent appenders queue instead of deadlocking).
    struct LockHeads: PostgresPreparedStatement {
        static let name = "ehr_audit_lock_heads_v1"
        static let sql = "SELECT tenant_id, seq, hash FROM audit_heads WHERE tenant_id = ANY($1) ORDER BY tenant_id FOR UPDATE"
        static let bindingDataTypes: [PostgresDataType] = [.uuidArray]
        typealias Row = (UUID, Int64, String)
        let tenants: [UUID]

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(tenants)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// Inserts sealed events and moves the heads, in one statement (the access log's index is PostgreSQL's own:
    /// see ``PostgresAuditListIndex``).
    struct InsertBatch: PostgresPreparedStatement {
        static let name = "ehr_audit_insert_batch_v2"
        static let sql = """
            WITH events AS (
                INSERT INTO audit_events (tenant_id, seq, occurred_ms, actor_id, actor_role, action, resource_type, resource_id, patient_id,
                    outcome, request_id, client_ip, user_agent, changed_fields, detail, patient_ids, prev_hash, hash, mac)
                SELECT * FROM unnest($1::uuid[], $2::int8[], $3::int8[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                    $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[])
            )
            UPDATE audit_heads AS h SET seq = v.seq, hash = v.hash FROM unnest($20::uuid[], $21::int8[], $22::text[]) AS v(tenant_id, seq, hash)
            WHERE h.tenant_id = v.tenant_id
            """
        typealias Row = ()
        let records: [AuditRecord]
        let tenantIDs: [UUID]
        let heads: [(UUID, Int64, String)]
        let changedFields: [String]
        let patientLists: [String?]

        func makeBindings() throws -> PostgresBindings {
            var b = PostgresBindings(capacity: 22)
            b.append(tenantIDs)
            b.append(records.map { Int64($0.sequence) })
            AuditPostgres.appendEventFields(of: records, changedFields: changedFields, patientLists: patientLists, to: &b)
            b.append(records.map(\.prevHash.hexString))
            b.append(records.map(\.hash.hexString))
            b.append(records.map(\.mac.hexString))
            b.append(heads.map(\.0))
            b.append(heads.map(\.1))
            b.append(heads.map(\.2))
            return b
        }

        func decodeRow(_ row: PostgresRow) throws {}
    }

    /// Puts events in the inbox (see ``PostgresAuditInbox``), in the order given.
    struct InsertInbox: PostgresPreparedStatement {
        static let name = "ehr_audit_insert_inbox_v1"
        static let sql = insertSQL(firstParameter: 1)
        typealias Row = ()
        let tenantIDs: [UUID]
        let records: [AuditRecord]
        let changedFields: [String]
        let patientLists: [String?]
        let macs: [String]

        /// The inbox's columns, in the order of both statements' parameters, and each column's type.
        private static let insertInto = """
            INSERT INTO audit_inbox (tenant_id, occurred_ms, actor_id, actor_role, action, resource_type, resource_id, patient_id,
                outcome, request_id, client_ip, user_agent, changed_fields, detail, patient_ids, mac)
            """
        private static let columnTypes = ["uuid", "int8"] + Array(repeating: "text", count: 14)

        /// `$n::type` for each column, numbered from `firstParameter`, each type followed by `suffix`.
        private static func parameters(from firstParameter: Int, suffix: String) -> String {
            columnTypes.enumerated().map { "$\(firstParameter + $0.offset)::\($0.element)\(suffix)" }.joined(separator: ", ")
        }

        /// The statement with its parameters numbered from `firstParameter` (to follow another statement's in one).
        static func insertSQL(firstParameter: Int) -> String {
            insertInto + "\nSELECT * FROM unnest(" + parameters(from: firstParameter, suffix: "[]") + ")"
        }

        /// The types of its parameters, in order.
        static let parameterTypes: [PostgresDataType] = [.uuidArray, .int8Array] + Array(repeating: .textArray, count: 14)

        /// The statement for exactly one event, its columns as plain parameters numbered from `firstParameter`
        /// (``oneEventParameterTypes``, bound by ``appendOneEventBindings(to:)``): a statement that writes a change
        /// and its event together has one event, and sixteen one-element arrays cost both sides more to encode,
        /// decode and `unnest` than sixteen values.
        static func insertOneSQL(firstParameter: Int) -> String {
            insertInto + "\nSELECT " + parameters(from: firstParameter, suffix: "")
        }

        /// The types of ``insertOneSQL(firstParameter:)``'s parameters, in order.
        static let oneEventParameterTypes: [PostgresDataType] = [.uuid, .int8] + Array(repeating: .text, count: 14)

        /// The parameters' values of ``insertOneSQL(firstParameter:)``, after any already in `b`. Only for an
        /// insert of exactly one event.
        func appendOneEventBindings(to b: inout PostgresBindings) {
            precondition(records.count == 1 && tenantIDs.count == 1, "a one-event insert holds one event")
            let r = records[0]
            b.append(tenantIDs[0])
            b.append(r.timeMillis)
            b.append(r.actorID)
            b.append(r.actorRole)
            b.append(r.action)
            b.append(r.resourceType)
            b.append(r.resourceID)
            b.append(r.patientID)
            b.append(r.outcome)
            b.append(r.requestID)
            b.append(r.clientIP)
            b.append(r.userAgent)
            b.append(changedFields[0])
            b.append(r.detail)
            b.append(patientLists[0])
            b.append(macs[0])
        }

        func makeBindings() throws -> PostgresBindings {
            var b = PostgresBindings(capacity: 16)
            appendBindings(to: &b)
            return b
        }

        /// Its parameters' values, after any already in `b`.
        func appendBindings(to b: inout PostgresBindings) {
            b.append(tenantIDs)
            AuditPostgres.appendEventFields(of: records, changedFields: changedFields, patientLists: patientLists, to: &b)
            b.append(macs)
        }

        func decodeRow(_ row: PostgresRow) throws {}
    }

    /// Puts exactly one event in the inbox (a group-commit flush of one request's event, the commonest flush at
    /// half the peak): ``InsertInbox``'s columns as plain parameters.
    struct InsertOneInbox: PostgresPreparedStatement {
        static let name = "ehr_audit_insert_inbox_one_v1"
        static let sql = InsertInbox.insertOneSQL(firstParameter: 1)
        static let bindingDataTypes = InsertInbox.oneEventParameterTypes
        typealias Row = ()
        let event: InsertInbox

        func makeBindings() throws -> PostgresBindings {
            var b = PostgresBindings(capacity: 16)
            event.appendOneEventBindings(to: &b)
            return b
        }

        func decodeRow(_ row: PostgresRow) throws {}
    }

    /// One row of the inbox as the sealer takes it.
    struct InboxRow: Sendable {
        var id: Int64
        var tenantID: UUID
        var occurredMillis: Int64
        var actorID: String
        var actorRole: String
        var action: String
        var resourceType: String
        var resourceID: String?
        var patientID: String?
        var outcome: String
        var requestID: String
        var clientIP: String?
        var userAgent: String?
        var changedFields: String
        var detail: String?
        var patientIDs: String?
        var mac: String
    }

    /// Removes and returns up to `limit` of the oldest inbox rows of practices that exist. The caller holds the
    /// sealer lock, so no other sealer takes the same rows (and row locks would need the UPDATE right the service
    /// does not have). A row naming no practice is left where it is, never chained (the inbox has no foreign key
    /// to `tenants`: see ``PostgresUnlockedTenantKeys``); ``CountStranded`` finds it.
    struct TakeInbox: PostgresPreparedStatement {
        static let name = "ehr_audit_take_inbox_v3"
        static let sql = """
            DELETE FROM audit_inbox WHERE id IN (
                SELECT i.id FROM audit_inbox AS i WHERE EXISTS (SELECT 1 FROM tenants AS t WHERE t.id = i.tenant_id) ORDER BY i.id LIMIT $1)
            RETURNING id, tenant_id, occurred_ms, actor_id, actor_role, action, resource_type, resource_id, patient_id, outcome,
                request_id, client_ip, user_agent, changed_fields, detail, patient_ids, mac
            """
        static let bindingDataTypes: [PostgresDataType] = [.int8]
        typealias Row = InboxRow
        let limit: Int

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(limit)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> InboxRow {
            let c = try row.decode(
                (Int64, UUID, Int64, String, String, String, String, String?, String?, String, String, String?, String?, String, String?, String?, String)
                    .self)
            return InboxRow(
                id: c.0, tenantID: c.1, occurredMillis: c.2, actorID: c.3, actorRole: c.4, action: c.5, resourceType: c.6, resourceID: c.7,
                patientID: c.8, outcome: c.9, requestID: c.10, clientIP: c.11, userAgent: c.12, changedFields: c.13, detail: c.14,
                patientIDs: c.15, mac: c.16)
        }
    }

    /// How many inbox rows name no practice (left by ``TakeInbox``; only a hand-made row can).
    struct CountStranded: PostgresPreparedStatement {
        static let name = "ehr_audit_count_stranded_v1"
        static let sql = "SELECT count(*) FROM audit_inbox AS i WHERE NOT EXISTS (SELECT 1 FROM tenants AS t WHERE t.id = i.tenant_id)"
        static let bindingDataTypes: [PostgresDataType] = []
        typealias Row = Int64

        func makeBindings() throws -> PostgresBindings { PostgresBindings() }
        func decodeRow(_ row: PostgresRow) throws -> Int64 { try row.decode(Int64.self) }
    }

    /// The event columns both inserts share, from `occurred_ms` to `patient_ids`, one array each.
    static func appendEventFields(of records: [AuditRecord], changedFields: [String], patientLists: [String?], to b: inout PostgresBindings) {
        b.append(records.map(\.timeMillis))
        b.append(records.map(\.actorID))
        b.append(records.map(\.actorRole))
        b.append(records.map(\.action))
        b.append(records.map(\.resourceType))
        b.append(TextArray(records.map(\.resourceID)))
        b.append(TextArray(records.map(\.patientID)))
        b.append(records.map(\.outcome))
        b.append(records.map(\.requestID))
        b.append(TextArray(records.map(\.clientIP)))
        b.append(TextArray(records.map(\.userAgent)))
        b.append(changedFields)
        b.append(TextArray(records.map(\.detail)))
        b.append(TextArray(patientLists))
    }

    /// `text[]` whose elements may be NULL (PostgresNIO encodes arrays of non-optional values only).
    struct TextArray: PostgresNonThrowingEncodable {
        static var psqlType: PostgresDataType { .textArray }
        static var psqlFormat: PostgresFormat { .binary }
        let values: [String?]

        init(_ values: [String?]) { self.values = values }

        func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
            buffer.writeInteger(values.isEmpty ? 0 : 1, as: UInt32.self)  // dimensions
            buffer.writeInteger(values.contains(nil) ? 1 : 0, as: Int32.self)  // has NULLs
            buffer.writeInteger(PostgresDataType.text.rawValue)
            guard !values.isEmpty else { return }
            buffer.writeInteger(Int32(values.count))  // length of the dimension
            buffer.writeInteger(1, as: Int32.self)  // its lower bound
            for value in values {
                if let value {
                    buffer.writeInteger(Int32(value.utf8.count))
                    buffer.writeString(value)
                } else {
                    buffer.writeInteger(-1, as: Int32.self)
                }
            }
        }
    }
}
