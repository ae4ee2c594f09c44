import EHRDomain
import EHRPersistence
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SQLKit
import Testing

@testable import EHRServer

/// A running app on a fresh database, with the demo practice and a second practice ("other") seeded.
struct TestWorld: Sendable {
    let services: AppServices
    let client: any TestClientProtocol
    /// Set for `withWorld(concurrent: true)`: many connections, a generous timeout, requests run at once.
    var pool: ConcurrentClient? = nil
    /// The database as the role that migrated it, outside row-level security (PostgreSQL: the test cluster's
    /// superuser): for tests that play someone with database rights (tampering, disabling triggers).
    var owner: EHRDatabase

    /// Deterministic seed ids of a practice.
    struct Practice: Sendable {
        let slug: String
        let ids: SeedIDs
        var tenantID: UUID { ids.id("tenant") }
        var admin: UUID { ids.id("admin") }
        var smith: UUID { ids.id("dr.smith") }
        var johnson: UUID { ids.id("dr.johnson") }
        var johnUser: UUID { ids.id("john.doe") }
        var janeUser: UUID { ids.id("jane.smith") }
        var bobUser: UUID { ids.id("bob.wilson") }
        var john: UUID { ids.id("patient:john.doe") }
        var jane: UUID { ids.id("patient:jane.smith") }
        var bob: UUID { ids.id("patient:bob.wilson") }
        var johnAppointment: UUID { ids.id("appointment:john") }
        var bobAppointment: UUID { ids.id("appointment:bob") }
        var johnSignedNote: UUID { ids.id("note:john") }
        var bobDraftNote: UUID { ids.id("note:bob") }
        var johnThread: UUID { ids.id("thread:john") }

        init(_ slug: String) {
            self.slug = slug
            self.ids = SeedIDs(slug: slug)
        }
    }

    static let demo = Practice("demo")
    static let other = Practice("other")

    /// The seeded accounts by name, for minting tokens.
    enum Account: String, CaseIterable, Sendable {
        case admin, smith, johnson, john, jane, bob

        var role: Role {
            switch self {
            case .admin: return .admin
            case .smith, .johnson: return .therapist
            case .john, .jane, .bob: return .client
            }
        }

        func userID(in practice: Practice) -> UUID {
            switch self {
            case .admin: return practice.admin
            case .smith: return practice.smith
            case .johnson: return practice.johnson
            case .john: return practice.johnUser
            case .jane: return practice.janeUser
            case .bob: return practice.bobUser
            }
        }

        var email: String {
            switch self {
            case .admin: return "admin@demo.test"
            case .smith: return "dr.smith@demo.test"
            case .johnson: return "dr.johnson@demo.test"
            case .john: return "john.doe@demo.test"
            case .jane: return "jane.smith@demo.test"
            case .bob: return "bob.wilson@demo.test"
            }
        }
    }

    /// An access token for a seeded account, minted directly (sign-in itself is tested on its own,
    /// and bcrypt per test would dominate the suite's time).
    func token(_ account: Account, in practice: Practice = TestWorld.demo) async throws -> String {
        let user = User(id: account.userID(in: practice), tenantID: practice.tenantID, email: account.email, displayName: account.rawValue, role: account.role)
        return try await services.tokens.issueAccessToken(for: user)
    }

    // MARK: HTTP

    struct Reply: Sendable {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let body: ByteBuffer

        /// The body as a JSON object (empty when not an object).
        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
        }
        var items: [[String: Any]] { json["items"] as? [[String: Any]] ?? [] }
        var text: String { String(buffer: body) }
        /// Field names in a problem response's `errors`.
        var problemFields: [String] { (json["errors"] as? [[String: Any]])?.compactMap { $0["field"] as? String } ?? [] }
    }

    @discardableResult
    func call(
        _ method: HTTPRequest.Method, _ path: String, token: String? = nil, json: Any? = nil, raw: String? = nil, headers extra: HTTPFields = [:]
    ) async throws -> Reply {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer?
        // JSON unless the caller names another Content-Type (or another spelling of JSON).
        if let json {
            if headers[.contentType] == nil { headers[.contentType] = "application/json" }
            body = ByteBuffer(data: try JSONSerialization.data(withJSONObject: json))
        } else if let raw {
            if headers[.contentType] == nil { headers[.contentType] = "application/json" }
            body = ByteBuffer(string: raw)
        }
        if let pool { return try await pool.send(method, path, headers: headers, body: body) }
        let response = try await client.executeRequest(uri: path, method: method, headers: headers, body: body)
        return Reply(status: response.status, headers: response.headers, body: response.body)
    }

    /// Calls as a seeded account of a practice.
    @discardableResult
    func call(_ method: HTTPRequest.Method, _ path: String, as account: Account, in practice: Practice = TestWorld.demo, json: Any? = nil) async throws -> Reply
    {
        try await call(method, path, token: try await token(account, in: practice), json: json)
    }
}

