import EHRDomain
import Foundation
import HTTPTypes
import Hummingbird

/// The schedule (day and week in the practice's zone), booking, rescheduling, cancelling and televisits.
extension WebApp {
    func schedule(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try session(context).principal
        let zone = try await practiceZone(principal)
        let calendar = WebFormat.calendar(zone)
        let query = request.uri.queryParameters
        let week = query.get("view") == "week"
        let anchor = query.get("date").flatMap { WebFormat.parseDay($0, in: zone) } ?? calendar.startOfDay(for: Date())
        let start = week ? calendar.dateInterval(of: .weekOfYear, for: anchor)!.start : calendar.startOfDay(for: anchor)
        let days = week ? 7 : 1
        let end = calendar.date(byAdding: .day, value: days, to: start)!
        let filter = AppointmentFilter(from: start, to: end, therapistID: principal.role == .therapist ? principal.userID : nil)
        let page = try await useCases.appointments(principal, filter: filter, page: PageRequest(limit: PageRequest.maximumLimit))
        var names: [UUID: String] = [:]
        for id in Set(page.items.map(\.patientID)) {
            if let patient = try await services.store.find(id: id, tenantID: principal.tenantID) as Patient?, AccessPolicy.canViewPatient(principal, patient) {
                names[id] = "\(patient.firstName) \(patient.lastName)"
            }
        }
        let dayValues: [[String: Any]] = (0..<days).map { offset in
            let day = calendar.date(byAdding: .day, value: offset, to: start)!
            let items = page.items.filter { calendar.isDate($0.startsAt, inSameDayAs: day) }.sorted { $0.startsAt < $1.startsAt }
            return [
                "label": week ? WebFormat.shortDay(day, in: zone) : WebFormat.day(day, in: zone), "today": calendar.isDateInToday(day),
                "appointments": items.map { appointmentRow($0, name: names[$0.patientID], zone: zone) }, "empty": items.isEmpty,
            ]
        }
        let step = week ? 7 : 1
        func link(_ date: Date, week: Bool) -> String { "/app/schedule?view=\(week ? "week" : "day")&date=\(WebFormat.isoDay(date, in: zone))" }
        return self.page(
            "schedule", "Schedule", context,
            [
                "heading": week ? "Week of \(WebFormat.day(start, in: zone))" : WebFormat.day(start, in: zone), "days": dayValues, "week": week,
                "previous": link(calendar.date(byAdding: .day, value: -step, to: start)!, week: week),
                "next": link(calendar.date(byAdding: .day, value: step, to: start)!, week: week),
                "today": link(Date(), week: week), "dayLink": link(start, week: false), "weekLink": link(start, week: true),
                "zone": zone.identifier, "more": page.next != nil, "canBook": principal.role != .client,
            ])
    }

    /// One appointment for a list: time in the practice's zone, and its own zone where that differs.
    func appointmentRow(_ a: Appointment, name: String?, zone: TimeZone) -> [String: Any] {
        let own = TimeZone(identifier: a.timeZone) ?? zone
        var row: [String: Any] = [
            "id": a.id.wire, "time": WebFormat.times(a.startsAt, a.endsAt, in: zone), "when": WebFormat.range(a.startsAt, a.endsAt, in: zone),
            "who": name ?? "Patient", "status": a.status.rawValue, "statusLabel": a.status.rawValue.replacingOccurrences(of: "_", with: " "),
            "kind": a.kind == .televisit ? "Televisit" : "In person", "cancelled": a.status == .cancelled,
        ]
        if own.identifier != zone.identifier {
            row["ownZone"] = "\(WebFormat.times(a.startsAt, a.endsAt, in: own)) \(own.identifier)"
        }
        return row
    }

    func newAppointment(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try session(context).principal
        let zone = try await practiceZone(principal)
        let chosen = request.uri.queryParameters.get("patient")
        return try await appointmentForm(context, principal, zone: zone, values: ["patientId": chosen ?? "", "duration": "50", "kind": "televisit"])
    }

    private func appointmentForm(
        _ context: AppRequestContext, _ principal: Principal, zone: TimeZone, values: [String: Any], status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        guard principal.role != .client else { throw DomainError.forbidden }
        let patients = try await useCases.patients(principal, search: PatientSearch(status: .active), page: PageRequest(limit: PageRequest.maximumLimit))
        var values = values
        let chosen = values["patientId"] as? String
        values["patients"] = patients.items.map { ["id": $0.id.wire, "name": "\($0.lastName), \($0.firstName)", "selected": $0.id.wire == chosen] }
        values["zone"] = values["zone"] ?? zone.identifier
        values["durations"] = [30, 45, 50, 60, 90].map { ["minutes": $0, "selected": "\($0)" == (values["duration"] as? String)] }
        values["televisit"] = (values["kind"] as? String) != "in_person"
        return page("appointment-form", "Book an appointment", context, values, status: status)
    }

