import EHRPersistence
import Foundation
import Logging

/// Every setting of the service, read from the environment in this one place (flags override a few).
/// See `docs/operations.md` for the reference table.
public struct AppConfiguration: Sendable {
    public enum Environment: String, Sendable {
        case development
        case production
    }

    public var environment: Environment
    public var hostname: String
    public var port: Int
    /// Folder for the embedded database and generated development keys.
    public var dataDirectory: String
    public var database: DatabaseConfiguration
    public var jwt: JWTSettings
    public var bcryptCost: UInt8
    public var seedDemoData: Bool
    public var televisitBaseURL: String
    public var logLevel: Logger.Level
    /// `json` (one JSON object per line) or `text`; JSON by default in production.
    public var logFormat: LogFormat
    /// Bearer token `GET /metrics` requires (`EHR_METRICS_TOKEN`); required in production, open without it in development.
    public var metricsToken: String?

    public enum LogFormat: String, Sendable {
        case json, text
    }
    /// Requests per window allowed before sign-in is throttled.
    public var loginFailureLimit: Int
    public var loginFailureWindow: TimeInterval
    /// Base64 of the 256-bit master key that wraps every tenant's data keys (`EHR_MASTER_KEY[_FILE]`).
    public var masterKey: String
    /// Base64 of the 256-bit audit key that seals the audit chain (`EHR_AUDIT_KEY[_FILE]`). Never stored in the database.
    public var auditKey: String
    /// How long unwrapped tenant keys are cached (a rotation by another process is seen within this time).
    public var keyCacheLifetime: TimeInterval
    /// False only with `EHR_BENCH_DISABLE_AUDIT=1`, to measure the audit writer's cost; refused in production.
    public var auditEnabled: Bool
    /// False only with `EHR_BENCH_DISABLE_RLS=1`, to measure what PostgreSQL's row-level security backstop costs
    /// (statements then run as the connecting role with no scope); refused in production.
    public var rowLevelSecurity = true
    /// Load balancers whose `X-Forwarded-For` names the client (`EHR_TRUSTED_PROXIES`, CIDR list; none by default).
    public var trustedProxies: TrustedProxies
    /// bcrypt checks running at once; sign-ins beyond `bcryptConcurrency + bcryptQueue` waiting get 503 at once.
    public var bcryptConcurrency: Int
    public var bcryptQueue: Int
    /// The SMTP server e-mail notifications go through (`EHR_SMTP_URL=smtp://host:port`); none: e-mail is skipped.
    public var smtpURL: String? = nil
    /// The sender address of notification mail (`EHR_SMTP_FROM`).
    public var smtpFrom = "notifications@mentalspace.invalid"
    /// How often the notification scheduler queues reminders and sends what is due (`EHR_NOTIFY_INTERVAL`, seconds).
    public var notificationInterval: TimeInterval = 15
    /// Whether `ehr serve` runs the notification scheduler (`EHR_NOTIFICATIONS=off` leaves it to other instances).
    public var runsNotificationScheduler = true
    /// The ICE servers televisit participants are handed (`EHR_TURN_URLS`, comma-separated `stun:`, `turn:` and
    /// `turns:` URLs) and coturn's shared secret their short-lived TURN credentials are derived from
    /// (`EHR_TURN_SECRET`, `static-auth-secret`); see ``TurnCredentials``.
    public var turnURLs: [String] = []
    public var turnSecret: String? = nil

    public struct JWTSettings: Sendable {
        /// PEM of the ES256 (P-256) private key; nil means "generate or load from the data folder" (development only).
        public var privateKeyPEM: String?
        public var issuer: String
        public var audience: String
        public var accessTokenLifetime: TimeInterval
        public var refreshTokenLifetime: TimeInterval
    }

