import EHRDomain
import Foundation
import Testing

/// One AccessPolicy question about one record situation.
enum Check: Sendable {
    case manageUsers
    case viewUser(User)
    case viewProvider(Provider)
    case createProvider
    case updateProvider(Provider)
    case deleteProvider(Provider)
    case viewPatient(Patient)
    case createPatient
    case updatePatient(Patient)
    case dischargePatient(Patient)
    case viewAppointment(Appointment, Patient)
    case createAppointment(Patient, therapistID: UUID)
    case updateAppointment(Appointment)
    case startTelevisit(Appointment, Patient)
    case seeNote(ClinicalNote, Patient)  // noteVisibility != nil
    case createNote(Patient)
    case editNote(ClinicalNote, Patient)
    case signNote(ClinicalNote, Patient)
    case voidNote(ClinicalNote, Patient)
    case addAddendum(ClinicalNote, Patient)
    case readAudit
    case breakGlass(ClinicalNote, Patient)

    /// The AccessPolicy function this check calls.
    var function: String {
        switch self {
        case .manageUsers: "canManageUsers"
        case .viewUser: "canViewUser"
        case .viewProvider: "canViewProvider"
        case .createProvider: "canCreateProvider"
        case .updateProvider: "canUpdateProvider"
        case .deleteProvider: "canDeleteProvider"
        case .viewPatient: "canViewPatient"
        case .createPatient: "canCreatePatient"
        case .updatePatient: "canUpdatePatient"
        case .dischargePatient: "canDischargePatient"
        case .viewAppointment: "canViewAppointment"
        case .createAppointment: "canCreateAppointment"
        case .updateAppointment: "canUpdateAppointment"
        case .startTelevisit: "canStartTelevisit"
        case .seeNote: "noteVisibility"
        case .createNote: "canCreateNote"
        case .editNote: "canEditNote"
        case .signNote: "canSignNote"
        case .voidNote: "canVoidNote"
        case .addAddendum: "canAddAddendum"
        case .readAudit: "canReadAudit"
        case .breakGlass: "canBreakGlass"
        }
    }

    func allows(_ caller: Caller) -> Bool {
        let p = caller.principal
        switch self {
        case .manageUsers: return AccessPolicy.canManageUsers(p)
        case .viewUser(let u): return AccessPolicy.canViewUser(p, u)
        case .viewProvider(let pr): return AccessPolicy.canViewProvider(p, pr, clientsTherapistID: caller.clientsTherapistID)
        case .createProvider: return AccessPolicy.canCreateProvider(p)
        case .updateProvider(let pr): return AccessPolicy.canUpdateProvider(p, pr)
        case .deleteProvider(let pr): return AccessPolicy.canDeleteProvider(p, pr)
        case .viewPatient(let pt): return AccessPolicy.canViewPatient(p, pt)
        case .createPatient: return AccessPolicy.canCreatePatient(p)
        case .updatePatient(let pt): return AccessPolicy.canUpdatePatient(p, pt)
        case .dischargePatient(let pt): return AccessPolicy.canDischargePatient(p, pt)
        case .viewAppointment(let a, let pt): return AccessPolicy.canViewAppointment(p, a, patient: pt)
        case .createAppointment(let pt, let t): return AccessPolicy.canCreateAppointment(p, patient: pt, therapistID: t)
        case .updateAppointment(let a): return AccessPolicy.canUpdateAppointment(p, a)
        case .startTelevisit(let a, let pt): return AccessPolicy.canStartTelevisit(p, a, patient: pt)
        case .seeNote(let n, let pt): return AccessPolicy.noteVisibility(p, n, patient: pt) != nil
        case .createNote(let pt): return AccessPolicy.canCreateNote(p, patient: pt)
        case .editNote(let n, let pt): return AccessPolicy.canEditNote(p, n, patient: pt)
        case .signNote(let n, let pt): return AccessPolicy.canSignNote(p, n, patient: pt)
        case .voidNote(let n, let pt): return AccessPolicy.canVoidNote(p, n, patient: pt)
        case .addAddendum(let n, let pt): return AccessPolicy.canAddAddendum(p, n, patient: pt)
        case .readAudit: return AccessPolicy.canReadAudit(p)
        case .breakGlass(let n, let pt): return AccessPolicy.canBreakGlass(p, n, patient: pt)
        }
    }
}

/// One row of the access table: rule, caller, record situation, expected answer.
struct PolicyRow: Sendable, CustomTestStringConvertible {
    let check: Check
    let situation: String
    let caller: Caller
    let allowed: Bool

    var testDescription: String {
        "\(check.function) · \(situation) · \(caller) → \(allowed ? "allowed" : "denied")"
    }
}