    func createAppointment(_ context: AppRequestContext) async throws -> Response {
        let principal = try session(context).principal
        let form = context.form ?? WebForm("")
        let zone = try await practiceZone(principal)
        let bookingZone = form.nonBlank("timeZone").flatMap(TimeZone.init(identifier:)) ?? zone
        var values: [String: Any] = [
            "patientId": form["patientId"] ?? "", "start": form["start"] ?? "", "duration": form["duration"] ?? "50",
            "kind": form["kind"] ?? "televisit", "reason": form["reason"] ?? "", "zone": bookingZone.identifier,
        ]
        guard let start = form["start"].flatMap({ WebFormat.parseLocal($0, in: bookingZone) }) else {
            values["errors"] = ["start": "choose a date and time"]
            return try await appointmentForm(context, principal, zone: zone, values: values, status: .unprocessableContent)
        }
        let minutes = Int(form["duration"] ?? "") ?? 50
        let input = AppointmentInput(
            patientID: form["patientId"], therapistID: principal.role == .therapist ? principal.userID.wire : form["therapistId"], startsAt: start,
            endsAt: start.addingTimeInterval(TimeInterval(minutes * 60)), timeZone: bookingZone.identifier,
            kind: form["kind"] == "in_person" ? .inPerson : .televisit, reason: form.nonBlank("reason"))
        do {
            let appointment = try await useCases.createAppointment(principal, input)
            return WebRenderer.redirect("/app/appointments/\(appointment.id.wire)")
        } catch DomainError.validation(let errors) {
            values["errors"] = Self.errorMap(errors.map { FieldError($0.field == "startsAt" || $0.field == "endsAt" ? "start" : $0.field, $0.message) })
            return try await appointmentForm(context, principal, zone: zone, values: values, status: .unprocessableContent)
        } catch DomainError.appointmentOverlap(let other) {
            var message = "You already have an appointment at that time"
            if let other, let existing = try await services.store.find(id: other, tenantID: principal.tenantID) as Appointment? {
                message += " (\(WebFormat.range(existing.startsAt, existing.endsAt, in: zone)))"
            }
            values["conflict"] = message + ". Choose another time."
            return try await appointmentForm(context, principal, zone: zone, values: values, status: .conflict)
        }
    }

    func appointment(_ context: AppRequestContext, values extra: [String: Any] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let principal = try session(context).principal
        let (appointment, patient) = try await useCases.appointment(principal, id: try routeID(context))
        let zone = try await practiceZone(principal)
        let name = AccessPolicy.canViewPatient(principal, patient) ? "\(patient.firstName) \(patient.lastName)" : nil
        var values = appointmentRow(appointment, name: name, zone: zone)
        values["patientId"] = AccessPolicy.canViewPatient(principal, patient) ? patient.id.wire : nil
        values["reason"] = appointment.reason
        values["cancellationReason"] = appointment.cancellationReason
        values["canEdit"] = AccessPolicy.canUpdateAppointment(principal, appointment) && AppointmentWorkflow.isEditable(appointment.status)
        values["canTelevisit"] =
            AccessPolicy.canStartTelevisit(principal, appointment, patient: patient) && appointment.kind == .televisit
            && AppointmentWorkflow.canStartTelevisit(appointment.status)
        values["start"] = WebFormat.localInput(appointment.startsAt, in: TimeZone(identifier: appointment.timeZone) ?? zone)
        values["minutes"] = Int(appointment.endsAt.timeIntervalSince(appointment.startsAt) / 60)
        values.merge(extra) { _, new in new }
        return page("appointment", "Appointment", context, values, status: status)
    }

    func reschedule(_ context: AppRequestContext) async throws -> Response {
        let principal = try session(context).principal
        let form = context.form ?? WebForm("")
        let id = try routeID(context)
        let (current, _) = try await useCases.appointment(principal, id: id)
        let zone = TimeZone(identifier: current.timeZone) ?? TimeZone(identifier: "UTC")!
        guard let start = form["start"].flatMap({ WebFormat.parseLocal($0, in: zone) }), let minutes = Int(form["minutes"] ?? "") else {
            return try await appointment(context, values: ["errors": ["start": "choose a date, time and length"]], status: .unprocessableContent)
        }
        do {
            _ = try await useCases.updateAppointment(
                principal, id: id, AppointmentChanges(startsAt: start, endsAt: start.addingTimeInterval(TimeInterval(minutes * 60))))
            return WebRenderer.redirect("/app/appointments/\(id.wire)")
        } catch DomainError.appointmentOverlap {
            return try await appointment(context, values: ["conflict": "You already have an appointment at that time. Choose another time."], status: .conflict)
        } catch DomainError.validation(let errors) {
            return try await appointment(context, values: ["errors": ["start": errors.map(\.message).joined(separator: "; ")]], status: .unprocessableContent)
        }
    }

    func cancelAppointment(_ context: AppRequestContext) async throws -> Response {
        let id = try routeID(context)
        _ = try await useCases.cancelAppointment(try session(context).principal, id: id, reason: context.form?.nonBlank("reason"))
        return WebRenderer.redirect("/app/appointments/\(id.wire)")
    }

    func startTelevisit(_ context: AppRequestContext) async throws -> Response {
        let pass = try await useCases.startTelevisit(try session(context).principal, appointmentID: try routeID(context))
        let zone = TimeZone(identifier: pass.appointment.timeZone) ?? TimeZone(identifier: "UTC")!
        return try await appointment(
            context, values: ["joinUrl": pass.joinURL, "joinExpires": WebFormat.moment(pass.expiresAt, in: zone), "roomId": pass.roomID])
    }
}