    /// Reads the configuration from environment variables.
    /// - Throws: ``ConfigurationError`` for a malformed value, or for a production setting without its secret.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> AppConfiguration {
        func int(_ key: String, _ fallback: Int) throws -> Int {
            guard let raw = env[key], !raw.isEmpty else { return fallback }
            guard let value = Int(raw) else { throw ConfigurationError.invalid(key, "must be an integer") }
            return value
        }
        // A mistyped environment must not quietly mean development (which seeds published demo passwords).
        guard let environment = Environment(rawValue: env["EHR_ENV"] ?? "development") else {
            throw ConfigurationError.invalid("EHR_ENV", "must be development or production")
        }
        let dataDirectory = env["EHR_DATA_DIR"] ?? "./data"
        let database: DatabaseConfiguration
        if let url = env["DATABASE_URL"], !url.isEmpty {
            database = .postgres(url: url, poolSize: try int("EHR_DB_POOL_SIZE", 4))
        } else {
            guard environment == .development else { throw ConfigurationError.missing("DATABASE_URL", "production runs on PostgreSQL") }
            database = .sqlite(path: env["EHR_SQLITE_PATH"] ?? dataDirectory + "/ehr.sqlite")
        }

        var pem = env["EHR_JWT_PRIVATE_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        if pem == nil, let file = env["EHR_JWT_PRIVATE_KEY_FILE"], !file.isEmpty {
            guard let contents = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ConfigurationError.invalid("EHR_JWT_PRIVATE_KEY_FILE", "cannot be read")
            }
            pem = contents
        }
        if pem == nil, environment == .production {
            throw ConfigurationError.missing("EHR_JWT_PRIVATE_KEY or EHR_JWT_PRIVATE_KEY_FILE", "production never generates its own signing key")
        }

        let accessLifetime = try int("EHR_ACCESS_TOKEN_TTL", 900)
        guard (1...900).contains(accessLifetime) else { throw ConfigurationError.invalid("EHR_ACCESS_TOKEN_TTL", "must be 1 to 900 seconds") }
        let cost = try int("EHR_BCRYPT_COST", 12)
        guard (12...16).contains(cost) else { throw ConfigurationError.invalid("EHR_BCRYPT_COST", "must be 12 to 16") }
        let masterKey = try SecretKeyFiles.load(
            variable: "EHR_MASTER_KEY", fileName: "master.key", env: env,
            environment: environment, dataDirectory: dataDirectory)
        let auditKey = try SecretKeyFiles.load(
            variable: "EHR_AUDIT_KEY", fileName: "audit.key", env: env,
            environment: environment, dataDirectory: dataDirectory)
        let auditEnabled = env["EHR_BENCH_DISABLE_AUDIT"] != "1"
        if !auditEnabled, environment == .production {
            throw ConfigurationError.invalid("EHR_BENCH_DISABLE_AUDIT", "is a benchmark switch and is refused in production")
        }
        let rowLevelSecurity = env["EHR_BENCH_DISABLE_RLS"] != "1"
        if !rowLevelSecurity, environment == .production {
            throw ConfigurationError.invalid("EHR_BENCH_DISABLE_RLS", "is a benchmark switch and is refused in production")
        }
        let keyCache = try int("EHR_KEY_CACHE_SECONDS", 10)
        guard (0...300).contains(keyCache) else { throw ConfigurationError.invalid("EHR_KEY_CACHE_SECONDS", "must be 0 to 300") }
        let metricsToken = env["EHR_METRICS_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        if environment == .production {
            guard let metricsToken else { throw ConfigurationError.missing("EHR_METRICS_TOKEN", "production never serves /metrics without a token") }
            guard metricsToken.count >= 16 else { throw ConfigurationError.invalid("EHR_METRICS_TOKEN", "must be at least 16 characters") }
        }
        guard let logFormat = LogFormat(rawValue: env["EHR_LOG_FORMAT"] ?? (environment == .production ? "json" : "text")) else {
            throw ConfigurationError.invalid("EHR_LOG_FORMAT", "must be json or text")
        }
        let level = env["EHR_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        var seedDemoData = environment == .development
        if let raw = env["EHR_SEED_DEMO"], !raw.isEmpty {
            guard ["1", "true", "0", "false"].contains(raw) else { throw ConfigurationError.invalid("EHR_SEED_DEMO", "must be true or false") }
            seedDemoData = raw == "1" || raw == "true"
            if seedDemoData, environment == .production {
                throw ConfigurationError.invalid("EHR_SEED_DEMO", "is refused in production: the demo accounts' passwords are published")
            }
        }
        guard let trustedProxies = TrustedProxies(parsing: env["EHR_TRUSTED_PROXIES"] ?? "") else {
            throw ConfigurationError.invalid("EHR_TRUSTED_PROXIES", "must be a comma-separated list of IP addresses or CIDR blocks")
        }
        let bcryptConcurrency = try int("EHR_BCRYPT_CONCURRENCY", max(1, ProcessInfo.processInfo.activeProcessorCount))
        let bcryptQueue = try int("EHR_BCRYPT_QUEUE", 32)
        guard bcryptConcurrency >= 1, bcryptQueue >= 0 else {
            throw ConfigurationError.invalid("EHR_BCRYPT_CONCURRENCY", "must be at least 1 (and EHR_BCRYPT_QUEUE at least 0)")
        }

        var configuration = AppConfiguration(
            environment: environment,
            hostname: env["EHR_HOST"] ?? "127.0.0.1",
            port: try int("EHR_PORT", 8080),
            dataDirectory: dataDirectory,
            database: database,
            jwt: JWTSettings(
                privateKeyPEM: pem,
                issuer: env["EHR_JWT_ISSUER"] ?? "mentalspace-ehr",
                audience: env["EHR_JWT_AUDIENCE"] ?? "mentalspace-ehr-api",
                accessTokenLifetime: TimeInterval(accessLifetime),
                refreshTokenLifetime: TimeInterval(try int("EHR_REFRESH_TOKEN_TTL", 30 * 24 * 3600))),
            bcryptCost: UInt8(cost),
            seedDemoData: seedDemoData,
            televisitBaseURL: env["EHR_TELEVISIT_BASE_URL"] ?? "https://televisit.mentalspace.invalid",
            logLevel: level,
            logFormat: logFormat,
            metricsToken: metricsToken,
            loginFailureLimit: 5,
            loginFailureWindow: 15 * 60,
            masterKey: masterKey,
            auditKey: auditKey,
            keyCacheLifetime: TimeInterval(keyCache),
            auditEnabled: auditEnabled,
            trustedProxies: trustedProxies,
            bcryptConcurrency: bcryptConcurrency,
            bcryptQueue: bcryptQueue)
        configuration.rowLevelSecurity = rowLevelSecurity
        if let smtp = env["EHR_SMTP_URL"], !smtp.isEmpty {
            guard smtp.hasPrefix("smtp://"), URLComponents(string: smtp)?.host?.isEmpty == false else {
                throw ConfigurationError.invalid("EHR_SMTP_URL", "must be smtp://host[:port]")
            }
            configuration.smtpURL = smtp
        }
        if let from = env["EHR_SMTP_FROM"], !from.isEmpty {
            guard SMTPMailer.isSafe(from) else { throw ConfigurationError.invalid("EHR_SMTP_FROM", "must be a plain e-mail address") }
            configuration.smtpFrom = from
        }
        let interval = try int("EHR_NOTIFY_INTERVAL", 15)
        guard interval >= 1 else { throw ConfigurationError.invalid("EHR_NOTIFY_INTERVAL", "must be at least 1 second") }
        configuration.notificationInterval = TimeInterval(interval)
        switch env["EHR_NOTIFICATIONS"] ?? "on" {
        case "on", "": configuration.runsNotificationScheduler = true
        case "off": configuration.runsNotificationScheduler = false
        default: throw ConfigurationError.invalid("EHR_NOTIFICATIONS", "must be on or off")
        }
        configuration.turnURLs = (env["EHR_TURN_URLS"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for url in configuration.turnURLs where !["stun:", "turn:", "turns:"].contains(where: url.hasPrefix) {
            throw ConfigurationError.invalid("EHR_TURN_URLS", "must list stun:, turn: or turns: URLs")
        }
        let turnSecret = env["EHR_TURN_SECRET"].flatMap { $0.isEmpty ? nil : $0 }
        if configuration.turnURLs.contains(where: { !$0.hasPrefix("stun:") }) {
            guard let turnSecret else { throw ConfigurationError.missing("EHR_TURN_SECRET", "TURN URLs need coturn's static-auth-secret") }
            guard turnSecret.count >= 32 else { throw ConfigurationError.invalid("EHR_TURN_SECRET", "must be at least 32 characters") }
        }
        configuration.turnSecret = turnSecret
        return configuration
    }
}

/// A configuration problem found at start-up; the service refuses to start.
public enum ConfigurationError: Error, CustomStringConvertible, Sendable {
    case missing(String, String)
    case invalid(String, String)

    public var description: String {
        switch self {
        case .missing(let key, let why): return "\(key) is required: \(why)"
        case .invalid(let key, let why): return "\(key) \(why)"
        }
    }
}
