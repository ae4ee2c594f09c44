import EHRDomain
import Foundation

/// Which rows the current task may see in PostgreSQL, enforced there by row-level security as a backstop
/// behind every query's own `tenant_id` condition (see `RowLevelSecurity`).
///
/// Every statement the service sends runs on a connection set up for the scope of the task that sent it:
/// `app.tenant_id` for a practice, `app.system` for the named narrow path, and neither when no scope is set,
/// in which case no practice's rows are visible at all. SQLite has no row-level security; there the scope
/// only documents intent.
public enum DatabaseScope: Sendable, Hashable {
    /// One practice's rows. Set by the server once a request's caller is known.
    case tenant(UUID)
    /// Rows of every practice, for the few operations that must find a row before they know its practice.
    case system(SystemAccess)

    /// The scope of the current task; nil sees no practice's rows.
    @TaskLocal public static var current: DatabaseScope?

    /// Runs `body` with the rows of one practice visible.
    public static func tenant<T>(
        _ tenantID: UUID, isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T
    ) async rethrows -> T {
        try await $current.withValue(.tenant(tenantID), operation: body, isolation: isolation)
    }

    /// Runs `body` on the narrow path that sees every practice's rows, naming why.
    public static func system<T>(
        _ purpose: SystemAccess, isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T
    ) async rethrows -> T {
        try await $current.withValue(.system(purpose), operation: body, isolation: isolation)
    }

    /// The values of the three settings that put a PostgreSQL connection in this scope:
    /// `app.tenant_id` and `app.system` (empty when not set).
    var settings: (tenant: String, system: String) {
        switch self {
        case .tenant(let id): (id.lowercasedString, "")
        case .system(let purpose): ("", purpose.rawValue)
        }
    }
}

/// The only reasons a task may see every practice's rows. Each names one lookup that cannot know its practice
/// beforehand; anything else runs in a practice's scope.
public enum SystemAccess: String, Sendable, CaseIterable {
    /// Sign-in: the practice by its slug (then the account in that practice's scope).
    case signIn = "sign-in"
    /// Refresh, sign-out, invitation and web-session tokens looked up by their hash.
    case tokenLookup = "token-lookup"
    /// The audit writer: a group-commit flush holding several practices' events, and the sealer that moves
    /// every practice's inbox rows onto their chains (PostgreSQL).
    case auditWriter = "audit-writer"
    /// The `ehr` command line (migrations, seeding, practices, keys, audit verification) run by an operator.
    case administration
    /// Background maintenance across practices (re-encryption after a key rotation, checkpoints).
    case maintenance
    /// Live events: `pg_notify` of identifiers to the other instances (reads and writes no row).
    case liveEvents = "live-events"
    /// The notification scheduler: the coming day's appointments of every practice (to queue reminders) and
    /// the outbox rows that are due (to claim them; each is then sent in its own practice's scope).
    case notifications
}
