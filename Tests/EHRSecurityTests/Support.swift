import Crypto
import EHRSecurity
import Foundation

/// Deterministic RNG (SplitMix64) so random tamperings are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum Fixture {
    static func context(
        tenant: String = "t-acme", table: String = "patients", column: String = "last_name",
        row: String = "row-1"
    ) -> FieldContext {
        FieldContext(tenantID: tenant, table: table, column: column, rowID: row)
    }

    static func draft(_ i: Int, tenant: String = "t-acme") -> AuditRecord {
        AuditRecord(
            tenantID: tenant, actorID: "user-\(i % 7)", actorRole: i % 3 == 0 ? "admin" : "clinician",
            action: i % 2 == 0 ? "patient.read" : "note.update", resourceType: i % 2 == 0 ? "patient" : "note",
            resourceID: "res-\(i)", patientID: i % 5 == 0 ? nil : "pat-\(i % 11)",
            outcome: i % 4 == 0 ? "denied" : "allowed", requestID: "req-\(i)",
            clientIP: "10.0.0.\(i % 250)", userAgent: i % 6 == 0 ? nil : "ehr-test/1.0",
            timeMillis: 1_764_000_000_000 + Int64(i) * 1_000,
            changedFields: i % 2 == 0 ? [] : ["subjective", "plan"])
    }

    static func chain(count: Int, key: SymmetricKey, tenant: String = "t-acme") -> [AuditRecord] {
        AuditChain.sealBatch((0..<count).map { draft($0, tenant: tenant) }, after: nil, key: key)
    }
}
