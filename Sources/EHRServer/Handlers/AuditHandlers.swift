import EHRAPI
import EHRDomain
import EHRPersistence
import EHRSecurity
import Foundation
import OpenAPIRuntime

extension APIHandler {
    func listAuditEvents(_ input: Operations.ListAuditEvents.Input) async throws -> Operations.ListAuditEvents.Output {
        let principal = try RequestScope.principal()
        guard AccessPolicy.canReadAudit(principal) else { throw DomainError.forbidden }
        let q = input.query
        let page = try pageRequest(limit: q.limit, cursor: q.cursor, list: .auditEvents)
        if let from = q.from, let to = q.to, to < from { throw ProblemError.badParameter("to", "must not be before from") }
        let filter = AuditEventFilter(
            actorID: try queryID(q.actorId, field: "actorId")?.lowercasedString,
            patientID: try queryID(q.patientId, field: "patientId"),
            resourceType: q.resourceType, action: q.action,
            outcome: q.outcome.flatMap { AuditOutcome(rawValue: $0.rawValue) }, from: q.from, to: q.to)
        let result = try await services.auditLog.list(tenantID: principal.tenantID, filter: filter, page: page, in: services.database)
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: result.items.map(Components.Schemas.AuditEvent.init),
                        nextCursor: nextCursor(result, list: .auditEvents)))))
    }

    func getPatientAccessLog(_ input: Operations.GetPatientAccessLog.Input) async throws -> Operations.GetPatientAccessLog.Output {
        let principal = try RequestScope.principal()
        let patientID = try pathID(input.path.id)
        let page = try pageRequest(limit: input.query.limit, cursor: input.query.cursor, list: .accessLog)
        guard let patient = try await store.find(id: patientID, tenantID: principal.tenantID) as Patient? else { throw DomainError.notFound }
        audit?.patient(patient.id)
        guard AccessPolicy.canReadAudit(principal) else { throw DomainError.forbidden }
        let result = try await services.auditLog.list(
            tenantID: principal.tenantID, filter: AuditEventFilter(patientID: patient.id), page: page,
            in: services.database)
        let reasons = Dictionary(
            uniqueKeysWithValues: try await store.grants(patientID: patient.id, tenantID: principal.tenantID)
                .map { ("break-glass grant \($0.id.lowercasedString)", $0.reason) })
        var names: [String: String?] = [:]
        var items: [Components.Schemas.AccessLogEntry] = []
        for event in result.items {
            let d = event.draft
            if names[d.actorID] == nil {
                let user = try await UUID(uuidString: d.actorID).asyncFlatMap { try await store.find(id: $0, tenantID: principal.tenantID) as User? }
                names[d.actorID] = .some(user?.displayName)
            }
            items.append(
                .init(
                    time: d.occurredAt, actorId: d.actorID, actorRole: d.actorRole, actorName: names[d.actorID] ?? nil,
                    action: d.action, outcome: .init(d.outcome), resourceType: d.resourceType, resourceId: d.resourceID,
                    breakGlassReason: d.action == "note.break_glass" ? d.detail.flatMap { reasons[$0] } : nil))
        }
        return .ok(.init(body: .json(.init(items: items, nextCursor: nextCursor(result, list: .accessLog)))))
    }

    func verifyAuditChain(_ input: Operations.VerifyAuditChain.Input) async throws -> Operations.VerifyAuditChain.Output {
        let principal = try RequestScope.principal()
        guard AccessPolicy.canReadAudit(principal) else { throw DomainError.forbidden }
        var checkpoint: AuditCheckpoint?
        if let text = input.query.checkpoint {
            guard let parsed = try? AuditCheckpoint(encoded: text) else {
                throw ProblemError.badParameter("checkpoint", "is not a checkpoint printed by `ehr audit checkpoint`")
            }
            guard parsed.tenantID == principal.tenantID.wire else { throw ProblemError.badParameter("checkpoint", "belongs to another practice") }
            checkpoint = parsed
        }
        let report = try await services.auditLog.verify(tenantID: principal.tenantID, checkpoint: checkpoint, in: services.database)
        return .ok(.init(body: .json(.init(report, checkpointUsed: checkpoint != nil))))
    }

    func breakGlassNote(_ input: Operations.BreakGlassNote.Input) async throws -> Operations.BreakGlassNote.Output {
        guard case .json(let body) = input.body else { throw ProblemError.badRequest("Expected a JSON body.") }
        let (grant, note) = try await useCases.breakGlass(try RequestScope.principal(), noteID: try pathID(input.path.id), reason: body.reason)
        return .created(
            .init(
                body: .json(
                    .init(
                        id: grant.id.wire, noteId: note.id.wire, patientId: note.patientID.wire, grantedAt: grant.grantedAt,
                        expiresAt: grant.expiresAt, note: .init(note, visibility: .full)))))
    }
}

extension Components.Schemas.AuditOutcome {
    init(_ outcome: AuditOutcome) {
        switch outcome {
        case .allowed: self = .allowed
        case .denied: self = .denied
        case .notFound: self = .notFound
        case .error: self = .error
        }
    }
}

extension Components.Schemas.AuditEvent {
    init(_ event: AuditEvent) {
        let d = event.draft
        self.init(
            sequence: event.sequence, time: d.occurredAt, actorId: d.actorID, actorRole: d.actorRole, action: d.action,
            resourceType: d.resourceType, resourceId: d.resourceID, patientId: d.patientID?.wire, outcome: .init(d.outcome),
            requestId: d.requestID, clientIp: d.clientIP, userAgent: d.userAgent, changedFields: d.changedFields, detail: d.detail)
    }
}

extension Components.Schemas.AuditVerification {
    init(_ report: AuditChainReport, checkpointUsed: Bool) {
        self.init(
            intact: report.isIntact, eventCount: report.eventCount, verifiedCount: report.verifiedCount,
            headHash: report.headHash.hexString, firstBreakSequence: report.firstBreak?.sequence.map { Int64($0) },
            firstBreakReason: report.firstBreak.map { AuditBreakDescription.text($0.reason) }
                ?? (report.headMismatch ? "the recorded chain head does not match the newest event (events removed or added at the end)" : nil)
                    ?? (report.patientIndexMismatch ? "the access log's index of listed patients does not match the chained events" : nil),
            headMismatch: report.headMismatch, checkpointUsed: checkpointUsed)
    }
}

/// Plain-language names of chain breaks, shared by the API and the `ehr audit verify` command.
public enum AuditBreakDescription {
    public static func text(_ reason: AuditBreakReason) -> String {
        switch reason {
        case .editedRecord: return "edited event (its fields no longer match its hash)"
        case .badMAC: return "forged event (its MAC is not the audit key's)"
        case .missingRecord(let expected, let found): return "missing event \(expected) (found \(found)): events were deleted"
        case .insertedRecord(let sequence): return "inserted copy of event \(sequence)"
        case .reordered(let expected, let found): return "reordered events (expected \(expected), found \(found))"
        case .brokenLink: return "broken link to the previous event"
        case .wrongTenant: return "event of another practice"
        case .truncated(let count, let actual): return "truncated: the checkpoint counts \(count) events, the log holds \(actual)"
        case .checkpointMismatch: return "the event at the checkpoint's position differs from the checkpoint's head"
        case .invalidCheckpoint: return "the checkpoint's signature is not valid"
        }
    }
}
