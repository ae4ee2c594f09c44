import EHRAPI
import EHRDomain
import Foundation
import OpenAPIRuntime

/// Message threads: wire types in, ``UseCases`` calls, wire types out.
extension APIHandler {
    func listThreads(_ input: Operations.ListThreads.Input) async throws -> Operations.ListThreads.Output {
        let principal = try RequestScope.principal()
        let page = try pageRequest(limit: input.query.limit, cursor: input.query.cursor, list: .threads)
        let result = try await useCases.threads(principal, page: page)
        return .ok(.init(body: .json(.init(items: result.items.map(Components.Schemas.Thread.init), nextCursor: nextCursor(result, list: .threads)))))
    }

    func openThread(_ input: Operations.OpenThread.Input) async throws -> Operations.OpenThread.Output {
        let principal = try RequestScope.principal()
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        let (summary, created) = try await useCases.openThread(principal, patientID: body.patientId)
        return created ? .created(.init(body: .json(.init(summary)))) : .ok(.init(body: .json(.init(summary))))
    }

    func listMessages(_ input: Operations.ListMessages.Input) async throws -> Operations.ListMessages.Output {
        let principal = try RequestScope.principal()
        let id = try pathID(input.path.id)
        let page = try pageRequest(limit: input.query.limit, cursor: input.query.cursor, list: .messages)
        let result = try await useCases.messages(principal, threadID: id, page: page)
        return .ok(
            .init(
                body: .json(
                    .init(items: result.items.map { .init($0.message, readAt: $0.readAt) }, nextCursor: nextCursor(result, list: .messages)))))
    }

    func sendMessage(_ input: Operations.SendMessage.Input) async throws -> Operations.SendMessage.Output {
        let principal = try RequestScope.principal()
        let id = try pathID(input.path.id)
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        let (message, _, _) = try await useCases.sendMessage(principal, threadID: id, body: body.body)
        return .created(.init(body: .json(.init(message))))
    }

    func markThreadRead(_ input: Operations.MarkThreadRead.Input) async throws -> Operations.MarkThreadRead.Output {
        let principal = try RequestScope.principal()
        let id = try pathID(input.path.id)
        let (readAt, unread, _, _) = try await useCases.markThreadRead(principal, threadID: id)
        return .ok(.init(body: .json(.init(threadId: id.wire, readAt: readAt, unreadCount: unread))))
    }

    func openLiveEvents(_ input: Operations.OpenLiveEvents.Input) async throws -> Operations.OpenLiveEvents.Output {
        throw ProblemError(status: .upgradeRequired, kind: "upgrade-required", title: "Upgrade required", detail: "Open this path as a WebSocket.")
    }

    func openTelevisitSignaling(_ input: Operations.OpenTelevisitSignaling.Input) async throws -> Operations.OpenTelevisitSignaling.Output {
        throw ProblemError(status: .upgradeRequired, kind: "upgrade-required", title: "Upgrade required", detail: "Open this path as a WebSocket.")
    }

    func listReminders(_ input: Operations.ListReminders.Input) async throws -> Operations.ListReminders.Output {
        let principal = try RequestScope.principal()
        audit?.resource(principal.userID)
        let preferences = try await store.notificationPreferences(userID: principal.userID, tenantID: principal.tenantID)
        let reminders =
            preferences.push
            ? try await store.scheduledReminders(userID: principal.userID, tenantID: principal.tenantID, since: Date().addingTimeInterval(-24 * 3600))
            : []
        audit?.listed(patients: reminders.map(\.patientID))
        let items = reminders.map { reminder in
            Components.Schemas.Reminder(
                id: reminder.id.wire, appointmentId: reminder.appointmentID.wire, appointmentStartsAt: reminder.appointmentStartsAt,
                kind: reminder.kind == .appointmentReminder24h ? .appointmentReminder24h : .appointmentReminder1h, dueAt: reminder.dueAt,
                status: .init(rawValue: reminder.status.rawValue)!, title: reminder.kind.title, body: reminder.kind.body)
        }
        return .ok(.init(body: .json(.init(items: items, push: preferences.push))))
    }

    func getNotificationPreferences(_ input: Operations.GetNotificationPreferences.Input) async throws -> Operations.GetNotificationPreferences.Output {
        let principal = try RequestScope.principal()
        audit?.resource(principal.userID)
        let preferences = try await store.notificationPreferences(userID: principal.userID, tenantID: principal.tenantID)
        return .ok(.init(body: .json(.init(push: preferences.push, email: preferences.email))))
    }

    func updateNotificationPreferences(
        _ input: Operations.UpdateNotificationPreferences.Input
    ) async throws -> Operations.UpdateNotificationPreferences.Output {
        let principal = try RequestScope.principal()
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        audit?.resource(principal.userID)
        var preferences = try await store.notificationPreferences(userID: principal.userID, tenantID: principal.tenantID)
        if let push = body.push { preferences.push = push }
        if let email = body.email { preferences.email = email }
        audit?.changed([body.push.map { _ in "push" }, body.email.map { _ in "email" }].compactMap { $0 })
        try await store.setNotificationPreferences(preferences, userID: principal.userID, tenantID: principal.tenantID, at: Date())
        return .ok(.init(body: .json(.init(push: preferences.push, email: preferences.email))))
    }
}
