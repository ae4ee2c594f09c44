import EHRDomain
import EHRPersistence
import Foundation
import SQLKit
import Testing

/// PostgreSQL's row-level security is the backstop behind every query's own tenant condition: a statement
/// that forgets `tenant_id = …` still sees only the practice of the request that sent it, and nothing at all
/// when no practice is set.
@Suite("Row-level security (PostgreSQL)")
struct RowLevelSecurityTests {
    static var postgres: [TestBackend] { TestBackend.all.filter { $0 != .sqlite } }

    private struct TenantRow: Decodable { var tenant_id: UUID }
    private struct Who: Decodable { var who: String }

    @Test("every table with a practice column has row-level security enabled, forced and a policy", arguments: postgres)
    func everyTenantTableIsForced(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            struct Table: Decodable {
                var table: String
                var enabled: Bool
                var forced: Bool
                var policies: Int
            }
            let tables = try await world.services.database.sql.raw(
                """
                SELECT c.relname AS table, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
                    (SELECT count(*)::int FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relkind = 'r'
                    AND (c.relname = 'tenants' OR EXISTS (
                        SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped))
                ORDER BY c.relname
                """
            ).all(decoding: Table.self)
            #expect(tables.count >= 15, "tenant tables found: \(tables.map(\.table))")
            for table in tables {
                #expect(table.enabled && table.forced && table.policies == 1, "\(table.table): \(table)")
            }
        }
    }

    @Test("an unscoped SELECT sees only the request's practice, and nothing without one", arguments: postgres)
    func unscopedSelectSeesOnlyThePractice(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let database = world.services.database
            let demo = TestWorld.demo.tenantID
            let other = TestWorld.other.tenantID
            let everything = try await database.sql.raw("SELECT tenant_id FROM patients").all(decoding: TenantRow.self)
            let demoCount = everything.filter { $0.tenant_id == demo }.count
            #expect(demoCount > 0 && everything.contains { $0.tenant_id == other }, "the seed has patients in both practices")

            // In a request's transaction, as the service role: only the practice's rows.
            let (inTransaction, role) = try await DatabaseScope.tenant(demo) {
                try await database.transaction { db in
                    let rows = try await db.raw("SELECT * FROM patients").all(decoding: TenantRow.self)
                    let role = try await db.raw("SELECT current_user AS who").first(decoding: Who.self)
                    return (rows, role?.who)
                }
            }
            #expect(inTransaction.count == demoCount && inTransaction.allSatisfy { $0.tenant_id == demo })
            #expect(role == "ehr_service")
            // A pooled statement outside a transaction: the same.
            let pooled = try await DatabaseScope.tenant(other) { try await database.sql.raw("SELECT * FROM patients").all(decoding: TenantRow.self) }
            #expect(!pooled.isEmpty && pooled.allSatisfy { $0.tenant_id == other })

            // Without the setting: none, in a transaction or not.
            try await DatabaseScope.$current.withValue(nil) {
                let none = try await database.transaction { db in try await db.raw("SELECT * FROM patients").all(decoding: TenantRow.self) }
                #expect(none.isEmpty)
                let nonePooled = try await database.sql.raw("SELECT * FROM patients").all(decoding: TenantRow.self)
                #expect(nonePooled.isEmpty)
                let tenants = try await database.sql.raw("SELECT id AS tenant_id FROM tenants").all(decoding: TenantRow.self)
                #expect(tenants.isEmpty)
            }
        }
    }

    @Test("writes into another practice are refused and changes to its rows touch nothing", arguments: postgres)
    func writesStayInThePractice(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let database = world.services.database
            let demo = TestWorld.demo.tenantID
            let other = TestWorld.other.tenantID
            struct Count: Decodable { var n: Int }
            let touched = try await DatabaseScope.tenant(demo) {
                try await database.transaction { db in
                    try await db.raw("UPDATE patients SET updated_at = updated_at WHERE tenant_id = \(bind: other) RETURNING 1 AS n")
                        .all(decoding: Count.self).count
                }
            }
            #expect(touched == 0)
            // Writing a row of another practice violates the policy's check.
            var refusal = ""
            do {
                try await DatabaseScope.tenant(demo) {
                    try await database.transaction { db in
                        try await db.raw(
                            "INSERT INTO audit_heads (tenant_id, seq, hash) VALUES (\(bind: other), 999999, \(bind: UUID().uuidString.lowercased()))"
                        ).run()
                    }
                }
            } catch {
                refusal = String(reflecting: error)
            }
            #expect(refusal.contains("42501") || refusal.contains("row-level security"), "\(refusal)")
        }
    }

    @Test("a pooled connection keeps nothing of the previous checkout's practice", arguments: postgres)
    func poolCarriesNoScope(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let database = world.services.database
            let store = world.services.store
            let demo = TestWorld.demo.tenantID
            let other = TestWorld.other.tenantID
            // Scoped, unscoped and fast-path statements interleaved over the pool (each checkout may reuse the scope a
            // connection is already in): unscoped ones see nothing, scoped ones only their practice.
            let wrong = try await withThrowingTaskGroup(of: Int.self) { group in
                var sum = 0
                for i in 0..<240 {
                    if i >= 16, let done = try await group.next() { sum += done }
                    group.addTask {
                        switch i % 6 {
                        case 0:
                            let rows = try await DatabaseScope.tenant(demo) {
                                try await database.sql.raw("SELECT tenant_id FROM patients").all(decoding: TenantRow.self)
                            }
                            return rows.isEmpty || rows.contains { $0.tenant_id != demo } ? 1 : 0
                        case 1:
                            let page = try await DatabaseScope.tenant(other) {
                                try await store.list(scope: .tenant(other), filter: AppointmentFilter(), page: PageRequest(limit: 50))
                            }
                            return page.items.contains { $0.tenantID != other } ? 1 : 0
                        case 2:
                            let rows = try await DatabaseScope.tenant(other) {
                                try await database.transaction { db in try await db.raw("SELECT tenant_id FROM patients").all(decoding: TenantRow.self) }
                            }
                            return rows.isEmpty || rows.contains { $0.tenant_id != other } ? 1 : 0
                        case 3:
                            // A transaction that fails and rolls back leaves no scope behind that a later checkout trusts.
                            do {
                                try await DatabaseScope.tenant(demo) {
                                    try await database.transaction { db in
                                        _ = try await db.raw("SELECT tenant_id FROM patients").all()
                                        try await db.raw("SELECT 1 / 0").run()
                                    }
                                }
                                return 1
                            } catch {
                                return 0
                            }
                        case 4:
                            let rows = try await DatabaseScope.tenant(demo) {
                                try await store.list(
                                    scope: .therapist(tenantID: demo, therapistID: TestWorld.demo.smith), filter: AppointmentFilter(upcomingAfter: Date()),
                                    page: PageRequest(limit: 50))
                            }
                            return rows.items.contains { $0.tenantID != demo } ? 1 : 0
                        default:
                            return try await DatabaseScope.$current.withValue(nil) {
                                try await database.sql.raw("SELECT tenant_id FROM patients").all().count
                            }
                        }
                    }
                }
                return try await group.reduce(sum, +)
            }
            #expect(wrong == 0)
        }
    }

    @Test("the narrow path is named, and sees every practice", arguments: postgres)
    func systemPathIsNamed(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let database = world.services.database
            struct Setting: Decodable { var purpose: String }
            for purpose in SystemAccess.allCases {
                let (rows, named) = try await DatabaseScope.system(purpose) {
                    try await database.transaction { db in
                        let rows = try await db.raw("SELECT tenant_id FROM users").all(decoding: TenantRow.self)
                        let named = try await db.raw("SELECT current_setting('app.system') AS purpose").first(decoding: Setting.self)
                        return (rows, named?.purpose)
                    }
                }
                #expect(Set(rows.map(\.tenant_id)) == [TestWorld.demo.tenantID, TestWorld.other.tenantID])
                #expect(named == purpose.rawValue)
            }
        }
    }
}
