/// Whether a patient is in care or has been discharged (patients are never deleted).
public enum PatientStatus: String, Sendable, Codable, CaseIterable, Hashable {
    case active
    case discharged
}

/// How an appointment takes place.
public enum AppointmentKind: String, Sendable, Codable, CaseIterable, Hashable {
    case inPerson = "in_person"
    case televisit
}

/// The lifecycle of an appointment. See ``AppointmentWorkflow`` for the allowed transitions.
public enum AppointmentStatus: String, Sendable, Codable, CaseIterable, Hashable {
    case scheduled
    case confirmed
    case inProgress = "in_progress"
    case completed
    case cancelled
    case noShow = "no_show"

    /// Whether an appointment in this status holds its therapist's time slot.
    public var occupiesSlot: Bool { self != .cancelled }
}

/// The documentation format of a clinical note.
public enum NoteType: String, Sendable, Codable, CaseIterable, Hashable {
    case soap, dap, birp, progress, intake
}

/// The lifecycle of a clinical note: drafts are editable, signed notes are locked, voided drafts are retained.
public enum NoteStatus: String, Sendable, Codable, CaseIterable, Hashable {
    case draft, signed, voided
}
