import Foundation

/// The appointment's state changes, with the workflow checks each implies.
extension Appointment {
    /// Moves the appointment to `status` when the workflow allows it (409 otherwise).
    public mutating func transition(to status: AppointmentStatus, at now: Date) throws(DomainError) {
        guard AppointmentWorkflow.canTransition(from: self.status, to: status) else {
            throw DomainError.conflict("an appointment cannot go from \(self.status.rawValue) to \(status.rawValue)")
        }
        self.status = status
        updatedAt = now
    }

    /// Changes time, zone, kind or reason of a scheduled or confirmed appointment; validates the result.
    public mutating func reschedule(
        startsAt: Date?, endsAt: Date?, timeZone: String?, kind: AppointmentKind?, reason: String??, at now: Date
    ) throws(DomainError) {
        guard AppointmentWorkflow.isEditable(status) else {
            throw DomainError.conflict("a \(status.rawValue) appointment can no longer be rescheduled or edited")
        }
        if let startsAt { self.startsAt = millisecondPrecision(startsAt) }
        if let endsAt { self.endsAt = millisecondPrecision(endsAt) }
        if let timeZone { self.timeZone = timeZone }
        if let kind { self.kind = kind }
        if let reason { self.reason = reason }
        let problems = AppointmentRules.problems(startsAt: self.startsAt, endsAt: self.endsAt, timeZone: self.timeZone)
        if !problems.isEmpty { throw DomainError.validation(problems) }
        updatedAt = now
    }

    /// Cancels the appointment, with an optional reason.
    public mutating func cancel(reason: String?, at now: Date) throws(DomainError) {
        guard status != .cancelled, AppointmentWorkflow.canTransition(from: status, to: .cancelled) else {
            throw DomainError.conflict("a \(status.rawValue) appointment cannot be cancelled")
        }
        status = .cancelled
        cancellationReason = reason
        updatedAt = now
    }

    /// Checks that a televisit may start; when the therapist starts it, the appointment is in progress.
    /// Returns whether the appointment changed (a client joining changes nothing).
    public mutating func startTelevisit(byTherapist: Bool, at now: Date) throws(DomainError) -> Bool {
        guard AppointmentWorkflow.canStartTelevisit(status) else {
            throw DomainError.conflict("a \(status.rawValue) appointment cannot start a televisit")
        }
        guard kind == .televisit else { throw DomainError.conflict("this appointment is in person; change its kind to televisit first") }
        guard byTherapist, status != .inProgress else { return false }
        status = .inProgress
        updatedAt = now
        return true
    }
}

/// The patient's state changes.
extension Patient {
    /// Discharges an active patient with a reason; a discharged patient stays as they are. Returns whether it changed.
    public mutating func discharge(reason: String, at now: Date) -> Bool {
        guard status == .active else { return false }
        status = .discharged
        dischargedAt = now
        dischargeReason = reason
        updatedAt = now
        return true
    }
}
