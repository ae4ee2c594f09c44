import EHRDomain
import EHRPersistence
import Foundation

extension AppServices {
    /// A bcrypt hash with the configured cost.
    public func passwordHash(_ password: String) async throws -> String {
        try await hasher.hash(password)
    }

    /// Creates one benchmark practice through the repositories. Each therapist gets an equal share of
    /// patients and back-to-back hourly appointments (eight a day) from 120 days ago onward, so
    /// about a third lie in the future. Returns each therapist's email with their patients' ids.
    public func generateLoadPractice(slug: String, therapists: Int, patients: Int, appointments: Int, passwordHash: String) async throws -> [(String, [UUID])] {
        let now = millisecondPrecision(Date())
        let tenant = Tenant(slug: slug, name: "Benchmark \(slug)", createdAt: now)
        try await store.create(tenant)
        try await store.create(
            User(tenantID: tenant.id, email: "admin@\(slug).test", displayName: "Admin", role: .admin, passwordHash: passwordHash), invitation: nil)
        var providers: [Provider] = []
        for index in 1...therapists {
            let user = User(
                tenantID: tenant.id, email: "therapist\(index)@\(slug).test", displayName: "Therapist \(index)", role: .therapist,
                passwordHash: passwordHash, createdAt: now, updatedAt: now)
            let provider = Provider(user: user, licenseNumber: "LIC-\(index)", licenseState: "NY", credentials: "LCSW", specialties: ["CBT"], updatedAt: now)
            try await store.create(provider, invitation: nil)
            providers.append(provider)
        }
        var patientsByTherapist: [UUID: [UUID]] = [:]
        for index in 0..<patients {
            let therapist = providers[index % providers.count]
            let patient = Patient(
                tenantID: tenant.id, assignedTherapistID: therapist.id, firstName: "Patient\(index)", lastName: "Bench",
                dateOfBirth: CalendarDate(year: 1960 + index % 40, month: 1 + index % 12, day: 1 + index % 28)!,
                email: "patient\(index)@\(slug).test", phone: "+1-555-\(String(format: "%04d", index % 10000))",
                createdAt: now, updatedAt: now)
            try await store.create(patient, portalUser: nil, invitation: nil)
            patientsByTherapist[therapist.id, default: []].append(patient.id)
        }
        let start = Calendar.utc.startOfDay(for: now).addingTimeInterval(-120 * 86_400)
        let perTherapist = appointments / providers.count
        let store = self.store
        try await withThrowingTaskGroup(of: Void.self) { group in
            for provider in providers {
                let patientIDs = patientsByTherapist[provider.id] ?? []
                group.addTask {
                    for slot in 0..<perTherapist {
                        let day = slot / 8
                        let hour = 9 + slot % 8
                        let startsAt = start.addingTimeInterval(Double(day) * 86_400 + Double(hour) * 3600)
                        let status: AppointmentStatus = startsAt < now ? .completed : .scheduled
                        try await store.create(
                            Appointment(
                                tenantID: tenant.id, patientID: patientIDs[slot % patientIDs.count], therapistID: provider.id, startsAt: startsAt,
                                endsAt: startsAt.addingTimeInterval(50 * 60), timeZone: "America/New_York", status: status,
                                kind: slot % 3 == 0 ? .inPerson : .televisit, reason: "Session", createdAt: now, updatedAt: now))
                    }
                }
            }
            try await group.waitForAll()
        }
        return providers.map { ($0.user.email, patientsByTherapist[$0.id] ?? []) }
    }
}