@Suite("AccessPolicy")
struct AccessPolicyTests {
    typealias W = World

    /// The access table. Each situation lists the callers who are ALLOWED; every other caller
    /// (always including the three callers of the other tenant) is expected to be DENIED.
    /// All records belong to tenant A.
    static let table: [(check: Check, situation: String, allowed: Set<Caller>)] = {
        let formerTherapistsDraft = W.note(.draft, by: W.otherTherapist)  // patient since reassigned to `therapist`
        let formerTherapistsSigned = W.note(.signed, by: W.otherTherapist)
        let coveringAppointment = W.appointment(with: W.otherTherapist)  // patient assigned to `therapist`
        return [
            // Users
            (.manageUsers, "role only, in the caller's own tenant", [.admin, .foreignAdmin]),
            (.viewUser(W.user(W.therapist, .therapist)), "account in the tenant", [.admin]),
            (.viewUser(W.user(W.client, .client)), "the client's own account", [.admin]),

            // Providers
            (.viewProvider(W.provider(W.therapist)), "profile of the patient's therapist", [.admin, .therapist, .otherTherapist, .client]),
            (.viewProvider(W.provider(W.otherTherapist)), "profile of another therapist", [.admin, .therapist, .otherTherapist, .otherClient]),
            (.createProvider, "role only, in the caller's own tenant", [.admin, .foreignAdmin]),
            (.updateProvider(W.provider(W.therapist)), "the therapist's own profile", [.admin, .therapist]),
            (.updateProvider(W.provider(W.otherTherapist)), "a colleague's profile", [.admin, .otherTherapist]),
            (.deleteProvider(W.provider(W.therapist)), "a therapist's profile", [.admin]),

            // Patients
            (.viewPatient(W.patient), "patient with a portal account", [.admin, .therapist, .client]),
            (.viewPatient(W.otherPatient), "another therapist's patient", [.admin, .otherTherapist, .otherClient]),
            (.viewPatient(W.patientWithoutPortal), "patient without a portal account", [.admin, .therapist]),
            (.createPatient, "role only, in the caller's own tenant", [.admin, .foreignAdmin]),
            (.updatePatient(W.patient), "patient of the tenant", [.admin]),
            (.dischargePatient(W.patient), "patient of the tenant", [.admin]),

            // Appointments
            (.viewAppointment(W.appointment(), W.patient), "with the assigned therapist", [.admin, .therapist, .client]),
            (
                .viewAppointment(coveringAppointment, W.patient), "covering therapist, patient assigned to another",
                [.admin, .therapist, .otherTherapist, .client]
            ),
            (.createAppointment(W.patient, therapistID: W.therapist), "assigned patient with the assigned therapist", [.admin, .therapist]),
            (.createAppointment(W.patient, therapistID: W.otherTherapist), "assigned patient booked with a colleague", [.admin]),
            (.createAppointment(W.otherPatient, therapistID: W.therapist), "unassigned patient booked with the caller", [.admin]),
            (.updateAppointment(W.appointment()), "the therapist's own appointment", [.admin, .therapist]),
            (.updateAppointment(coveringAppointment), "covering therapist's appointment", [.admin, .otherTherapist]),
            (.startTelevisit(W.appointment(), W.patient), "the appointment's therapist and client", [.therapist, .client]),
            (.startTelevisit(coveringAppointment, W.patient), "covering therapist's televisit", [.otherTherapist, .client]),

            // Notes
            (.seeNote(W.note(.draft), W.patient), "own draft", [.admin, .therapist]),
            (.seeNote(formerTherapistsDraft, W.patient), "draft by the former therapist (author only)", [.admin]),
            (.seeNote(W.note(.signed), W.patient), "signed", [.admin, .therapist, .client]),
            (.seeNote(W.note(.voided), W.patient), "voided", [.admin, .therapist]),
            (
                .seeNote(W.note(.signed, by: W.otherTherapist, about: W.otherPatient), W.otherPatient), "signed, another patient",
                [.admin, .otherTherapist, .otherClient]
            ),
            (.seeNote(formerTherapistsSigned, W.patient), "signed by the former therapist", [.admin, .therapist, .client]),
            (.createNote(W.patient), "patient assigned to the therapist", [.therapist]),
            (.createNote(W.otherPatient), "patient assigned to a colleague", [.otherTherapist]),
            (.createNote(W.patientWithoutPortal), "patient without a portal account", [.therapist]),
            (.editNote(W.note(.draft), W.patient), "own draft, still assigned", [.therapist]),
            (.editNote(formerTherapistsDraft, W.patient), "draft by the former therapist", []),
            (.signNote(W.note(.draft), W.patient), "own draft, still assigned", [.therapist]),
            (.signNote(formerTherapistsDraft, W.patient), "draft by the former therapist", []),
            (.voidNote(W.note(.draft), W.patient), "own draft, still assigned", [.therapist]),
            (.voidNote(formerTherapistsDraft, W.patient), "draft by the former therapist", []),
            (.addAddendum(W.note(.signed), W.patient), "own signed note", [.therapist]),
            (.addAddendum(formerTherapistsSigned, W.patient), "signed by the former therapist", [.therapist]),
            (.readAudit, "role only, in the caller's own tenant", [.admin, .foreignAdmin]),
            // Admins and therapists not assigned to the patient; drafts stay private; clients never.
            (.breakGlass(W.note(.signed), W.patient), "signed", [.admin, .otherTherapist]),
            (.breakGlass(W.note(.voided), W.patient), "voided", [.admin, .otherTherapist]),
            (.breakGlass(W.note(.draft), W.patient), "draft", []),
        ]
    }()

