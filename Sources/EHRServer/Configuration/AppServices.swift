import Crypto
import EHRDomain
import EHRPersistence
import EHRSecurity
import EHRWire
import Foundation
import Logging

/// Everything the handlers depend on, built once from configuration. Tests build it the same way.
public struct AppServices: Sendable {
    public let configuration: AppConfiguration
    public let database: EHRDatabase
    public let store: SQLStore
    /// Tenants' keys (wrapped by the master key in `tenant_keys`).
    public let vault: KeyVault
    /// The audit chain (appends, lists, verifies); always available, also when the writer is benchmarked off.
    public let auditLog: AuditLog
    /// Group commit of read events; nil only when `EHR_BENCH_DISABLE_AUDIT=1`.
    public let auditWriter: AuditWriter?
    let tokens: TokenService
    let hasher: PasswordHasher
    let auth: AuthService
    let cursors: CursorCodec
    /// The live sockets (`/api/v1/live`) open on this process.
    let live = LiveHub()
    /// The televisit sockets (`/api/v1/televisit`) open on this process.
    let televisit = TelevisitHub()
    /// Where pushes go. No APNs sender is built yet (no credentials or network to test one here): pushes are
    /// recorded, and `ehr serve` says so at start.
    let pushSender = RecordingPushSender()
    /// Where e-mail notifications go; nil without `EHR_SMTP_URL`.
    var emailSender: (any EmailSender)? {
        configuration.smtpURL.flatMap { SMTPMailer(url: $0, from: configuration.smtpFrom) }
    }
    public let logger: Logger

    /// Opens the database and loads (or, in development, creates) the signing key. Does not migrate.
    public static func make(configuration: AppConfiguration, logger: Logger) async throws -> AppServices {
        _ = EHRMetrics.bootstrap
        let database = try EHRDatabase(configuration.database, logger: logger, rowLevelSecurity: configuration.rowLevelSecurity)
        let key = try SigningKeyStore.load(pem: configuration.jwt.privateKeyPEM, dataDirectory: configuration.dataDirectory)
        let tokens = await TokenService(
            privateKey: key, issuer: configuration.jwt.issuer, audience: configuration.jwt.audience,
            accessTokenLifetime: configuration.jwt.accessTokenLifetime)
        let hasher = PasswordHasher(cost: configuration.bcryptCost, concurrency: configuration.bcryptConcurrency, queue: configuration.bcryptQueue)
        let provider: LocalKeyProvider
        do { provider = try LocalKeyProvider(base64: configuration.masterKey) } catch {
            throw ConfigurationError.invalid("EHR_MASTER_KEY", "must be 32 bytes in base64")
        }
        guard let auditKeyBytes = Data(base64Encoded: configuration.auditKey), auditKeyBytes.count == 32 else {
            throw ConfigurationError.invalid("EHR_AUDIT_KEY", "must be 32 bytes in base64")
        }
        let vault = KeyVault(database: database, provider: provider, cacheLifetime: configuration.keyCacheLifetime)
        let auditLog = AuditLog(dialect: database.dialect, key: SymmetricKey(data: auditKeyBytes))
        let store = SQLStore(database: database, vault: vault, auditLog: configuration.auditEnabled ? auditLog : nil)
        let writer = configuration.auditEnabled ? AuditWriter(database: database, log: auditLog) : nil
        let auth = AuthService(
            tenants: store, users: store, auth: store, tokens: tokens, hasher: hasher,
            decoyHash: try await PasswordHasher.decoyHash(cost: configuration.bcryptCost),
            refreshTokenLifetime: configuration.jwt.refreshTokenLifetime,
            failureLimit: configuration.loginFailureLimit, failureWindow: configuration.loginFailureWindow)
        let cursors = CursorCodec(secret: Data(key.pemRepresentation.utf8))
        return AppServices(
            configuration: configuration, database: database, store: store, vault: vault, auditLog: auditLog,
            auditWriter: writer, tokens: tokens, hasher: hasher, auth: auth, cursors: cursors, logger: logger)
    }

    /// Re-encryption jobs (rotation, upgrade of rows written before encryption).
    public var keyMaintenance: KeyMaintenance { KeyMaintenance(database: database, vault: vault) }

    /// Seeds demo data.
    public var demoSeed: DemoSeed { DemoSeed(store: store, hasher: hasher) }

    /// Creates a practice with its first admin, who signs in with `adminPassword`.
    public func createTenant(slug: String, name: String, adminEmail: String, adminPassword: String, adminName: String = "Practice Admin") async throws -> (
        Tenant, User
    ) {
        var validator = Validator()
        let slugValue = validator.text(slug, "slug", max: 63)?.lowercased()
        if let slugValue, !slugValue.allSatisfy({ ($0.isLetter && $0.isASCII) || $0.isNumber || $0 == "-" }) {
            validator.add("slug", "may contain only a-z, 0-9 and -")
        }
        let nameValue = validator.text(name, "name", max: 200)
        let email = validator.email(adminEmail, "admin-email")
        for problem in PasswordPolicy.problems(adminPassword, field: "EHR_ADMIN_PASSWORD") { validator.add(problem.field, problem.message) }
        try validator.check()
        let tenant = Tenant(slug: slugValue!, name: nameValue!)
        let admin = User(tenantID: tenant.id, email: email!, displayName: adminName, role: .admin, passwordHash: try await hasher.hash(adminPassword))
        try await store.create(tenant)
        try await store.create(admin, invitation: nil)
        return (tenant, admin)
    }
}
