import AsyncKit
import NIOCore
import NIOPosix
import PostgresNIO

/// Whether `error` says the database cannot be reached right now: the connection was refused or lost, the server
/// is shutting down or still starting, or no pooled connection came free in time. Such a request may succeed when
/// tried again, so it is answered 503 with `Retry-After`, not 500.
public func isDatabaseUnavailable(_ error: any Error) -> Bool {
    if let psql = error as? PSQLError {
        switch psql.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
            return true
        case .server:
            // Class 08 (connection exception), and admin_shutdown, crash_shutdown, cannot_connect_now.
            guard let state = databaseErrorCode(psql) else { return false }
            return state.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(state)
        default:
            return false
        }
    }
    switch error {
    case is ConnectionPoolTimeoutError, is NIOConnectionError, is IOError:
        return true
    case let channel as ChannelError:
        return channel == .ioOnClosedChannel || channel == .alreadyClosed || channel == .eof
    default:
        return false
    }
}
