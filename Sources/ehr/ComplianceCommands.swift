import ArgumentParser
import EHRDomain
import EHRSecurity
import EHRServer
import Foundation

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Verify the tamper-evident audit log and issue checkpoints.",
        subcommands: [Verify.self, Checkpoint.self])

    struct Verify: AdministrationCommand {
        static let configuration = CommandConfiguration(
            abstract: "Walk each practice's hash chain and report the first broken link. Exits 1 when any chain is broken.")

        @Option(help: "Only this practice (slug); default: every practice.") var tenant: String?
        @Option(help: "A checkpoint printed earlier by `ehr audit checkpoint` (repeatable); detects truncation behind it.")
        var checkpoint: [String] = []

        func administer() async throws {
            try await withServices(label: "ehr.audit") { services in
                let checkpoints = try checkpoint.map { text in
                    do { return try AuditCheckpoint(encoded: text) } catch { throw ValidationError("not a checkpoint: \(text.prefix(20))…") }
                }
                let practices = try await selectedPractices(services, tenant)
                var broken = false
                for practice in practices {
                    let given = checkpoints.first { $0.tenantID == practice.id.lowercasedString }
                    let report = try await services.verifyAudit(of: practice, checkpoint: given)
                    let against = given.map { " (against checkpoint of \($0.count) events)" } ?? ""
                    if report.isIntact {
                        print("\(practice.slug): intact, \(report.eventCount) events\(against), head \(report.headHash.hexString.prefix(16))…")
                    } else {
                        broken = true
                        let what =
                            report.firstBreak.map { b in
                                "event \(b.sequence.map(String.init) ?? "-") (position \(b.index)): \(AuditBreakDescription.text(b.reason))"
                            }
                            ?? (report.headMismatch
                                ? "the recorded chain head does not match the newest event (events removed or added at the end)"
                                : "the access log's index of listed patients does not match the chained events")
                        print("\(practice.slug): BROKEN after \(report.verifiedCount) sound events of \(report.eventCount)\(against): \(what)")
                    }
                }
                if broken { throw ExitCode(1) }
            }
        }
    }

    struct Checkpoint: AdministrationCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a signed head (practice, count, head hash, time) per practice. Keep it outside the database (a ticket, a WORM bucket, a printout)."
        )

        @Option(help: "Only this practice (slug); default: every practice.") var tenant: String?

        func administer() async throws {
            try await withServices(label: "ehr.audit") { services in
                let practices = try await selectedPractices(services, tenant)
                for practice in practices {
                    let checkpoint = try await services.auditCheckpoint(of: practice)
                    print("\(practice.slug) \(checkpoint.count) events: \(checkpoint.encoded())")
                }
            }
        }
    }
}

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "keys", abstract: "Manage practices' encryption keys.", subcommands: [Rotate.self])

    struct Rotate: AdministrationCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a new data key for a practice and re-encrypt its rows in batches while the service keeps serving.")

        @Option(help: "The practice (slug).") var tenant: String

        func administer() async throws {
            try await withServices(label: "ehr.keys") { services in
                let practice = try await services.practice(slug: tenant)
                print("Rotating the data key of '\(practice.slug)'; the service keeps serving (old rows decrypt until moved)…")
                let (version, rows) = try await services.rotateKeys(of: practice)
                print("Done: data key version \(version) is current; \(rows) rows re-encrypted.")
            }
        }
    }
}

extension TenantCommand {
    struct Shred: AdministrationCommand {
        static let configuration = CommandConfiguration(
            abstract: "Destroy a practice's keys (crypto-shredding): its patients' data becomes unreadable for good.")

        @Option(help: "The practice (slug).") var tenant: String
        @Flag(help: "Do not ask for confirmation (for scripts).") var yes = false

        func administer() async throws {
            try await withServices(label: "ehr.tenant") { services in
                let practice = try await services.practice(slug: tenant)
                print(
                    """
                    This destroys every encryption key of '\(practice.slug)' (\(practice.name)).
                    All of its patients' names, contact details, notes and addenda become unreadable FOR GOOD;
                    nobody, including you, can recover them. Backups taken before now still hold the wrapped keys:
                    they stay readable with the master key until they expire (see docs/security.md).
                    """)
                if !yes {
                    print("Type the practice slug to confirm: ", terminator: "")
                    guard readLine()?.trimmingCharacters(in: .whitespaces) == practice.slug else {
                        print("Not confirmed; nothing changed.")
                        throw ExitCode(1)
                    }
                }
                try await services.shredPractice(practice)
                print("Shredded: the keys of '\(practice.slug)' are destroyed; its data can no longer be read.")
            }
        }
    }
}

/// Opens services, runs `body`, and always closes the database before returning.
func withServices(label: String, _ body: (AppServices) async throws -> Void) async throws {
    let services = try await openServices(label: label)
    do {
        try await body(services)
    } catch {
        await services.database.shutdown()
        throw error
    }
    await services.database.shutdown()
}

/// The practice named by `--tenant`, or every practice.
func selectedPractices(_ services: AppServices, _ slug: String?) async throws -> [Tenant] {
    if let slug { return [try await services.practice(slug: slug)] }
    return try await services.allPractices()
}
