import Crypto
import EHRDomain
import EHRPersistence
import Foundation

/// The fixed demo practice that walk-throughs, the API collection and tests rely on.
/// Idempotent: seeding a practice that already exists changes nothing.
public struct DemoSeed: Sendable {
    /// The password of every demo account. Public on purpose: demo data only.
    public static let password = "mentalspace-demo"

    public struct Account: Sendable {
        public let email: String
        public let role: Role
        public let displayName: String
    }

    /// What `ehr seed` prints and the README lists.
    public static func accounts(slug: String = "demo") -> [Account] {
        let domain = slug + ".test"
        return [
            Account(email: "admin@\(domain)", role: .admin, displayName: "Practice Admin"),
            Account(email: "dr.smith@\(domain)", role: .therapist, displayName: "Dr. Sarah Smith"),
            Account(email: "dr.johnson@\(domain)", role: .therapist, displayName: "Dr. Michael Johnson"),
            Account(email: "john.doe@\(domain)", role: .client, displayName: "John Doe"),
            Account(email: "jane.smith@\(domain)", role: .client, displayName: "Jane Smith"),
            Account(email: "bob.wilson@\(domain)", role: .client, displayName: "Bob Wilson"),
        ]
    }

    let store: SQLStore
    let hasher: PasswordHasher

    /// Seeds practice `slug` (default "demo"). Returns false when it already existed.
    /// - Parameter passwordHash: a precomputed hash of ``password``, to skip bcrypt when seeding many practices in tests.
    @discardableResult
    public func seed(slug: String = "demo", name: String = "Demo Practice", passwordHash: String? = nil, now: Date = Date()) async throws -> Bool {
        if try await store.find(slug: slug) != nil { return false }
        // One hash for all demo accounts: they share one published password, so separate salts would protect nothing.
        let hash: String
        if let passwordHash { hash = passwordHash } else { hash = try await hasher.hash(Self.password) }
        let ids = SeedIDs(slug: slug)
        let domain = slug + ".test"
        let tenant = Tenant(id: ids.id("tenant"), slug: slug, name: name, createdAt: now, timeZone: "America/New_York")
        try await store.create(tenant)

        func user(_ key: String, _ email: String, _ name: String, _ role: Role) -> User {
            User(id: ids.id(key), tenantID: tenant.id, email: email, displayName: name, role: role, passwordHash: hash, createdAt: now, updatedAt: now)
        }
        try await store.create(user("admin", "admin@\(domain)", "Practice Admin", .admin), invitation: nil)

        let smith = Provider(
            user: user("dr.smith", "dr.smith@\(domain)", "Dr. Sarah Smith", .therapist),
            licenseNumber: "PSY-100234", licenseState: "NY", credentials: "PhD, Licensed Psychologist",
            specialties: ["Anxiety", "Depression", "CBT"], updatedAt: now)
        let johnson = Provider(
            user: user("dr.johnson", "dr.johnson@\(domain)", "Dr. Michael Johnson", .therapist),
            licenseNumber: "LCSW-200981", licenseState: "NY", credentials: "LCSW",
            specialties: ["Trauma", "EMDR", "Couples"], updatedAt: now)
        for provider in [smith, johnson] {
            try await store.create(provider, invitation: nil)
        }

        func patient(_ key: String, first: String, last: String, dob: String, phone: String, therapist: Provider) -> (Patient, User) {
            let portal = user(key, "\(key)@\(domain)", "\(first) \(last)", .client)
            let record = Patient(
                id: ids.id("patient:" + key), tenantID: tenant.id, assignedTherapistID: therapist.id, userID: portal.id,
                firstName: first, lastName: last, dateOfBirth: CalendarDate(iso: dob)!, email: portal.email, phone: phone,
                address: Address(line1: "100 Demo Street", city: "Springfield", state: "NY", postalCode: "10001"),
                emergencyContact: EmergencyContact(name: "Emergency Contact of \(first)", phone: "+1-555-0100", relationship: "Sibling"),
                createdAt: now, updatedAt: now)
            return (record, portal)
        }
        let john = patient("john.doe", first: "John", last: "Doe", dob: "1985-04-12", phone: "+1-555-0101", therapist: smith)
        let jane = patient("jane.smith", first: "Jane", last: "Smith", dob: "1990-09-30", phone: "+1-555-0102", therapist: smith)
        let bob = patient("bob.wilson", first: "Bob", last: "Wilson", dob: "1978-01-05", phone: "+1-555-0103", therapist: johnson)
        for (record, portal) in [john, jane, bob] {
            try await store.create(record, portalUser: portal, invitation: nil)
        }

        let startOfToday = Calendar.utc.startOfDay(for: now)
        let tomorrow = startOfToday.addingTimeInterval(86_400 + 15 * 3600)  // 15:00 UTC, 10:00 or 11:00 in New York
        let inTwoDays = startOfToday.addingTimeInterval(2 * 86_400 + 16 * 3600)
        let first = Appointment(
            id: ids.id("appointment:john"), tenantID: tenant.id, patientID: john.0.id, therapistID: smith.id,
            startsAt: tomorrow, endsAt: tomorrow.addingTimeInterval(50 * 60), timeZone: "America/New_York",
            kind: .televisit, reason: "Weekly therapy session", createdAt: now, updatedAt: now)
        let second = Appointment(
            id: ids.id("appointment:bob"), tenantID: tenant.id, patientID: bob.0.id, therapistID: johnson.id,
            startsAt: inTwoDays, endsAt: inTwoDays.addingTimeInterval(50 * 60), timeZone: "America/New_York",
            kind: .televisit, reason: "Follow-up session", createdAt: now, updatedAt: now)
        try await store.create(first)
        try await store.create(second)

        let signedAt = now
        var signed = ClinicalNote(
            id: ids.id("note:john"), tenantID: tenant.id, patientID: john.0.id, authorID: smith.id, type: .soap,
            sections: [
                "subjective": "Client reports improved sleep and fewer panic episodes this week.",
                "objective": "Calm affect, good eye contact, speech normal in rate and volume.",
                "assessment": "Generalized anxiety improving with CBT; no safety concerns.",
                "plan": "Continue weekly CBT; practise breathing exercises daily.",
            ],
            createdAt: now, updatedAt: now)
        signed.status = .signed
        signed.signedAt = millisecondPrecision(signedAt)
        signed.signedBy = smith.id
        signed.contentHash = NoteRules.contentHash(of: signed, signedBy: smith.id, signedAt: millisecondPrecision(signedAt))
        try await store.create(signed)
        try await store.create(
            ClinicalNote(
                id: ids.id("note:bob"), tenantID: tenant.id, patientID: bob.0.id, authorID: johnson.id, type: .progress,
                sections: ["narrative": "Client discussed work stress; exploring grounding techniques. Draft in progress."],
                createdAt: now, updatedAt: now))

        let thread = try await store.thread(forPatient: john.0.id, tenantID: tenant.id, at: now, newID: ids.id("thread:john"))
        try await store.send(
            Message(
                id: ids.id("message:john"), tenantID: tenant.id, threadID: thread.id, senderID: smith.id,
                body: "Hi John, a reminder to try the breathing exercise before Thursday. Message me here with any questions.", sentAt: now))
        return true
    }
}

/// Deterministic ids for seeded records, so the demo practice has the same ids on every machine.
struct SeedIDs {
    let slug: String

    func id(_ key: String) -> UUID {
        var bytes = Array(SHA256.hash(data: Data("mentalspace-seed:\(slug):\(key)".utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50  // version 5 layout (name-based)
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 4122 variant
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }
}

extension Calendar {
    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()
}
