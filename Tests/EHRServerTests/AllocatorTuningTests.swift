import CEHRAllocator
import EHRPersistence
import Testing

@testable import EHRServer

#if canImport(Glibc)
    import Glibc
#endif

/// glibc's allocator thresholds are fixed for the embedded SQLite default only (see ``AllocatorTuning``).
@Suite("Allocator tuning")
struct AllocatorTuningTests {
    @Test func postgreSQLAndTheSwitchLeaveTheAllocatorAlone() {
        #expect(!AllocatorTuning.apply(for: .postgres, environment: [:]))
        #expect(!AllocatorTuning.apply(for: .sqlite, environment: ["EHR_MALLOC_TUNING": "off"]))
    }

    #if canImport(Glibc)
        /// With glibc's own dynamic threshold, freeing a mapped 4 MiB block raises the threshold past 2 MiB, and a
        /// 2 MiB block then comes from a heap; with the threshold fixed at 1 MiB it is still mapped.
        @Test func sqliteFixesGlibcsThresholds() throws {
            #expect(AllocatorTuning.apply(for: .sqlite, environment: [:]))
            let large = try #require(malloc(4 << 20))
            free(large)
            let block = try #require(malloc(2 << 20))
            defer { free(block) }
            #expect(cehr_allocator_block_is_mapped(block) == 1)
        }
    #endif
}
