import EHRAPI
import EHRDomain
import Foundation
import OpenAPIRuntime

/// Appointments: wire types in, ``UseCases`` calls, wire types out.
extension APIHandler {
    func listAppointments(_ input: Operations.ListAppointments.Input) async throws -> Operations.ListAppointments.Output {
        let principal = try RequestScope.principal()
        let q = input.query
        let page = try pageRequest(limit: q.limit, cursor: q.cursor, list: .appointments)
        if let from = q.from, let to = q.to, to < from { throw ProblemError.badParameter("to", "must not be before from") }
        let filter = AppointmentFilter(
            from: q.from, to: q.to,
            therapistID: try queryID(q.therapistId, field: "therapistId"),
            patientID: try queryID(q.patientId, field: "patientId"),
            status: q.status.flatMap { AppointmentStatus(rawValue: $0.rawValue) },
            upcomingAfter: q.upcoming == true ? Date() : nil)
        let result = try await useCases.appointments(principal, filter: filter, page: page)
        if let hot = HotListBody.current {
            hot.set(AppointmentListJSON.encode(result.items, nextCursor: nextCursor(result, list: .appointments)))
            return .ok(.init(body: .json(.init(items: []))))
        }
        return .ok(.init(body: .json(.init(items: result.items.map(Components.Schemas.Appointment.init), nextCursor: nextCursor(result, list: .appointments)))))
    }

    func createAppointment(_ input: Operations.CreateAppointment.Input) async throws -> Operations.CreateAppointment.Output {
        let principal = try RequestScope.principal()
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        let appointment = try await useCases.createAppointment(
            principal,
            AppointmentInput(
                patientID: body.patientId, therapistID: body.therapistId, startsAt: body.startsAt, endsAt: body.endsAt,
                timeZone: body.timeZone, kind: AppointmentKind(rawValue: body.kind.rawValue)!, reason: body.reason))
        return .created(.init(body: .json(.init(appointment))))
    }

    func getAppointment(_ input: Operations.GetAppointment.Input) async throws -> Operations.GetAppointment.Output {
        .ok(.init(body: .json(.init(try await useCases.appointment(try RequestScope.principal(), id: try pathID(input.path.id)).0))))
    }

    func updateAppointment(_ input: Operations.UpdateAppointment.Input) async throws -> Operations.UpdateAppointment.Output {
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        let changes = AppointmentChanges(
            startsAt: body.startsAt, endsAt: body.endsAt, timeZone: body.timeZone, kind: body.kind.flatMap { AppointmentKind(rawValue: $0.rawValue) },
            reason: body.reason, status: body.status.flatMap { AppointmentStatus(rawValue: $0.rawValue) })
        let appointment = try await useCases.updateAppointment(try RequestScope.principal(), id: try pathID(input.path.id), changes)
        return .ok(.init(body: .json(.init(appointment))))
    }

    func cancelAppointment(_ input: Operations.CancelAppointment.Input) async throws -> Operations.CancelAppointment.Output {
        let reason: String? = if case .json(let body) = input.body { body.reason } else { nil }
        let appointment = try await useCases.cancelAppointment(try RequestScope.principal(), id: try pathID(input.path.id), reason: reason)
        return .ok(.init(body: .json(.init(appointment))))
    }

    func startTelevisit(_ input: Operations.StartTelevisit.Input) async throws -> Operations.StartTelevisit.Output {
        let pass = try await useCases.startTelevisit(try RequestScope.principal(), appointmentID: try pathID(input.path.id))
        return .ok(
            .init(
                body: .json(
                    .init(
                        appointment: .init(pass.appointment), roomId: pass.roomID, joinUrl: pass.joinURL, joinToken: pass.joinToken,
                        expiresAt: pass.expiresAt))))
    }
}