/// Builds services on a fresh database, seeds two practices, runs the app live on a free port and calls `body`.
/// The default client sends paths exactly as written over one connection (requests take turns); `concurrent`
/// sends through a pool of connections (``ConcurrentClient``), so requests sent at once really run at once (for races).
func withWorld(
    _ backend: TestBackend,
    concurrent: Bool = false,
    configure: @Sendable (inout AppConfiguration) -> Void = { _ in },
    logger customLogger: Logger? = nil,
    _ body: @Sendable (TestWorld) async throws -> Void
) async throws {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ehr-test-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: scratch) }
    var configuration = try AppConfiguration.fromEnvironment([
        "EHR_DATA_DIR": scratch.path,
        "EHR_PORT": "0",
        "EHR_SEED_DEMO": "false",
        "EHR_LOG_LEVEL": "error",
    ])
    let database = try await TestDatabases.fresh(backend, scratch: scratch)
    configuration.database = database.configuration
    // bcrypt at the production cost (12, enforced by AppConfiguration.fromEnvironment) takes ~0.3 s per check on
    // two threads shared by every world of the process; dozens of suites signing in at once queue past the test
    // client's 20 s timeout. The worlds use bcrypt's minimum cost; the cost rule itself is tested on its own.
    configuration.bcryptCost = 4
    // Tests drive ``NotificationScheduler`` themselves, on their own clock.
    configuration.runsNotificationScheduler = false
    configure(&configuration)
    var logger = Logger(label: "ehr.test")
    logger.logLevel = .error
    if let customLogger { logger = customLogger }
    let services = try await AppServices.make(configuration: configuration, logger: logger)
    do {
        try await services.database.migrate()
        try await DatabaseScope.system(.administration) {
            let hash = try await TestDatabases.demoPasswordHash(services)
            try await services.demoSeed.seed(slug: "demo", name: "Demo Practice", passwordHash: hash)
            try await services.demoSeed.seed(slug: "other", name: "Other Practice", passwordHash: hash)
        }
    } catch {
        // The app (which closes the pools on shutdown) never started: close them here.
        await services.database.shutdown()
        await database.cleanup()
        throw error
    }
    let app = try buildApplication(services: services)
    let owner =
        services.database.dialect == .postgres
        ? try EHRDatabase(database.configuration, logger: logger, rowLevelSecurity: false) : services.database
    defer { if owner !== services.database { Task { await owner.shutdown() } } }
    do {
        try await app.test(.live) { client in
            try await client.waitUntilConnected()
            let pool = concurrent ? ConcurrentClient(port: client.port!) : nil
            defer { pool?.session.invalidateAndCancel() }
            // The server runs in its own tasks (scoped per request); the test's own direct reads and writes of the
            // database take the operator's path.
            try await DatabaseScope.system(.administration) { try await body(TestWorld(services: services, client: client, pool: pool, owner: owner)) }
        }
    } catch {
        await database.cleanup()
        throw error
    }
    await database.cleanup()
}

/// Fresh databases per test: a temporary SQLite file, or a new database in the PostgreSQL cluster.
enum TestDatabases {
    struct Fresh: Sendable {
        let configuration: DatabaseConfiguration
        let cleanup: @Sendable () async -> Void
        func cleanup() async { await cleanup() }
    }

    static func fresh(_ backend: TestBackend, scratch: URL) async throws -> Fresh {
        switch backend {
        case .sqlite:
            return Fresh(configuration: .sqlite(path: scratch.appendingPathComponent("test.sqlite").path), cleanup: {})
        case .postgres(let baseURL):
            let name = "ehr_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
            let admin = try EHRDatabase(.postgres(url: baseURL, poolSize: 1), logger: Logger(label: "ehr.test.admin"), rowLevelSecurity: false)
            do {
                try await admin.sql.raw("CREATE DATABASE \(unsafeRaw: String(name))").run()
            } catch {
                await admin.shutdown()
                throw error
            }
            await admin.shutdown()
            let url = replacingDatabase(in: baseURL, with: String(name))
            return Fresh(
                configuration: .postgres(url: url, poolSize: 2),
                cleanup: {
                    guard let admin = try? EHRDatabase(.postgres(url: baseURL, poolSize: 1), logger: Logger(label: "ehr.test.admin"), rowLevelSecurity: false)
                    else { return }
                    try? await admin.sql.raw("DROP DATABASE IF EXISTS \(unsafeRaw: String(name)) WITH (FORCE)").run()
                    await admin.shutdown()
                })
        }
    }

    static func replacingDatabase(in url: String, with name: String) -> String {
        var components = URLComponents(string: url)!
        components.path = "/" + name
        return components.string!
    }

    private static let hashCache = HashCache()

    /// One bcrypt hash of the demo password per test process.
    static func demoPasswordHash(_ services: AppServices) async throws -> String {
        try await hashCache.get { try await services.hasher.hash(DemoSeed.password) }
    }

    actor HashCache {
        var value: String?
        func get(_ make: () async throws -> String) async throws -> String {
            if let value { return value }
            let made = try await make()
            value = made
            return made
        }
    }
}
