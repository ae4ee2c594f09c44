import EHRDomain
import EHRPersistence
import Foundation

extension AppServices {
    /// Appends `count` synthetic read events to the practice's audit chain (sealed like real ones), in
    /// transactions of `batch`, for measuring verification of long chains. Returns the chain's new length.
    public func generateAuditEvents(of tenant: Tenant, count: Int, batch: Int = 5000, progress: (Int) -> Void = { _ in }) async throws -> Int {
        var written = 0
        let actor = UUID().lowercasedString
        while written < count {
            let size = min(batch, count - written)
            let start = written
            let drafts = (0..<size).map { i in
                AuditEventDraft(
                    tenantID: tenant.id, actorID: actor, actorRole: "therapist", action: "patient.list", resourceType: "patient",
                    outcome: .allowed, requestID: "load-\(start + i)", clientIP: "192.0.2.1", userAgent: "ehr dev generate-audit-events",
                    patientIDs: (start + i) % 10 == 0 ? [UUID(), UUID()] : [])
            }
            try await database.transaction { [auditLog] db in try await auditLog.append(drafts, on: db) }
            try await auditLog.sealPending(in: database)
            written += size
            progress(written)
        }
        return written
    }
}
