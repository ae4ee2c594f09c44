import Foundation
import Testing

@testable import EHRServer

/// Start-up refuses what would quietly weaken the service.
@Suite("Start-up configuration") struct StartupConfigurationTests {
    static let production = [
        "EHR_ENV": "production", "DATABASE_URL": "postgres://u:p@127.0.0.1/db", "EHR_JWT_PRIVATE_KEY": "x",
        "EHR_MASTER_KEY": Data(repeating: 1, count: 32).base64EncodedString(), "EHR_AUDIT_KEY": Data(repeating: 2, count: 32).base64EncodedString(),
        "EHR_METRICS_TOKEN": "a-metrics-token-of-length",
    ]

    @Test func anUnknownEnvironmentRefusesToStart() throws {
        for value in ["prod", "Production", "staging", ""] where !value.isEmpty {
            #expect(throws: ConfigurationError.self, "EHR_ENV=\(value)") {
                try AppConfiguration.fromEnvironment(["EHR_ENV": value, "EHR_DATA_DIR": NSTemporaryDirectory()])
            }
        }
        let development = try AppConfiguration.fromEnvironment(["EHR_DATA_DIR": NSTemporaryDirectory() + "ehr-config-\(UUID())"])
        #expect(development.environment == .development && development.seedDemoData)
    }

    @Test func demoSeedIsRefusedInProduction() throws {
        #expect(try AppConfiguration.fromEnvironment(Self.production).seedDemoData == false)
        var seeded = Self.production
        seeded["EHR_SEED_DEMO"] = "true"
        #expect(throws: ConfigurationError.self) { try AppConfiguration.fromEnvironment(seeded) }
        seeded["EHR_SEED_DEMO"] = "yes"
        #expect(throws: ConfigurationError.self) { try AppConfiguration.fromEnvironment(seeded) }
        seeded["EHR_SEED_DEMO"] = "false"
        #expect(try AppConfiguration.fromEnvironment(seeded).seedDemoData == false)
    }

    @Test func trustedProxiesMustParse() throws {
        var env = Self.production
        env["EHR_TRUSTED_PROXIES"] = "10.0.0.0/16,not-an-address"
        #expect(throws: ConfigurationError.self) { try AppConfiguration.fromEnvironment(env) }
        env["EHR_TRUSTED_PROXIES"] = "10.0.0.0/16"
        #expect(try AppConfiguration.fromEnvironment(env).trustedProxies.contains("10.0.3.4"))
        #expect(try AppConfiguration.fromEnvironment(Self.production).trustedProxies.isEmpty)
    }
}
