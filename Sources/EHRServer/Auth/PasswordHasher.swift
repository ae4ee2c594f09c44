import HummingbirdBcrypt
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// bcrypt hashing off the event loops: each hash takes a few hundred milliseconds at cost 12.
/// It has its own thread pool: sharing the global one (which also runs SQLite) would let a burst of
/// sign-ins stall every database query. At most `concurrency` checks run at once and at most `queue` wait;
/// beyond that ``Busy`` is thrown at once (the caller answers 503 with Retry-After), never an unbounded queue.
struct PasswordHasher: Sendable {
    /// Every slot and every place in the queue is taken.
    struct Busy: Error {}

    let cost: UInt8
    let pool: NIOThreadPool
    private let limiter: ConcurrencyLimiter
    private let counter = NIOLockedValueBox(0)

    init(cost: UInt8, concurrency: Int = System.coreCount, queue: Int = 32, pool: NIOThreadPool = PasswordHasher.sharedPool) {
        self.cost = cost
        self.pool = pool
        self.limiter = ConcurrencyLimiter(limit: concurrency, queueLimit: queue)
    }

    /// One pool per process, as many threads as cores, started on first use.
    static let sharedPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: max(1, System.coreCount))
        pool.start()
        return pool
    }()

    /// bcrypt operations (hashes and checks) started by this hasher, for tests and metrics.
    var operations: Int { counter.withLockedValue { $0 } }

    func hash(_ password: String) async throws -> String {
        let cost = cost
        return try await limited { Bcrypt.hash(password, cost: cost) }
    }

    func verify(_ password: String, against hash: String) async throws -> Bool {
        try await limited { Bcrypt.verify(password, hash: hash) }
    }

    private func limited<T: Sendable>(_ work: @escaping @Sendable () -> T) async throws -> T {
        guard await limiter.acquire() else { throw Busy() }
        counter.withLockedValue { $0 += 1 }
        do {
            let result = try await pool.runIfActive(work)
            await limiter.release()
            return result
        } catch {
            await limiter.release()
            throw error
        }
    }

    /// A valid hash of a random password: verified against when the account does not exist,
    /// so unknown emails take as long as wrong passwords. Made once per cost and process (every service
    /// instance in a process may share it; a test process builds dozens).
    static func decoyHash(cost: UInt8) async throws -> String {
        if let made = decoys.withLockedValue({ $0[cost] }) { return made }
        let made = try await PasswordHasher(cost: cost).hash(Secrets.randomToken())
        return decoys.withLockedValue { decoys in
            if let first = decoys[cost] { return first }
            decoys[cost] = made
            return made
        }
    }

    private static let decoys = NIOLockedValueBox<[UInt8: String]>([:])
}

/// At most `limit` holders at once and at most `queueLimit` waiting, first come first served.
actor ConcurrencyLimiter {
    let limit: Int
    let queueLimit: Int
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int, queueLimit: Int) {
        self.limit = max(1, limit)
        self.queueLimit = max(0, queueLimit)
    }

    /// Takes a slot, waiting in line if need be; false at once when the line is full.
    func acquire() async -> Bool {
        if running < limit {
            running += 1
            return true
        }
        guard waiting.count < queueLimit else { return false }
        await withCheckedContinuation { waiting.append($0) }
        return true
    }

    /// Hands the slot to the next in line, or frees it.
    func release() {
        if waiting.isEmpty {
            running -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
