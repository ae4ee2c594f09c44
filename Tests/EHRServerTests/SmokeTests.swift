import Foundation
import Testing

@Suite struct SmokeTests {
    @Test(arguments: TestBackend.all)
    func healthAndReadiness(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let health = try await world.call(.get, "/health")
            #expect(health.status == .ok)
            #expect(health.json["status"] as? String == "ok")
            let ready = try await world.call(.get, "/ready")
            #expect(ready.status == .ok)
            let spec = try await world.call(.get, "/openapi.yaml")
            #expect(spec.status == .ok)
            #expect(spec.text.hasPrefix("openapi: 3.1"))
        }
    }
}

@Suite struct CIRequirementsTests {
    /// CI must run the PostgreSQL half of the suite; a missing cluster is a failure there, not a skip.
    @Test func postgresRunsInCI() {
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            #expect(
                TestBackend.all.contains { if case .postgres = $0 { true } else { false } },
                "CI=true but EHR_TEST_POSTGRES_URL is not set: the PostgreSQL suite would be skipped")
        }
    }
}
