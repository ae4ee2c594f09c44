import EHRDomain
import Foundation
import SQLKit

/// How a join for a seat ended.
public enum SeatClaim: Sendable, Equatable {
    /// The seat is the caller's; `replaced` is the socket of the same user that held it until now, if any.
    case seated(replaced: UUID?)
    /// Another user holds the seat, and their lease is running.
    case occupied
}

private struct SeatRow: Decodable {
    var tenant_id: UUID
    var room_id: String
    var role: String
    var appointment_id: UUID
    var user_id: UUID
    var connection_id: UUID
    var admitted: Bool
    var joined_at: Date
    var lease_until: Date

    func seat() throws -> TelevisitSeat {
        guard let role = TelevisitRole(rawValue: role) else { throw StorageError.corrupt("televisit_seats.role") }
        return TelevisitSeat(
            tenantID: tenant_id, roomID: room_id, role: role, appointmentID: appointment_id, userID: user_id, connectionID: connection_id,
            admitted: admitted, joinedAt: joined_at, leaseUntil: lease_until)
    }
}

extension SQLStore {
    private static let seatColumns = "tenant_id, room_id, role, appointment_id, user_id, connection_id, admitted, joined_at, lease_until"

    /// Takes `seat` for its socket: free, lapsed (its server died) or held by the same user (a second device or a
    /// reconnect replaces the first socket) seats are taken; a seat another user holds is not. Two joins racing
    /// for one seat on two instances: the unique key lets one in at a time, and the later one sees the earlier.
    public func takeSeat(_ seat: TelevisitSeat, now: Date) async throws -> SeatClaim {
        let now = millisecondPrecision(now)
        let lock = database.dialect == .postgres ? " FOR UPDATE" : ""
        return try await write { db in
            let held = try await db.raw(
                """
                SELECT \(unsafeRaw: Self.seatColumns) FROM televisit_seats
                WHERE tenant_id = \(bind: seat.tenantID) AND room_id = \(bind: seat.roomID) AND role = \(bind: seat.role.rawValue)\(unsafeRaw: lock)
                """
            ).first(decoding: SeatRow.self, with: Self.decoder)
            if let held, held.user_id != seat.userID, held.lease_until > now { return .occupied }
            let taken = try await db.raw(
                """
                INSERT INTO televisit_seats (\(unsafeRaw: Self.seatColumns))
                VALUES (\(bind: seat.tenantID), \(bind: seat.roomID), \(bind: seat.role.rawValue), \(bind: seat.appointmentID), \(bind: seat.userID),
                    \(bind: seat.connectionID), \(bind: seat.admitted), \(bind: millisecondPrecision(seat.joinedAt)), \(bind: millisecondPrecision(seat.leaseUntil)))
                ON CONFLICT (tenant_id, room_id, role) DO UPDATE SET appointment_id = excluded.appointment_id, user_id = excluded.user_id,
                    connection_id = excluded.connection_id, admitted = excluded.admitted, joined_at = excluded.joined_at, lease_until = excluded.lease_until
                WHERE televisit_seats.user_id = excluded.user_id OR televisit_seats.lease_until <= \(bind: now)
                RETURNING connection_id
                """
            ).first(decoding: ConnectionRow.self)
            guard taken != nil else { return .occupied }
            return .seated(replaced: held.map(\.connection_id))
        }
    }

    /// The seat of `role` in the room while its lease runs.
    public func seat(tenantID: UUID, roomID: String, role: TelevisitRole, now: Date) async throws -> TelevisitSeat? {
        try await sql.raw(
            """
            SELECT \(unsafeRaw: Self.seatColumns) FROM televisit_seats
            WHERE tenant_id = \(bind: tenantID) AND room_id = \(bind: roomID) AND role = \(bind: role.rawValue)
                AND lease_until > \(bind: millisecondPrecision(now))
            """
        ).first(decoding: SeatRow.self, with: Self.decoder)?.seat()
    }

    /// Extends the lease of the socket's seat; false when the socket no longer holds one (replaced, or lapsed and taken).
    public func renewSeat(connectionID: UUID, tenantID: UUID, until: Date) async throws -> Bool {
        try await sql.raw(
            """
            UPDATE televisit_seats SET lease_until = \(bind: millisecondPrecision(until))
            WHERE tenant_id = \(bind: tenantID) AND connection_id = \(bind: connectionID)
            RETURNING connection_id
            """
        ).first(decoding: ConnectionRow.self) != nil
    }

    /// Lets the client waiting in the room in; the client's seat, or nil when nobody waits there.
    public func admitClient(tenantID: UUID, roomID: String, now: Date) async throws -> TelevisitSeat? {
        try await sql.raw(
            """
            UPDATE televisit_seats SET admitted = \(bind: true)
            WHERE tenant_id = \(bind: tenantID) AND room_id = \(bind: roomID) AND role = 'client' AND lease_until > \(bind: millisecondPrecision(now))
            RETURNING \(unsafeRaw: Self.seatColumns)
            """
        ).first(decoding: SeatRow.self, with: Self.decoder)?.seat()
    }

    /// Frees the socket's seat (it left, or closed); false when it held none any more (it was replaced).
    @discardableResult
    public func leaveSeat(connectionID: UUID, tenantID: UUID) async throws -> Bool {
        try await sql.raw(
            "DELETE FROM televisit_seats WHERE tenant_id = \(bind: tenantID) AND connection_id = \(bind: connectionID) RETURNING connection_id"
        ).first(decoding: ConnectionRow.self) != nil
    }
}

private struct ConnectionRow: Decodable { var connection_id: UUID }
