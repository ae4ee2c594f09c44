import ArgumentParser
import EHRDomain
import EHRPersistence
import EHRServer
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix

@main
struct EHRCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ehr",
        abstract: "MentalSpace EHR: multi-tenant health record service for mental-health practices.",
        subcommands: [Serve.self, Migrate.self, Seed.self, TenantCommand.self, AuditCommand.self, KeysCommand.self, DevCommand.self],
        defaultSubcommand: Serve.self)
}

/// Reads configuration and opens services; shared by every subcommand.
func openServices(label: String, override: (inout AppConfiguration) -> Void = { _ in }) async throws -> AppServices {
    pinTimeZoneFile()
    var configuration = try AppConfiguration.fromEnvironment()
    override(&configuration)
    if configuration.logFormat == .json {
        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
    }
    var logger = Logger(label: label)
    logger.logLevel = configuration.logLevel
    return try await AppServices.make(configuration: configuration, logger: logger)
}

/// The text log's timestamps go through `localtime_r`, which without `TZ` checks `/etc/localtime` again on every
/// line (`strace`: one `newfstatat` per request). Naming that file as `TZ` keeps the same zone (UTC where there is
/// no such file, as before) and reads it once. Called before any other thread could read the environment.
func pinTimeZoneFile() {
    if ProcessInfo.processInfo.environment["TZ"] == nil { setenv("TZ", ":/etc/localtime", 1) }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Migrate the database, seed the demo practice on first run (development), and serve the web app (/app) and the API.")

    @Option(help: "Address to listen on (default 127.0.0.1, or EHR_HOST).") var hostname: String?
    @Option(help: "Port to listen on (default 8080, or EHR_PORT).") var port: Int?

    func run() async throws {
        pinTimeZoneFile()
        // Swift concurrency's jobs run on NIO's event loops (see ConcurrencyOnEventLoops); measured in bench/run.
        let executor: ConcurrencyOnEventLoops.Outcome =
            ProcessInfo.processInfo.environment["EHR_NIO_EXECUTOR"] != "off" ? ConcurrencyOnEventLoops.install() : .notInstalled
        let services = try await openServices(label: "ehr.serve") { configuration in
            if let hostname { configuration.hostname = hostname }
            if let port { configuration.port = port }
        }
        let tuned = AllocatorTuning.apply(for: services.database.dialect, environment: ProcessInfo.processInfo.environment)
        services.logger.info("concurrency executor", metadata: ["executor": "\(executor.rawValue)", "malloc_tuned": "\(tuned)"])
        try await prepareDatabase(services: services)
        let app = try buildApplication(services: services)
        let base = "http://\(services.configuration.hostname):\(services.configuration.port)"
        services.logger.notice("serving: open \(base)/app in a browser (the web app); the API is at \(base)/api/v1")
        try await app.runService()
    }
}

struct Migrate: AdministrationCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations.")

    func administer() async throws {
        let services = try await openServices(label: "ehr.migrate")
        try await services.database.migrate()
        print("migrations applied")
        await services.database.shutdown()
    }
}

struct Seed: AdministrationCommand {
    static let configuration = CommandConfiguration(abstract: "Create the demo practice (idempotent) and print its accounts.")

    func administer() async throws {
        let services = try await openServices(label: "ehr.seed")
        try await services.database.migrate()
        let created = try await services.demoSeed.seed()
        print(created ? "Seeded the demo practice." : "The demo practice already exists; nothing changed.")
        print("Practice (tenant) slug: demo    password for every account: \(DemoSeed.password)")
        for account in DemoSeed.accounts() {
            print("  \(account.role.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(account.email)  (\(account.displayName))")
        }
        await services.database.shutdown()
    }
}

struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tenant", abstract: "Manage practices.", subcommands: [Create.self, Shred.self])

    struct Create: AdministrationCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a practice and its first admin. The password comes from EHR_ADMIN_PASSWORD or a prompt.")

        @Option(help: "Unique short name used at sign-in (a-z, 0-9, -).") var slug: String
        @Option(help: "Display name of the practice.") var name: String
        @Option(name: .customLong("admin-email"), help: "Email of the first admin.") var adminEmail: String

        func administer() async throws {
            let password = try ProcessInfo.processInfo.environment["EHR_ADMIN_PASSWORD"] ?? Self.prompt("Password for \(adminEmail): ")
            let services = try await openServices(label: "ehr.tenant")
            try await services.database.migrate()
            do {
                let (tenant, admin) = try await services.createTenant(slug: slug, name: name, adminEmail: adminEmail, adminPassword: password)
                print("Created practice '\(tenant.slug)' (\(tenant.id.lowercasedString)) with admin \(admin.email).")
            } catch {
                await services.database.shutdown()
                throw ValidationError("\(error)")
            }
            await services.database.shutdown()
        }

        static func prompt(_ text: String) throws -> String {
            guard let raw = getpass(text) else { throw ValidationError("no password given") }
            return String(cString: raw)
        }
    }
}

/// A command an operator runs against the database directly: it works on the narrow path that sees every
/// practice (row-level security's `SystemAccess.administration`), which the service never takes for a request.
protocol AdministrationCommand: AsyncParsableCommand {
    func administer() async throws
}

extension AdministrationCommand {
    func run() async throws {
        try await DatabaseScope.system(.administration) { try await administer() }
    }
}
