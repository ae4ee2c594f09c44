import Foundation
import SQLKit
import Testing

@testable import EHRPersistence

/// The PostgreSQL fast path for appointment lists must really run there (not silently fall back),
/// and must agree with the general SQLKit path.
@Suite("PostgreSQL fast row decoding")
struct FastPathTests {
    @Test(arguments: TestBackend.all)
    func fastPathRunsOnPostgresAndMatchesTheGeneralPath(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let database = world.services.database
            let query: SQLQueryString = """
                SELECT a.id, a.tenant_id, a.patient_id, a.therapist_id, a.starts_at, a.ends_at, a.time_zone, a.status, a.kind, a.reason,
                       a.cancellation_reason, a.created_at, a.updated_at
                FROM appointments a WHERE a.tenant_id = \(bind: TestWorld.demo.tenantID) ORDER BY a.starts_at, a.id
                """
            let fast = try await PostgresFastRows.appointments(query, on: database)
            switch backend {
            case .sqlite:
                #expect(fast == nil)
            case .postgres:
                let rows = try #require(fast)
                let general = try await database.sql.raw(query).all(decoding: AppointmentRow.self, with: SQLStore.decoder)
                #expect(rows.count == 2)
                let keys = try await world.services.vault.keys(for: TestWorld.demo.tenantID)
                #expect(try rows.map { try $0.appointment(keys) } == general.map { try $0.appointment(keys) })
            }
        }
    }
}