    static let rows: [PolicyRow] = table.flatMap { entry in
        Caller.allCases.map { PolicyRow(check: entry.check, situation: entry.situation, caller: $0, allowed: entry.allowed.contains($0)) }
    }

    @Test("access table", arguments: rows)
    func accessTable(_ row: PolicyRow) {
        #expect(row.check.allows(row.caller) == row.allowed)
    }

    /// The decisions a new note asks of its patient's ``PatientReference`` (read without decrypting anything) give the
    /// table's answers.
    @Test(
        "decisions from a patient reference give the table's answers",
        arguments: rows.filter { ["canViewPatient", "canCreateNote"].contains($0.check.function) })
    func referenceDecisions(_ row: PolicyRow) {
        let p = row.caller.principal
        switch row.check {
        case .viewPatient(let patient): #expect(AccessPolicy.canViewPatient(p, patient.reference) == row.allowed)
        case .createNote(let patient): #expect(AccessPolicy.canCreateNote(p, patient: patient.reference) == row.allowed)
        default: Issue.record("not a patient decision: \(row.testDescription)")
        }
    }

    @Test("the table covers every AccessPolicy function with an allowed and a denied row")
    func tableCoversEveryFunction() {
        let functions: Set = [
            "canManageUsers", "canViewUser", "canViewProvider", "canCreateProvider", "canUpdateProvider",
            "canDeleteProvider", "canViewPatient", "canCreatePatient", "canUpdatePatient", "canDischargePatient",
            "canViewAppointment", "canCreateAppointment", "canUpdateAppointment", "canStartTelevisit",
            "noteVisibility", "canCreateNote", "canEditNote", "canSignNote", "canVoidNote", "canAddAddendum",
            "canReadAudit", "canBreakGlass",
        ]
        for function in functions {
            let answers = Set(Self.rows.filter { $0.check.function == function }.map(\.allowed))
            #expect(answers == [true, false], "\(function)")
        }
        #expect(Set(Self.rows.map(\.check.function)) == functions)
    }

    @Test("callers of another tenant are denied everything that touches a record", arguments: [Caller.foreignAdmin, .foreignTherapist, .foreignClient])
    func otherTenantIsAlwaysDenied(_ caller: Caller) {
        let recordChecks = Self.table.map(\.check).filter {
            switch $0 {
            case .manageUsers, .createProvider, .createPatient, .readAudit: false  // role-only, no record
            default: true
            }
        }
        for check in recordChecks {
            #expect(!check.allows(caller), "\(check.function)")
        }
    }

    // MARK: Note visibility level

    @Test("admins see only the metadata of a note, never its content", arguments: NoteStatus.allCases)
    func adminSeesMetadataOnly(_ status: NoteStatus) {
        let visibility = AccessPolicy.noteVisibility(Caller.admin.principal, W.note(status), patient: W.patient)
        #expect(visibility == .metadataOnly)
    }

    @Test("the assigned therapist sees the full note in every status when they wrote it", arguments: NoteStatus.allCases)
    func assignedTherapistSeesFullNote(_ status: NoteStatus) {
        let visibility = AccessPolicy.noteVisibility(Caller.therapist.principal, W.note(status), patient: W.patient)
        #expect(visibility == .full)
    }

    @Test(
        "another author's draft is hidden from the assigned therapist; signed and voided notes are not",
        arguments: [(NoteStatus.draft, NoteVisibility?.none), (.signed, .full), (.voided, .full)])
    func draftsAreTheAuthorsAlone(_ status: NoteStatus, _ expected: NoteVisibility?) {
        let note = W.note(status, by: W.otherTherapist)
        #expect(AccessPolicy.noteVisibility(Caller.therapist.principal, note, patient: W.patient) == expected)
    }

