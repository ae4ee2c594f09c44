import EHRDomain
import Foundation

/// Dates and times as a person reads them ("Tue 8 Dec, 10:00–10:50"), in a given zone.
enum WebFormat {
    static func calendar(_ zone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        calendar.locale = Locale(identifier: "en_GB")
        return calendar
    }

    private static func formatter(_ pattern: String, _ zone: TimeZone) -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_GB")
        formatter.timeZone = zone
        formatter.dateFormat = pattern
        return formatter
    }

    /// "Tue 8 Dec, 10:00–10:50" (the end's day too when it differs).
    static func range(_ start: Date, _ end: Date, in zone: TimeZone) -> String {
        let sameDay = calendar(zone).isDate(start, inSameDayAs: end)
        return formatter("EEE d MMM, HH:mm", zone).string(from: start) + "–" + formatter(sameDay ? "HH:mm" : "EEE d MMM, HH:mm", zone).string(from: end)
    }

    /// "10:00–10:50".
    static func times(_ start: Date, _ end: Date, in zone: TimeZone) -> String {
        formatter("HH:mm", zone).string(from: start) + "–" + formatter("HH:mm", zone).string(from: end)
    }

    /// "Tuesday 8 December 2026".
    static func day(_ date: Date, in zone: TimeZone) -> String { formatter("EEEE d MMMM yyyy", zone).string(from: date) }

    /// "Tue 8 Dec".
    static func shortDay(_ date: Date, in zone: TimeZone) -> String { formatter("EEE d MMM", zone).string(from: date) }

    /// "8 Dec 2026, 10:00".
    static func moment(_ date: Date, in zone: TimeZone) -> String { formatter("d MMM yyyy, HH:mm", zone).string(from: date) }

    /// "2026-12-08" of a day, for links and date inputs.
    static func isoDay(_ date: Date, in zone: TimeZone) -> String { formatter("yyyy-MM-dd", zone).string(from: date) }

    /// "2026-12-08T10:00" for a datetime-local input.
    static func localInput(_ date: Date, in zone: TimeZone) -> String { formatter("yyyy-MM-dd'T'HH:mm", zone).string(from: date) }

    /// Parses a datetime-local value ("2026-12-08T10:00") in `zone`.
    static func parseLocal(_ text: String, in zone: TimeZone) -> Date? {
        formatter("yyyy-MM-dd'T'HH:mm", zone).date(from: text) ?? formatter("yyyy-MM-dd'T'HH:mm:ss", zone).date(from: text)
    }

    /// Parses "2026-12-08" as the start of that day in `zone`.
    static func parseDay(_ text: String, in zone: TimeZone) -> Date? { formatter("yyyy-MM-dd", zone).date(from: text) }

    static let sectionTitles: [String: String] = [
        "subjective": "Subjective", "objective": "Objective", "assessment": "Assessment", "plan": "Plan", "data": "Data",
        "behavior": "Behavior", "intervention": "Intervention", "response": "Response", "narrative": "Narrative",
    ]

    static let noteTypeNames: [NoteType: String] = [
        .soap: "SOAP note", .dap: "DAP note", .birp: "BIRP note", .progress: "Progress note", .intake: "Intake note",
    ]
}
