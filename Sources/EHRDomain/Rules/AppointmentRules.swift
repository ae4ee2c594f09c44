import Foundation

/// Scheduling rules that hold regardless of storage.
public enum AppointmentRules {
    /// The longest appointment a practice can book.
    public static let maximumDuration: TimeInterval = 8 * 3600

    /// Field errors for a proposed time range and zone.
    public static func problems(startsAt: Date, endsAt: Date, timeZone: String) -> [FieldError] {
        var errors: [FieldError] = []
        if endsAt <= startsAt {
            errors.append(FieldError("endsAt", "must be after startsAt"))
        } else if endsAt.timeIntervalSince(startsAt) > maximumDuration {
            errors.append(FieldError("endsAt", "appointment must last at most 8 hours"))
        }
        if !isIANATimeZone(timeZone) {
            errors.append(FieldError("timeZone", "must be an IANA time zone such as America/New_York"))
        }
        return errors
    }

    /// Whether the name is an IANA zone (`America/New_York`, `UTC`), not merely something Foundation can
    /// parse (`GMT+5`, `EST`): IANA names other than UTC are `Area/Location`.
    public static func isIANATimeZone(_ name: String) -> Bool {
        guard name == "UTC" || (name.contains("/") && !name.hasPrefix("/") && !name.hasSuffix("/")) else { return false }
        return TimeZone(identifier: name) != nil
    }

    /// Whether two half-open ranges [start, end) overlap. Back-to-back sessions do not.
    public static func overlaps(_ a: (Date, Date), _ b: (Date, Date)) -> Bool {
        a.0 < b.1 && b.0 < a.1
    }
}

/// The allowed status changes of an appointment.
public enum AppointmentWorkflow {
    /// Whether `from` may change to `to` through an update.
    public static func canTransition(from: AppointmentStatus, to: AppointmentStatus) -> Bool {
        if from == to { return true }
        switch (from, to) {
        case (.scheduled, .confirmed), (.scheduled, .cancelled), (.scheduled, .noShow), (.scheduled, .completed):
            return true
        case (.confirmed, .scheduled), (.confirmed, .cancelled), (.confirmed, .noShow), (.confirmed, .completed):
            return true
        case (.inProgress, .completed):
            return true
        default:
            return false
        }
    }

    /// Whether a televisit may be started for an appointment in this status.
    public static func canStartTelevisit(_ status: AppointmentStatus) -> Bool {
        switch status {
        case .scheduled, .confirmed, .inProgress: return true
        case .completed, .cancelled, .noShow: return false
        }
    }

    /// Whether the time, kind or reason of an appointment in this status may still change.
    public static func isEditable(_ status: AppointmentStatus) -> Bool {
        status == .scheduled || status == .confirmed
    }
}