    @Test(
        "the patient's client sees the full note only once signed",
        arguments: [(NoteStatus.draft, NoteVisibility?.none), (.signed, .full), (.voided, nil)])
    func clientSeesSignedNotesOnly(_ status: NoteStatus, _ expected: NoteVisibility?) {
        let visibility = AccessPolicy.noteVisibility(Caller.client.principal, W.note(status), patient: W.patient)
        #expect(visibility == expected)
    }

    // MARK: The patient passed in must be the record's patient

    @Test("noteVisibility refuses a patient who is not the note's patient", arguments: [Caller.admin, .therapist, .client])
    func noteVisibilityChecksPatient(_ caller: Caller) {
        let noteAboutOther = W.note(.signed, about: W.otherPatient)
        #expect(AccessPolicy.noteVisibility(caller.principal, noteAboutOther, patient: W.patient) == nil)
    }

    @Test("canAddAddendum refuses a patient who is not the note's patient")
    func addendumChecksPatient() {
        let noteAboutOther = W.note(.signed, about: W.otherPatient)
        #expect(!AccessPolicy.canAddAddendum(Caller.therapist.principal, noteAboutOther, patient: W.patient))
    }

    @Test("appointment rules refuse a patient who is not the appointment's patient", arguments: [Caller.admin, .therapist, .client])
    func appointmentChecksPatient(_ caller: Caller) {
        let appointmentOfOther = W.appointment(for: W.otherPatient)
        #expect(!AccessPolicy.canViewAppointment(caller.principal, appointmentOfOther, patient: W.patient))
        #expect(!AccessPolicy.canStartTelevisit(caller.principal, appointmentOfOther, patient: W.patient))
    }

    // MARK: Providers

    @Test("a client with no assigned therapist sees no provider")
    func clientWithoutTherapistSeesNoProvider() {
        #expect(!AccessPolicy.canViewProvider(Caller.client.principal, W.provider(W.therapist), clientsTherapistID: nil))
    }

    // MARK: Scopes

    @Test("scopes per role name the caller's own tenant and user", arguments: Caller.allCases)
    func scopesPerRole(_ caller: Caller) {
        let p = caller.principal
        let (t, u) = (p.tenantID, p.userID)
        switch p.role {
        case .admin:
            #expect(AccessPolicy.providerScope(p) == .tenant(t))
            #expect(AccessPolicy.patientScope(p) == .tenant(t))
            #expect(AccessPolicy.appointmentScope(p) == .tenant(t))
            #expect(AccessPolicy.noteScope(p) == .tenantMetadata(t))
        case .therapist:
            #expect(AccessPolicy.providerScope(p) == .tenant(t))
            #expect(AccessPolicy.patientScope(p) == .assignedTo(tenantID: t, therapistID: u))
            #expect(AccessPolicy.appointmentScope(p) == .therapist(tenantID: t, therapistID: u))
            #expect(AccessPolicy.noteScope(p) == .assignedTo(tenantID: t, therapistID: u))
        case .client:
            #expect(AccessPolicy.providerScope(p) == .assignedToPortalUser(tenantID: t, userID: u))
            #expect(AccessPolicy.patientScope(p) == .portalUser(tenantID: t, userID: u))
            #expect(AccessPolicy.appointmentScope(p) == .portalUser(tenantID: t, userID: u))
            #expect(AccessPolicy.noteScope(p) == .portalUserSigned(tenantID: t, userID: u))
        }
    }

    @Test("scopes of another tenant's callers name their own tenant, never this one", arguments: [Caller.foreignAdmin, .foreignTherapist, .foreignClient])
    func foreignScopesNameTheirOwnTenant(_ caller: Caller) {
        let p = caller.principal
        let scopeTenants = [
            Self.tenant(of: AccessPolicy.providerScope(p)), Self.tenant(of: AccessPolicy.patientScope(p)),
            Self.tenant(of: AccessPolicy.appointmentScope(p)), Self.tenant(of: AccessPolicy.noteScope(p)),
        ]
        #expect(scopeTenants == Array(repeating: World.otherTenant, count: 4))
    }

    static func tenant(of scope: ProviderScope) -> UUID {
        switch scope {
        case .tenant(let t), .assignedToPortalUser(let t, _): t
        }
    }
    static func tenant(of scope: PatientScope) -> UUID {
        switch scope {
        case .tenant(let t), .assignedTo(let t, _), .portalUser(let t, _): t
        }
    }
    static func tenant(of scope: AppointmentScope) -> UUID {
        switch scope {
        case .tenant(let t), .therapist(let t, _), .portalUser(let t, _): t
        }
    }
    static func tenant(of scope: NoteScope) -> UUID {
        switch scope {
        case .tenantMetadata(let t), .assignedTo(let t, _), .portalUserSigned(let t, _): t
        }
    }
}
