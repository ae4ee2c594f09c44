import EHRDomain
import Foundation
import NIOConcurrencyHelpers

/// The live sockets of this process, by user. Each socket has one writer task; others hand it frames through
/// ``Connection/send``, so frames of one socket never interleave.
final class LiveHub: Sendable {
    struct Connection: Sendable {
        let id: UUID
        let principal: Principal
        let clientIP: String?
        let send: @Sendable (String) -> Void
    }

    private let connections = NIOLockedValueBox<[UUID: [UUID: Connection]]>([:])

    init() {}

    func register(_ connection: Connection) {
        connections.withLockedValue { $0[connection.principal.userID, default: [:]][connection.id] = connection }
    }

    func unregister(_ connection: Connection) {
        connections.withLockedValue { all in
            all[connection.principal.userID]?[connection.id] = nil
            if all[connection.principal.userID]?.isEmpty == true { all[connection.principal.userID] = nil }
        }
    }

    /// The sockets of `userID` in `tenantID` open on this process.
    func connections(of userID: UUID, tenantID: UUID) -> [Connection] {
        connections.withLockedValue { all in (all[userID] ?? [:]).values.filter { $0.principal.tenantID == tenantID } }
    }

    /// Every socket open on this process.
    var all: [Connection] { connections.withLockedValue { $0.values.flatMap(\.values) } }

    var count: Int { connections.withLockedValue { $0.values.reduce(0) { $0 + $1.count } } }
}
