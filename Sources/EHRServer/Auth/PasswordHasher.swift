import HummingbirdBcrypt
import NIOPosix

/// bcrypt hashing off the event loops: each hash takes a few hundred milliseconds at cost 12.
struct PasswordHasher: Sendable {
    let cost: UInt8

    func hash(_ password: String) async throws -> String {
        let cost = cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    func verify(_ password: String, against hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    /// A valid hash of a random password: verified against when the account does not exist,
    /// so unknown emails take as long as wrong passwords.
    static func decoyHash(cost: UInt8) async throws -> String {
        try await PasswordHasher(cost: cost).hash(Secrets.randomToken())
    }
}
