import EHRDomain
import Foundation
import HTTPTypes
import Hummingbird

/// The client portal: upcoming appointments, signed notes (never drafts: the policy's scope), own profile.
extension WebApp {
    func portal(_ context: AppRequestContext) async throws -> Response {
        let principal = try session(context).principal
        let zone = try await practiceZone(principal)
        let page = try await useCases.appointments(principal, filter: AppointmentFilter(upcomingAfter: Date()), page: PageRequest(limit: 50))
        return self.page(
            "portal", "Your appointments", context,
            ["appointments": page.items.map { appointmentRow($0, name: nil, zone: zone) }, "empty": page.items.isEmpty])
    }

    func portalNotes(_ context: AppRequestContext) async throws -> Response {
        let principal = try session(context).principal
        let zone = try await practiceZone(principal)
        let (notes, _) = try await useCases.notes(principal, filter: NoteFilter(), page: PageRequest(limit: 50))
        return page("portal-notes", "Your notes", context, ["notes": notes.items.map { noteRow($0, zone: zone) }, "empty": notes.items.isEmpty])
    }

    func profile(_ context: AppRequestContext) async throws -> Response {
        let principal = try session(context).principal
        guard principal.role == .client, let own = try await services.store.find(portalUserID: principal.userID, tenantID: principal.tenantID) else {
            throw DomainError.notFound
        }
        let patient = try await useCases.patient(principal, id: own.id)
        var values = patientRow(patient)
        values["fullName"] = "\(patient.firstName) \(patient.lastName)"
        values["phone"] = patient.phone ?? ""
        return page("profile", "Your profile", context, values)
    }
}

/// Admin: staff (invite a therapist, copy the invitation link, deactivate) and the audit log.
extension WebApp {
    func staff(_ context: AppRequestContext, values extra: [String: Any] = [:], status: HTTPResponse.Status = .ok) async throws -> Response {
        let principal = try session(context).principal
        guard AccessPolicy.canCreateProvider(principal) else { throw DomainError.forbidden }
        let providers = try await useCases.providers(principal, page: PageRequest(limit: PageRequest.maximumLimit))
        var values: [String: Any] = [
            "staff": providers.items.map {
                ["id": $0.id.wire, "name": $0.user.displayName, "email": $0.user.email, "credentials": $0.credentials, "active": $0.user.active]
            }
        ]
        values.merge(extra) { _, new in new }
        return page("staff", "Staff", context, values, status: status)
    }

