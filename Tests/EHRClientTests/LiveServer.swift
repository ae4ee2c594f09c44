import EHRServer
import Foundation
import Logging

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The real server, in this process, on a free port, over a SQLite database in a scratch folder with the
/// demo practice seeded. It can be stopped and started again on the same port and data (to go offline and back).
final class LiveServer: @unchecked Sendable {
    let scratch: URL
    let port: Int
    let accessTokenLifetime: TimeInterval
    private var task: Task<Void, any Error>?
    private var services: AppServices?

    var url: URL { URL(string: "http://127.0.0.1:\(port)")! }

    init(accessTokenLifetime: TimeInterval = 900) throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ehr-client-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        port = try Self.freePort()
        self.accessTokenLifetime = accessTokenLifetime
    }

    func start() async throws {
        var configuration = try AppConfiguration.fromEnvironment([
            "EHR_DATA_DIR": scratch.appendingPathComponent("server").path, "EHR_PORT": String(port), "EHR_LOG_LEVEL": "error",
            "EHR_SEED_DEMO": "true", "EHR_NOTIFY_INTERVAL": "1",
        ])
        configuration.jwt.accessTokenLifetime = accessTokenLifetime
        var logger = Logger(label: "ehr.client-test.server")
        logger.logLevel = .error
        let services = try await AppServices.make(configuration: configuration, logger: logger)
        try await prepareDatabase(services: services)
        let app = try buildApplication(services: services)
        self.services = services
        task = Task { try await app.run() }
        for _ in 0..<200 {
            if await isUp() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: "server did not come up on port \(port)"])
    }

    /// Stops serving (the port refuses connections afterwards: the client is offline).
    func stop() async {
        task?.cancel()
        _ = try? await task?.value
        task = nil
        for _ in 0..<100 where await isUp() { try? await Task.sleep(for: .milliseconds(50)) }
    }

    func cleanup() async {
        await stop()
        try? FileManager.default.removeItem(at: scratch)
    }

    /// A client home of its own inside the scratch folder.
    func clientHome(_ name: String = "client") -> URL {
        scratch.appendingPathComponent(name)
    }

    private func isUp() async -> Bool {
        var request = URLRequest(url: url.appendingPathComponent("health"))
        request.timeoutInterval = 1
        guard let (_, response) = try? await URLSession.shared.data(for: request) else { return false }
        return (response as? HTTPURLResponse)?.statusCode == 200
    }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0 else { throw CocoaError(.fileWriteUnknown) }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Runs `body` with a started server, and always cleans up.
func withLiveServer(
    accessTokenLifetime: TimeInterval = 900, isolation: isolated (any Actor)? = #isolation, _ body: (LiveServer) async throws -> Void
) async throws {
    let server = try LiveServer(accessTokenLifetime: accessTokenLifetime)
    do {
        try await server.start()
        try await body(server)
    } catch {
        await server.cleanup()
        throw error
    }
    await server.cleanup()
}
