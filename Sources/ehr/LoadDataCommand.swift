import ArgumentParser
import EHRDomain
import EHRServer
import Foundation

/// Development tools, not for production data.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev", abstract: "Development and benchmark tools.", subcommands: [GenerateLoadData.self, GenerateAuditEvents.self])
}

/// Generates a realistic data set for benchmarks: several practices, their therapists, patients and
/// non-overlapping appointments spread over past and future, written through the repositories.
struct GenerateLoadData: AdministrationCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate-load-data",
        abstract: "Create benchmark practices (slugs bench-1 ... bench-N) and write a fixtures JSON for the load scripts.")

    @Option(help: "Number of practices.") var tenants = 5
    @Option(help: "Therapists per practice.") var therapists = 4
    @Option(help: "Patients in all.") var patients = 2000
    @Option(help: "Appointments in all.") var appointments = 50000
    @Option(help: "Where to write the fixtures (practices, therapist emails and their patient ids).") var fixtures = "bench/out/fixtures.json"

    struct Fixtures: Codable {
        struct Therapist: Codable {
            var tenant: String
            var email: String
            var patientIDs: [String]
        }
        var password: String
        var therapists: [Therapist]
    }

    func administer() async throws {
        guard let password = ProcessInfo.processInfo.environment["EHR_BENCH_PASSWORD"], password.count >= 12 else {
            throw ValidationError("set EHR_BENCH_PASSWORD (12+ characters) for the generated accounts")
        }
        let services = try await openServices(label: "ehr.dev")
        try await services.database.migrate()
        let hash = try await services.passwordHash(password)
        let clock = ContinuousClock()
        let started = clock.now
        var output = Fixtures(password: password, therapists: [])
        let patientsPerTenant = patients / tenants
        let appointmentsPerTenant = appointments / tenants
        for t in 1...tenants {
            let slug = "bench-\(t)"
            let generated = try await services.generateLoadPractice(
                slug: slug, therapists: therapists, patients: patientsPerTenant, appointments: appointmentsPerTenant, passwordHash: hash)
            for (email, patientIDs) in generated {
                output.therapists.append(.init(tenant: slug, email: email, patientIDs: patientIDs.map { $0.lowercasedString }))
            }
            print("practice \(slug): \(therapists) therapists, \(patientsPerTenant) patients, \(appointmentsPerTenant) appointments")
        }
        let url = URL(fileURLWithPath: fixtures)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try JSONEncoder().encode(output).write(to: url)
        print("generated in \(clock.now - started); fixtures at \(fixtures)")
        await services.database.shutdown()
    }
}

/// Appends synthetic events to a practice's audit chain, to measure `ehr audit verify` on long chains
/// (see `scripts/audit-verify-scale`).
struct GenerateAuditEvents: AdministrationCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate-audit-events", abstract: "Append synthetic audit events to a practice's chain (for measuring verification).")

    @Option(help: "Practice slug.") var tenant = "demo"
    @Option(help: "Events to append.") var count = 1_000_000

    func administer() async throws {
        let services = try await openServices(label: "ehr.dev")
        try await services.database.migrate()
        let practice = try await services.practice(slug: tenant)
        let clock = ContinuousClock()
        let started = clock.now
        let written = try await services.generateAuditEvents(of: practice, count: count) { done in
            if done % 100_000 == 0 { print("\(done) events") }
        }
        print("appended \(written) events to \(tenant) in \(clock.now - started)")
        await services.database.shutdown()
    }
}
