import Foundation

/// Where the service keeps its data.
public enum DatabaseConfiguration: Sendable, Equatable {
    /// An embedded SQLite file (WAL mode), the default for a single practice machine.
    case sqlite(path: String)
    /// A PostgreSQL server, for production. `poolSize` is connections per event loop.
    case postgres(url: String, poolSize: Int)

    var isSQLite: Bool {
        if case .sqlite = self { true } else { false }
    }
}

/// The SQL dialect in use, for the few statements that differ.
public enum SQLDialectKind: Sendable {
    case sqlite
    case postgres
}