    func inviteTherapist(_ context: AppRequestContext) async throws -> Response {
        let principal = try session(context).principal
        let form = context.form ?? WebForm("")
        let input = ProviderInput(
            email: form["email"], displayName: form["displayName"], licenseNumber: form["licenseNumber"], licenseState: form["licenseState"],
            credentials: form["credentials"],
            specialties: form.nonBlank("specialties").map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } })
        do {
            let (provider, invitation) = try await useCases.createProvider(principal, input)
            return try await staff(
                context,
                values: ["invited": provider.user.displayName, "inviteLink": "/app/accept-invite?token=\(invitation.token)"])
        } catch DomainError.validation(let errors) {
            var values: [String: Any] = ["errors": Self.errorMap(errors)]
            for field in ["email", "displayName", "licenseNumber", "licenseState", "credentials", "specialties"] { values[field] = form[field] ?? "" }
            return try await staff(context, values: values, status: .unprocessableContent)
        } catch DomainError.conflict(let message) {
            return try await staff(context, values: ["failure": message], status: .conflict)
        }
    }

    func inviteAdmin(_ context: AppRequestContext) async throws -> Response {
        let form = context.form ?? WebForm("")
        do {
            let (user, invitation) = try await useCases.createAdmin(try session(context).principal, email: form["adminEmail"], displayName: form["adminName"])
            return try await staff(context, values: ["invited": user.displayName, "inviteLink": "/app/accept-invite?token=\(invitation.token)"])
        } catch DomainError.validation(let errors) {
            let values: [String: Any] = ["adminErrors": Self.errorMap(errors), "adminEmail": form["adminEmail"] ?? "", "adminName": form["adminName"] ?? ""]
            return try await staff(context, values: values, status: .unprocessableContent)
        } catch DomainError.conflict(let message) {
            return try await staff(context, values: ["failure": message], status: .conflict)
        }
    }

    func deactivate(_ context: AppRequestContext) async throws -> Response {
        try await useCases.deactivateProvider(try session(context).principal, id: try routeID(context))
        return WebRenderer.redirect("/app/staff")
    }

    /// The audit log with the API's filters (actor, patient, record type, action, outcome, time range), newest
    /// first in pages, and the chain's verification on request.
    func audit(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try session(context).principal
        guard AccessPolicy.canReadAudit(principal) else { throw DomainError.forbidden }
        let query = request.uri.queryParameters
        func text(_ name: String) -> String? { query.get(name).flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 } }
        let zone = try await practiceZone(principal)
        let outcome = text("outcome").flatMap(AuditOutcome.init(rawValue:))
        var errors: [String: String] = [:]
        let actor = text("actorId").flatMap { raw in
            UUID(uuidString: raw)
                ?? {
                    errors["actorId"] = "must be an id"
                    return nil
                }()
        }
        let patient = text("patientId").flatMap { raw in
            UUID(uuidString: raw)
                ?? {
                    errors["patientId"] = "must be an id"
                    return nil
                }()
        }
        let from = text("from").flatMap { raw in
            WebFormat.parseDay(raw, in: zone)
                ?? {
                    errors["from"] = "must be a date"
                    return nil
                }()
        }
        let to = text("to").flatMap { raw in
            WebFormat.parseDay(raw, in: zone)
                ?? {
                    errors["to"] = "must be a date"
                    return nil
                }()
        }
        let filter = AuditEventFilter(
            actorID: actor?.wire, patientID: patient, resourceType: text("resourceType"), action: text("action"), outcome: outcome, from: from,
            to: to.map { WebFormat.calendar(zone).date(byAdding: .day, value: 1, to: $0)! })
        let cursor = text("cursor").flatMap { services.cursors.decode($0, list: .auditEvents) }
        let events = try await services.auditLog.list(
            tenantID: principal.tenantID, filter: filter, page: PageRequest(limit: 50, after: cursor), in: services.database)
        let report = query.get("verify") == "1" ? try await services.auditLog.verify(tenantID: principal.tenantID, in: services.database) : nil
        var values: [String: Any] = [
            "events": events.items.map { e in
                [
                    "when": WebFormat.moment(e.draft.occurredAt, in: zone), "actor": e.draft.actorRole, "actorId": e.draft.actorID,
                    "action": e.draft.action, "outcome": e.draft.outcome.rawValue, "resource": e.draft.resourceType, "sequence": e.sequence,
                ] as [String: Any]
            },
            "outcomes": AuditOutcome.allCases.map { ["value": $0.rawValue, "selected": $0 == outcome] },
            "errors": errors,
        ]
        for name in ["actorId", "patientId", "resourceType", "action", "from", "to"] { values[name] = query.get(name) ?? "" }
        if let next = events.next {
            var components = URLComponents()
            components.queryItems =
                ["actorId", "patientId", "resourceType", "action", "outcome", "from", "to"].compactMap { name in
                    text(name).map { URLQueryItem(name: name, value: $0) }
                } + [URLQueryItem(name: "cursor", value: services.cursors.encode(next, list: .auditEvents))]
            values["nextLink"] = "/app/audit" + (components.string ?? "")
        }
        if let report {
            values["verified"] = true
            values["intact"] = report.isIntact
            values["eventCount"] = report.eventCount
        }
        return page("audit", "Audit log", context, values)
    }

    func accessLog(_ context: AppRequestContext) async throws -> Response {
        let principal = try session(context).principal
        let patient = try await useCases.patient(principal, id: try routeID(context))
        guard AccessPolicy.canReadAudit(principal) else { throw DomainError.forbidden }
        let zone = try await practiceZone(principal)
        let events = try await services.auditLog.list(
            tenantID: principal.tenantID, filter: AuditEventFilter(patientID: patient.id), page: PageRequest(limit: 100), in: services.database)
        return page(
            "access-log", "Access log", context,
            [
                "patientId": patient.id.wire, "fullName": "\(patient.firstName) \(patient.lastName)",
                "events": events.items.map { e in
                    [
                        "when": WebFormat.moment(e.draft.occurredAt, in: zone), "actor": e.draft.actorRole, "action": e.draft.action,
                        "outcome": e.draft.outcome.rawValue,
                    ]
                },
            ])
    }
}
