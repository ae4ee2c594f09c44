import EHRPersistence
import Foundation
import HTTPTypes
import Logging
import NIOConcurrencyHelpers
import Testing

@testable import EHRServer

/// Metrics and structured logs: what operators see, and that it never carries PHI, tokens or passwords.
@Suite("Metrics and logs", .serialized)
struct OperationsTests {
    @Sendable static func withMetricsToken(_ configuration: inout AppConfiguration) {
        configuration.metricsToken = "metrics-token-for-tests-0123"
    }

    @Test(arguments: TestBackend.all)
    func logsOfAFullFlowHoldNoSentinelTokenOrPassword(_ backend: TestBackend) async throws {
        let lines = NIOLockedValueBox<[String]>([])
        var logger = Logger(label: "ehr.test.capture") { label in
            JSONLogHandler(label: label, level: .trace) { line in lines.withLockedValue { $0.append(line) } }
        }
        logger.logLevel = .trace
        try await withWorld(backend, logger: logger) { world in
            try await EncryptionAtRestTests.seedSentinels(world)
            // Failures too: bad input carrying PHI, wrong passwords, a moved ciphertext.
            _ = try await world.call(.post, "/api/v1/patients", as: .admin, json: ["firstName": "Zyxquorbel", "lastName": "", "dateOfBirth": "1987-11-23"])
            _ = try await world.call(
                .post, "/api/v1/auth/login", json: ["tenant": "demo", "email": "zyx.sentinel@quorbel.test", "password": "Plimthwaite-password"])
            let ok = try await world.call(.post, "/api/v1/auth/login", json: ["tenant": "demo", "email": "dr.smith@demo.test", "password": DemoSeed.password])
            let refresh = try #require(ok.json["refreshToken"] as? String)
            let access = try #require(ok.json["accessToken"] as? String)
            _ = try await world.call(.get, "/api/v1/patients?email=zyx.sentinel@quorbel.test", as: .admin)
            let all = lines.withLockedValue { $0 }
            let text = all.joined(separator: "\n").lowercased()
            #expect(all.count > 50, "only \(all.count) log lines captured")
            let leaked = EncryptionAtRestTests.sentinels.filter { text.contains($0.lowercased()) } + ["plimthwaite-password"].filter { text.contains($0) }
            #expect(leaked.isEmpty, "log output holds \(leaked)")
            #expect(!text.contains(refresh.lowercased()) && !text.contains(access.lowercased()) && !text.contains(DemoSeed.password))
            // One request line per request, with template, status, request id and practice.
            let requests = all.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String] }.filter { $0["message"] == "request" }
            #expect(
                requests.contains {
                    $0["http.route"] == "/api/v1/patients/{id}" && $0["http.status"] == "200" && $0["tenant.id"] == TestWorld.demo.tenantID.wire
                        && $0["request.id"] != nil && $0["duration_ms"] != nil
                })
            #expect(!requests.contains { ($0["http.route"] ?? "").contains(TestWorld.demo.john.wire) })
            print(
                "logs (\(backend.testDescription)): \(all.count) JSON lines at trace level, \(requests.count) request lines, 0 of \(EncryptionAtRestTests.sentinels.count) sentinels, no token or password"
            )
        }
    }

    @Test(arguments: TestBackend.all)
    func metricsCountRequestsByRouteTemplateAndNeedTheToken(_ backend: TestBackend) async throws {
        try await withWorld(backend, configure: Self.withMetricsToken) { world in
            _ = try await world.call(.get, "/api/v1/patients/\(TestWorld.demo.john.wire)", as: .admin)
            _ = try await world.call(.get, "/api/v1/patients/\(UUID().wire)", as: .admin)
            _ = try await world.call(.post, "/api/v1/auth/login", json: ["tenant": "demo", "email": "dr.smith@demo.test", "password": "wrong-password-x"])
            #expect(try await world.call(.get, "/metrics").status == .unauthorized)
            #expect(try await world.call(.get, "/metrics", token: "wrong").status == .unauthorized)
            let reply = try await world.call(.get, "/metrics", token: "metrics-token-for-tests-0123")
            #expect(reply.status == .ok)
            let text = reply.text
            #expect(text.contains(#"http_requests_total{method="GET",route="/api/v1/patients/{id}",status="2xx"}"#))
            #expect(text.contains(#"http_requests_total{method="GET",route="/api/v1/patients/{id}",status="4xx"}"#))
            #expect(text.contains("http_request_duration_seconds_bucket"))
            #expect(text.contains("ehr_sign_in_failures_total"))
            #expect(text.contains("ehr_audit_batch_size") && text.contains("ehr_audit_flush_duration_seconds"))
            #expect(text.contains("ehr_db_connections_in_use") && text.contains("ehr_db_connections_waiting"))
            #expect(!text.contains(TestWorld.demo.john.wire), "a raw path with an id reached a metric label")
            // The background work that shares the database: a seal pass, and SQLite's checkpoint steps.
            try await world.sealAudit()
            let checkpointed = try await world.services.database.checkpointWAL() != nil
            let after = try await world.call(.get, "/metrics", token: "metrics-token-for-tests-0123").text
            #expect(after.contains("ehr_audit_seal_pass_duration_seconds_count"))
            if checkpointed {  // (metrics are process-wide: another test's SQLite may have recorded them on PostgreSQL's run too)
                #expect(after.contains(#"ehr_sqlite_checkpoint_duration_seconds_count{step="passive"}"#), "\(after)")
                #expect(after.contains(#"ehr_sqlite_checkpoint_duration_seconds_count{step="writer"}"#))
            }
        }
    }

    @Test func productionRequiresAMetricsToken() throws {
        var env = [
            "EHR_ENV": "production", "DATABASE_URL": "postgres://u:p@127.0.0.1/db", "EHR_JWT_PRIVATE_KEY": "x",
            "EHR_MASTER_KEY": Data(repeating: 1, count: 32).base64EncodedString(), "EHR_AUDIT_KEY": Data(repeating: 2, count: 32).base64EncodedString(),
        ]
        #expect(throws: ConfigurationError.self) { try AppConfiguration.fromEnvironment(env) }
        env["EHR_METRICS_TOKEN"] = "a-long-enough-metrics-token"
        let configuration = try AppConfiguration.fromEnvironment(env)
        #expect(configuration.logFormat == .json && configuration.metricsToken == "a-long-enough-metrics-token")
    }
}
