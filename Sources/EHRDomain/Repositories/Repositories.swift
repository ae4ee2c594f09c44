import Foundation

/// Practices.
public protocol TenantRepository: Sendable {
    func find(slug: String) async throws -> Tenant?
    func find(id: UUID) async throws -> Tenant?
    /// Throws ``DomainError/conflict(_:)`` when the slug is taken.
    func create(_ tenant: Tenant) async throws
}

/// User accounts. Every call is scoped to one tenant.
public protocol UserRepository: Sendable {
    func find(id: UUID, tenantID: UUID) async throws -> User?
    func find(email: String, tenantID: UUID) async throws -> User?
    func list(tenantID: UUID, role: Role?, page: PageRequest) async throws -> Page<User>
    /// Creates the user and, when given, their invitation in one transaction.
    /// Throws ``DomainError/conflict(_:)`` when the email is taken in the tenant.
    func create(_ user: User, invitation: InvitationRecord?) async throws
    func update(_ user: User) async throws
}

/// Therapists' profiles together with their accounts.
public protocol ProviderRepository: Sendable {
    func find(id: UUID, tenantID: UUID) async throws -> Provider?
    func list(scope: ProviderScope, page: PageRequest) async throws -> Page<Provider>
    /// Creates account, profile and invitation in one transaction.
    func create(_ provider: Provider, invitation: InvitationRecord?) async throws
    func update(_ provider: Provider) async throws
}

/// Patients. Never deleted.
public protocol PatientRepository: Sendable {
    func find(id: UUID, tenantID: UUID) async throws -> Patient?
    func find(portalUserID: UUID, tenantID: UUID) async throws -> Patient?
    func list(scope: PatientScope, filter: PatientFilter, page: PageRequest) async throws -> Page<Patient>
    /// Creates the patient, and their portal account and invitation when given, in one transaction.
    func create(_ patient: Patient, portalUser: User?, invitation: InvitationRecord?) async throws
    func update(_ patient: Patient) async throws
}

/// Appointments. Writes refuse double-booking with ``DomainError/appointmentOverlap(conflictingID:)``.
public protocol AppointmentRepository: Sendable {
    func find(id: UUID, tenantID: UUID) async throws -> Appointment?
    func list(scope: AppointmentScope, filter: AppointmentFilter, page: PageRequest) async throws -> Page<Appointment>
    func create(_ appointment: Appointment) async throws
    func update(_ appointment: Appointment) async throws
}

/// Clinical notes and their addenda. Signed notes are immutable at the storage level too.
public protocol NoteRepository: Sendable {
    func find(id: UUID, tenantID: UUID) async throws -> ClinicalNote?
    func list(scope: NoteScope, filter: NoteFilter, page: PageRequest) async throws -> Page<ClinicalNote>
    func create(_ note: ClinicalNote) async throws
    /// Writes a draft's new state (including signing or voiding it).
    /// Throws ``DomainError/conflict(_:)`` when the stored note is no longer a draft.
    func updateDraft(_ note: ClinicalNote) async throws
    func addAddendum(_ addendum: NoteAddendum) async throws
}

/// Sessions, invitations and sign-in throttling.
public protocol AuthRepository: Sendable {
    func insertRefreshToken(_ record: RefreshTokenRecord) async throws
    func findRefreshToken(hash: String) async throws -> RefreshTokenRecord?
    /// Marks the token rotated and stores its successor atomically; false when it was already rotated or revoked (reuse).
    func rotateRefreshToken(id: UUID, at: Date, successor: RefreshTokenRecord) async throws -> Bool
    func revokeFamily(_ familyID: UUID, at: Date) async throws
    func revokeAll(userID: UUID, tenantID: UUID, at: Date) async throws

    func findInvitation(hash: String) async throws -> InvitationRecord?
    /// Sets the user's password and marks the invitation used in one transaction; false when already used.
    func acceptInvitation(id: UUID, userID: UUID, tenantID: UUID, passwordHash: String, at: Date) async throws -> Bool

    func recordLoginFailure(keys: [String], at: Date) async throws
    /// Failures per key since `since`, with the oldest failure's time for computing Retry-After.
    func loginFailures(key: String, since: Date) async throws -> (count: Int, oldest: Date?)
    func clearLoginFailures(key: String) async throws
}
