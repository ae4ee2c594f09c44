import Foundation
import Testing

/// The databases the HTTP suite runs against: SQLite always; PostgreSQL when the test script
/// provides a server (`EHR_TEST_POSTGRES_URL`, set by `scripts/test` from a throwaway cluster).
enum TestBackend: Sendable, CustomTestStringConvertible, Hashable {
    case sqlite
    case postgres(String)

    static var all: [TestBackend] {
        var list: [TestBackend] = [.sqlite]
        if let url = ProcessInfo.processInfo.environment["EHR_TEST_POSTGRES_URL"], !url.isEmpty {
            list.append(.postgres(url))
        }
        return list
    }

    var testDescription: String {
        switch self {
        case .sqlite: return "SQLite"
        case .postgres: return "PostgreSQL"
        }
    }
}
