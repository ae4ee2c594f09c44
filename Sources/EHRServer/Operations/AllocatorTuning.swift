import CEHRAllocator
import EHRPersistence

/// glibc's allocator settings for the embedded SQLite default.
///
/// Every SQLite list read builds and frees a temporary B-tree's page cache, and glibc handed the freed top of a
/// thread's heap back to the kernel each time (`madvise` about 400 times a second under the list load, with the
/// TLB shootdowns and page faults after it: 3–5% of the server's samples, `strace -k` under SQLite's statement
/// end). Fixed thresholds keep up to 16 MiB of free top per heap and give blocks of 1 MiB and more their own
/// mapping (`PROFILE_DB=sqlite bench/profile`, three alternating pairs: 2,867 against 2,529 req/s on average, 487
/// against 573 µs of CPU a request). Only for SQLite: on PostgreSQL the same settings made the list slower
/// (three alternating pairs, 2,412 → 2,135, 2,422 → 2,359, 2,412 → 2,175 req/s).
public enum AllocatorTuning {
    /// Applies the settings when `dialect` is SQLite and `EHR_MALLOC_TUNING` is not `off`; returns whether it did.
    public static func apply(for dialect: SQLDialectKind, environment: [String: String]) -> Bool {
        guard dialect == .sqlite, environment["EHR_MALLOC_TUNING"] != "off" else { return false }
        return cehr_fix_allocator_thresholds(16 << 20, 1 << 20) == 1
    }
}
