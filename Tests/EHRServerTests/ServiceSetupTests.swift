import EHRDomain
import EHRPersistence
import Foundation
import Logging
import Testing

@testable import EHRServer

/// Start-up behaviour: configuration, signing keys, seeding and practice creation.
@Suite("Service setup")
struct ServiceSetupTests {
    @Test func productionRefusesToStartWithoutSigningKey() {
        #expect(throws: ConfigurationError.self) {
            try AppConfiguration.fromEnvironment(["EHR_ENV": "production", "DATABASE_URL": "postgres://u:p@localhost/db"])
        }
    }

    @Test func productionRefusesToStartWithoutPostgres() {
        #expect(throws: ConfigurationError.self) {
            try AppConfiguration.fromEnvironment(["EHR_ENV": "production", "EHR_JWT_PRIVATE_KEY": "x"])
        }
    }

    @Test func tokenLifetimeAboveFifteenMinutesIsRefused() {
        #expect(throws: ConfigurationError.self) { try AppConfiguration.fromEnvironment(["EHR_ACCESS_TOKEN_TTL": "3600"]) }
        #expect(throws: ConfigurationError.self) { try AppConfiguration.fromEnvironment(["EHR_BCRYPT_COST": "10"]) }
    }

    @Test func developmentKeyIsGeneratedPrivatelyOnceAndReused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ehr-key-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try SigningKeyStore.load(pem: nil, dataDirectory: folder.path)
        let file = folder.appendingPathComponent("keys/jwt-es256.pem").path
        let permissions = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        let second = try SigningKeyStore.load(pem: nil, dataDirectory: folder.path)
        #expect(SigningKeyStore.keyID(for: first) == SigningKeyStore.keyID(for: second))
    }

    @Test(arguments: TestBackend.all)
    func seedIsIdempotentAndTenantCreationValidates(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            // setup: the world already seeded "demo"
            // MUT
            let again = try await world.services.demoSeed.seed(slug: "demo", passwordHash: "unused")
            // validate
            #expect(again == false)
            let patients = try await world.call(.get, "/api/v1/patients", as: .admin)
            #expect(patients.items.count == 3)

            let (tenant, admin) = try await world.services.createTenant(
                slug: "acme", name: "Acme Counseling", adminEmail: "Admin@Acme.example", adminPassword: "a long passphrase here")
            #expect(tenant.slug == "acme")
            #expect(admin.email == "admin@acme.example")
            #expect(admin.role == .admin)
            let login = try await world.call(
                .post, "/api/v1/auth/login", json: ["tenant": "acme", "email": "admin@acme.example", "password": "a long passphrase here"])
            #expect(login.status == .ok)

            await #expect(throws: DomainError.self) {
                _ = try await world.services.createTenant(slug: "acme", name: "Again", adminEmail: "a@b.example", adminPassword: "a long passphrase here")
            }
            await #expect(throws: DomainError.self) {
                _ = try await world.services.createTenant(slug: "Bad Slug!", name: "X", adminEmail: "not-an-email", adminPassword: "short")
            }
        }
    }
}
