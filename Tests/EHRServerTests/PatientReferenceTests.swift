import EHRDomain
import EHRPersistence
import Foundation
import Testing

@testable import EHRServer

/// A patient's access facts, read without decrypting the record (a new note's patient check), are those of the
/// whole record; another practice's or an unknown patient is not found.
@Suite("Patient references")
struct PatientReferenceTests {
    let demo = TestWorld.demo

    @Test(arguments: TestBackend.all)
    func aReferenceIsTheRecordsAccessFacts(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let store = world.services.store
            try await DatabaseScope.$current.withValue(.tenant(demo.tenantID)) {
                for id in [demo.john, demo.bob] {
                    let record = try #require(try await store.find(id: id, tenantID: demo.tenantID) as Patient?)
                    #expect(try await store.findReference(id: id, tenantID: demo.tenantID) == record.reference)
                }
                #expect(try await store.findReference(id: UUID(), tenantID: demo.tenantID) == nil)
            }
            // The patient asked for in another practice's name: nothing, as for the full record.
            let other = TestWorld.other
            let (reference, record) = try await DatabaseScope.$current.withValue(.tenant(other.tenantID)) {
                (
                    try await store.findReference(id: demo.john, tenantID: other.tenantID),
                    try await store.find(id: demo.john, tenantID: other.tenantID) as Patient?
                )
            }
            #expect(reference == nil && record == nil)
        }
    }
}
