import EHRDomain
import Foundation
import Testing

@Suite("AppointmentRules")
struct AppointmentRulesTests {
    static let start = Date(timeIntervalSince1970: 1_750_000_000)
    static let hour: TimeInterval = 3600

    static func problems(minutes: Double, timeZone: String = "America/New_York") -> [FieldError] {
        AppointmentRules.problems(startsAt: start, endsAt: start.addingTimeInterval(minutes * 60), timeZone: timeZone)
    }

    @Test("a one-hour session in a real zone has no problems")
    func validRange() {
        #expect(Self.problems(minutes: 50).isEmpty)
    }

    @Test("an end before or equal to the start is rejected on endsAt", arguments: [0.0, -1, -60])
    func endNotAfterStart(_ minutes: Double) {
        #expect(Self.problems(minutes: minutes).map(\.field) == ["endsAt"])
    }

    @Test("exactly eight hours is allowed")
    func exactlyEightHours() {
        #expect(AppointmentRules.maximumDuration == 8 * Self.hour)
        #expect(Self.problems(minutes: 8 * 60).isEmpty)
    }

    @Test("longer than eight hours is rejected on endsAt", arguments: [481.0, 480.001, 1440])
    func longerThanEightHours(_ minutes: Double) {
        #expect(Self.problems(minutes: minutes).map(\.field) == ["endsAt"])
    }

    @Test("an unknown time zone is rejected on timeZone", arguments: ["", "Mars/Olympus_Mons", "america/new_york", "New York"])
    func badTimeZone(_ zone: String) {
        #expect(Self.problems(minutes: 60, timeZone: zone).map(\.field) == ["timeZone"])
    }

    @Test("IANA zones are accepted", arguments: ["America/New_York", "Europe/Berlin", "Asia/Kolkata", "UTC"])
    func goodTimeZone(_ zone: String) {
        #expect(Self.problems(minutes: 60, timeZone: zone).isEmpty)
    }

    @Test("a bad range and a bad zone are both reported")
    func bothReported() {
        #expect(Self.problems(minutes: -30, timeZone: "Nowhere/Land").map(\.field) == ["endsAt", "timeZone"])
    }

    // MARK: Overlap (half-open ranges, in minutes from `start`)

    @Test(
        "overlap of half-open ranges",
        arguments: [
            ((0.0, 60.0), (0.0, 60.0), true),  // identical
            ((0, 60), (30, 90), true),  // partial
            ((0, 120), (30, 60), true),  // containment
            ((0, 60), (59.99, 120), true),  // a sliver
            ((0, 60), (60, 120), false),  // back-to-back
            ((0, 60), (90, 120), false),  // gap
        ] as [((Double, Double), (Double, Double), Bool)])
    func overlaps(_ a: (Double, Double), _ b: (Double, Double), _ expected: Bool) {
        func range(_ r: (Double, Double)) -> (Date, Date) {
            (Self.start.addingTimeInterval(r.0 * 60), Self.start.addingTimeInterval(r.1 * 60))
        }
        #expect(AppointmentRules.overlaps(range(a), range(b)) == expected)
        #expect(AppointmentRules.overlaps(range(b), range(a)) == expected, "overlap must be symmetric")
    }
}

@Suite("AppointmentWorkflow")
struct AppointmentWorkflowTests {
    /// Every status change an update may make, besides keeping the same status.
    static let allowed: Set<[AppointmentStatus]> = [
        [.scheduled, .confirmed], [.scheduled, .cancelled], [.scheduled, .noShow], [.scheduled, .completed],
        [.confirmed, .scheduled], [.confirmed, .cancelled], [.confirmed, .noShow], [.confirmed, .completed],
        [.inProgress, .completed],
    ]

    @Test("allowed status changes", arguments: allowed.map { ($0[0], $0[1]) })
    func allowedTransition(_ from: AppointmentStatus, _ to: AppointmentStatus) {
        #expect(AppointmentWorkflow.canTransition(from: from, to: to))
    }

    @Test("keeping the same status is always allowed", arguments: AppointmentStatus.allCases)
    func sameStatus(_ status: AppointmentStatus) {
        #expect(AppointmentWorkflow.canTransition(from: status, to: status))
    }

    @Test(
        "every status pair follows the table: allowed if listed or unchanged, denied otherwise", arguments: AppointmentStatus.allCases,
        AppointmentStatus.allCases)
    func fullMatrix(_ from: AppointmentStatus, _ to: AppointmentStatus) {
        let expected = from == to || Self.allowed.contains([from, to])
        #expect(AppointmentWorkflow.canTransition(from: from, to: to) == expected)
    }

    @Test(
        "denied status changes (sample)",
        arguments: [
            (AppointmentStatus.cancelled, AppointmentStatus.scheduled), (.cancelled, .confirmed), (.completed, .scheduled),
            (.completed, .cancelled), (.noShow, .completed), (.noShow, .scheduled), (.inProgress, .cancelled),
            (.inProgress, .scheduled), (.scheduled, .inProgress), (.confirmed, .inProgress),
        ])
    func deniedSample(_ from: AppointmentStatus, _ to: AppointmentStatus) {
        #expect(!AppointmentWorkflow.canTransition(from: from, to: to))
    }

    @Test(
        "a televisit can start only while the appointment is pending or running",
        arguments: [
            (AppointmentStatus.scheduled, true), (.confirmed, true), (.inProgress, true),
            (.completed, false), (.cancelled, false), (.noShow, false),
        ])
    func televisitPerStatus(_ status: AppointmentStatus, _ expected: Bool) {
        #expect(AppointmentWorkflow.canStartTelevisit(status) == expected)
    }

    @Test(
        "time, kind and reason are editable only before the session",
        arguments: [
            (AppointmentStatus.scheduled, true), (.confirmed, true), (.inProgress, false),
            (.completed, false), (.cancelled, false), (.noShow, false),
        ])
    func editablePerStatus(_ status: AppointmentStatus, _ expected: Bool) {
        #expect(AppointmentWorkflow.isEditable(status) == expected)
    }

    @Test("only cancelled appointments free the therapist's slot", arguments: AppointmentStatus.allCases)
    func occupiesSlot(_ status: AppointmentStatus) {
        #expect(status.occupiesSlot == (status != .cancelled))
    }
}
