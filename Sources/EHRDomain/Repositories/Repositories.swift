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
    /// Writes only `fields` of `user` (and `updated_at`), so concurrent updates of other fields survive.
    func update(_ user: User, fields: UserFields) async throws
}

extension UserRepository {
    /// Writes every field of `user`.
    public func update(_ user: User) async throws { try await update(user, fields: .all) }
}

/// The columns an update of a user account writes: only what the request named, so a concurrent change of
/// another field (an admin deactivating the account while its owner edits their name) is never undone.
public struct UserFields: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let displayName = UserFields(rawValue: 1 << 0)
    public static let active = UserFields(rawValue: 1 << 1)
    public static let role = UserFields(rawValue: 1 << 2)
    public static let all: UserFields = [.displayName, .active, .role]
}

/// The columns an update of a therapist's profile (and account) writes; see ``UserFields``.
public struct ProviderFields: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let displayName = ProviderFields(rawValue: 1 << 0)
    public static let active = ProviderFields(rawValue: 1 << 1)
    public static let licenseNumber = ProviderFields(rawValue: 1 << 2)
    public static let licenseState = ProviderFields(rawValue: 1 << 3)
    public static let credentials = ProviderFields(rawValue: 1 << 4)
    public static let specialties = ProviderFields(rawValue: 1 << 5)
    public static let all: ProviderFields = [.displayName, .active, .licenseNumber, .licenseState, .credentials, .specialties]

    /// The account columns among these.
    public var userFields: UserFields {
        var fields: UserFields = []
        if contains(.displayName) { fields.insert(.displayName) }
        if contains(.active) { fields.insert(.active) }
        return fields
    }
}

/// Therapists' profiles together with their accounts.
public protocol ProviderRepository: Sendable {
    func find(id: UUID, tenantID: UUID) async throws -> Provider?
    func list(scope: ProviderScope, page: PageRequest) async throws -> Page<Provider>
    /// Creates account, profile and invitation in one transaction.
    func create(_ provider: Provider, invitation: InvitationRecord?) async throws
    /// Writes only `fields` of `provider` (and `updated_at`); see ``UserFields``.
    func update(_ provider: Provider, fields: ProviderFields) async throws
}

extension ProviderRepository {
    /// Writes every field of `provider`.
    public func update(_ provider: Provider) async throws { try await update(provider, fields: .all) }
}

/// Patients. Never deleted.
public protocol PatientRepository: Sendable {
    func find(id: UUID, tenantID: UUID) async throws -> Patient?
    /// The patient as access decisions see them, read without decrypting anything.
    func findReference(id: UUID, tenantID: UUID) async throws -> PatientReference?
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

    /// Records a sign-in attempt against each key before the password is checked, in one atomic statement
    /// per key, and returns each key's attempts in its current window (a window older than `window` starts over).
    func reserveSignInAttempt(keys: [String], at: Date, window: TimeInterval) async throws -> [SignInWindow]
    /// Gives back one reserved attempt (the attempt was not a failure: it succeeded or was never checked).
    func releaseSignInAttempt(key: String) async throws
    /// Forgets a key's attempts (a successful sign-in to the account).
    func clearSignInAttempts(key: String) async throws
}

/// Message threads, their messages and read markers. Every call is scoped to one tenant.
public protocol MessageRepository: Sendable {
    /// The patient's thread, created on first use (as `newID`): one per patient, also when two callers race to create it.
    func thread(forPatient patientID: UUID, tenantID: UUID, at: Date, newID: UUID) async throws -> MessageThread
    func findThread(id: UUID, tenantID: UUID) async throws -> MessageThread?
    func findThread(patientID: UUID, tenantID: UUID) async throws -> MessageThread?
    /// The threads of `scope`, newest activity first, with `readerID`'s unread counts.
    func listThreads(scope: ThreadScope, readerID: UUID, page: PageRequest) async throws -> Page<ThreadSummary>
    /// A page of the thread's messages, newest first, each with when another participant read it.
    func messages(threadID: UUID, tenantID: UUID, page: PageRequest) async throws -> Page<ReadableMessage>
    func findMessage(id: UUID, tenantID: UUID) async throws -> Message?
    /// Stores the message, moves the thread's activity, marks the thread read for its sender and queues a
    /// notification for each of `recipients` but the sender, in one transaction.
    func send(_ message: Message, notifying recipients: [UUID]) async throws
    /// Marks every message of the thread up to now read for `userID`; returns the read marker.
    func markRead(threadID: UUID, userID: UUID, tenantID: UUID, at: Date) async throws -> Date
    /// How many messages of others `userID` has not read in the thread.
    func unreadCount(threadID: UUID, userID: UUID, tenantID: UUID) async throws -> Int
}

/// A message with its read receipt: the first time someone other than its sender marked the thread read at or
/// after it (nil while nobody has).
public struct ReadableMessage: Sendable, Hashable {
    public var message: Message
    public var readAt: Date?

    public init(message: Message, readAt: Date?) {
        self.message = message
        self.readAt = readAt
    }
}
