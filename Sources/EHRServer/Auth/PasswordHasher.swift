import HummingbirdBcrypt
import NIOCore
import NIOPosix

/// bcrypt hashing off the event loops: each hash takes a few hundred milliseconds at cost 12.
/// It has its own thread pool: sharing the global one (which also runs SQLite) would let a burst of
/// sign-ins stall every database query.
struct PasswordHasher: Sendable {
    let cost: UInt8
    let pool: NIOThreadPool

    init(cost: UInt8, pool: NIOThreadPool = PasswordHasher.sharedPool) {
        self.cost = cost
        self.pool = pool
    }

    /// One pool per process, as many threads as cores, started on first use.
    static let sharedPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: max(1, System.coreCount))
        pool.start()
        return pool
    }()

    func hash(_ password: String) async throws -> String {
        let cost = cost
        return try await pool.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    func verify(_ password: String, against hash: String) async throws -> Bool {
        try await pool.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    /// A valid hash of a random password: verified against when the account does not exist,
    /// so unknown emails take as long as wrong passwords.
    static func decoyHash(cost: UInt8) async throws -> String {
        try await PasswordHasher(cost: cost).hash(Secrets.randomToken())
    }
}
