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

    @Test func turnServersNeedTheirSharedSecret() throws {
        var env = Self.production
        env["EHR_TURN_URLS"] = "stun:turn.example.org:3478, turns:turn.example.org:5349?transport=tcp"
        #expect(throws: ConfigurationError.self, "a TURN URL without the secret") { try AppConfiguration.fromEnvironment(env) }
        env["EHR_TURN_SECRET"] = "too-short"
        #expect(throws: ConfigurationError.self, "a short secret") { try AppConfiguration.fromEnvironment(env) }
        env["EHR_TURN_SECRET"] = String(repeating: "s", count: 40)
        let configuration = try AppConfiguration.fromEnvironment(env)
        #expect(configuration.turnURLs == ["stun:turn.example.org:3478", "turns:turn.example.org:5349?transport=tcp"])
        env["EHR_TURN_URLS"] = "https://turn.example.org"
        #expect(throws: ConfigurationError.self, "not an ICE URL") { try AppConfiguration.fromEnvironment(env) }
        // STUN alone needs no secret; no URLs, no ICE servers.
        var stunOnly = Self.production
        stunOnly["EHR_TURN_URLS"] = "stun:stun.example.org:3478"
        #expect(try AppConfiguration.fromEnvironment(stunOnly).turnSecret == nil)
        #expect(try AppConfiguration.fromEnvironment(Self.production).turnURLs.isEmpty)
    }
}
