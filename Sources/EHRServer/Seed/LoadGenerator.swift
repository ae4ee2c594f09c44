import EHRDomain
import EHRPersistence
import Foundation

extension AppServices {
    /// A bcrypt hash with the configured cost.
    public func passwordHash(_ password: String) async throws -> String {
        try await hasher.hash(password)
    }

    /// Creates one benchmark practice through the repositories. Each therapist gets an equal share of
    /// patients and back-to-back hourly appointments (eight a day), about a third of them in the future;
    /// appointments go in through the bulk path (``SQLStore/bulkCreate(_:)``). Returns each therapist's email with their patients' ids.
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
        // Patients in parallel, a share per task: at 50,000 patients one by one the load takes minutes.
        let store = self.store
        let therapistIDs = providers.map(\.id)
        let patientsByTherapist = try await withThrowingTaskGroup(of: [(UUID, UUID)].self) { group in
            let lanes = 8
            for lane in 0..<lanes {
                group.addTask {
                    var made: [(UUID, UUID)] = []
                    for index in stride(from: lane, to: patients, by: lanes) {
                        let therapist = therapistIDs[index % therapistIDs.count]
                        let patient = Patient(
                            tenantID: tenant.id, assignedTherapistID: therapist, firstName: "Patient\(index)", lastName: "Bench",
                            dateOfBirth: CalendarDate(year: 1960 + index % 40, month: 1 + index % 12, day: 1 + index % 28)!,
                            email: "patient\(index)@\(slug).test", phone: "+1-555-\(String(format: "%04d", index % 10000))",
                            createdAt: now, updatedAt: now)
                        try await store.create(patient, portalUser: nil, invitation: nil)
                        made.append((therapist, patient.id))
                    }
                    return made
                }
            }
            var byTherapist: [UUID: [UUID]] = [:]
            for try await made in group {
                for (therapist, patient) in made { byTherapist[therapist, default: []].append(patient) }
            }
            return byTherapist
        }
        // Eight a day per therapist, a third of the days still ahead, whatever the size.
        let perTherapist = appointments / providers.count
        let days = (perTherapist + 7) / 8
        let start = Calendar.utc.startOfDay(for: now).addingTimeInterval(-Double(days * 2 / 3) * 86_400)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, provider) in providers.enumerated() {
                let patientIDs = patientsByTherapist[provider.id] ?? []
                group.addTask {
                    var batch: [Appointment] = []
                    for slot in 0..<perTherapist {
                        let day = slot / 8
                        let hour = 9 + slot % 8
                        let startsAt = start.addingTimeInterval(Double(day) * 86_400 + Double(hour) * 3600)
                        let status: AppointmentStatus = startsAt < now ? .completed : .scheduled
                        batch.append(
                            Appointment(
                                tenantID: tenant.id, patientID: patientIDs[slot % patientIDs.count], therapistID: provider.id, startsAt: startsAt,
                                endsAt: startsAt.addingTimeInterval(50 * 60), timeZone: "America/New_York", status: status,
                                kind: slot % 3 == 0 ? .inPerson : .televisit, reason: "Session", createdAt: now, updatedAt: now))
                    }
                    try await store.bulkCreate(batch)
                }
                // A few therapists at a time: each holds one transaction and its rows in memory.
                if index >= 3 { try await group.next() }
            }
            try await group.waitForAll()
        }
        return providers.map { ($0.user.email, patientsByTherapist[$0.id] ?? []) }
    }
}
