import EHRDomain
import EHRPersistence
import Foundation
import Logging
import SQLKit
import Testing

@testable import EHRServer

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Requirement 9d: the service (`ehr serve`, a real process) is killed with SIGKILL in the middle of a
/// stream of writes and reads. After a restart on the same data, every acknowledged write has its event and
/// its change, every answered read has its event, and the audit chain verifies.
@Suite("Audit crash")
struct AuditCrashTests {
    /// Concurrent clients in the stream: four therapists writing and reading, four readers.
    static let workerCount = 8
    /// The stream must reach these before the kill, so the test cannot pass on a handful of requests.
    static let minimumWrites = 20
    static let minimumReads = 20
    /// Kills tried until one cuts a request mid-way.
    static let maximumRounds = 4

    /// One kill of the service: how many requests the clients had out, and when.
    struct Kill: CustomStringConvertible {
        let round: Int
        let inFlight: Int
        let after: TimeInterval
        var description: String { "kill \(round): \(inFlight) in flight after \(String(format: "%.1f", after)) s" }
    }

    @Test(arguments: TestBackend.all)
    func killedMidStreamKeepsAnEventForEveryAnsweredRequest(_ backend: TestBackend) async throws {
        let binary = try CrashServer.locateBinary()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ehr-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let database = try await TestDatabases.fresh(backend, scratch: scratch)
        do {
            try await crashAndVerify(backend, binary: binary, scratch: scratch, database: database.configuration)
        } catch {
            await database.cleanup()
            throw error
        }
        await database.cleanup()
    }

    private func crashAndVerify(_ backend: TestBackend, binary: URL, scratch: URL, database: DatabaseConfiguration) async throws {
        // setup: the service's own settings; both runs and the verifying services share them (and so the keys in the data folder).
        var settings = [
            "EHR_ENV": "development",
            "EHR_DATA_DIR": scratch.appendingPathComponent("data").path,
            "EHR_LOG_LEVEL": "error",
            "EHR_SEED_DEMO": "true",
        ]
        switch database {
        case .sqlite(let path): settings["EHR_SQLITE_PATH"] = path
        case .postgres(let url, _): settings["DATABASE_URL"] = url
        }
        let server = CrashServer(binary: binary, settings: settings, log: scratch.appendingPathComponent("server.log"))
        defer { server.forceStop() }
        let client = CrashClient()
        defer { client.invalidate() }
        let tag = backend.testDescription.lowercased()
        let ledger = Ledger()

        // MUT: a stream of writes and reads from concurrent clients, cut by SIGKILL while requests are in flight.
        // On a loaded machine every request the client still counts as in flight can already be answered by
        // the service (the answers wait in the client's sockets), so a kill may cut nothing: then the service
        // restarts on the same data and another stream is cut, up to `maximumRounds`. Every round's answered
        // requests are checked below.
        var kills: [Kill] = []
        var base = try await server.start(client: client)
        for round in 1...Self.maximumRounds {
            let kill = try await streamAndKill(round: round, tag: tag, server: server, base: base, client: client, ledger: ledger)
            kills.append(kill)
            base = try await server.start(client: client)
            if await ledger.snapshot().interrupted > 0 { break }
            await ledger.resume()
        }

        // The service comes back on the same data and serves.
        let smithAgain = try await signIn("dr.smith@demo.test", id: "crash-\(tag)-restart-login", base: base, client: client, ledger: ledger)
        let afterRestart = try await client.send("GET", base, "/api/v1/patients", token: smithAgain, requestID: "crash-\(tag)-restart-read")
        #expect(afterRestart.status == 200, "the restarted service did not serve a read: \(afterRestart.status) \(afterRestart.text)")
        if afterRestart.status == 200 { await ledger.answered(id: "crash-\(tag)-restart-read", action: "patient.list") }

        let record = await ledger.snapshot()
        let answeredWrites = record.answered.filter { $0.isWrite }
        let answeredReads = record.answered.filter { !$0.isWrite }
        #expect(answeredWrites.count >= Self.minimumWrites, "too few acknowledged writes before the kill: \(answeredWrites.count)")
        #expect(answeredReads.count >= Self.minimumReads, "too few answered reads before the kill: \(answeredReads.count)")
        #expect(kills.allSatisfy { $0.inFlight > 0 }, "no request was in flight when the service was killed: \(kills)")
        #expect(record.interrupted > 0, "no request was cut by \(kills.count) kills")
        #expect(record.refusals.isEmpty, "requests refused while the service was up: \(record.refusals.prefix(10))")

        // validate: from the database, with services opened the way the service opens them.
        let (report, missingCount) = try await withServices(settings) { services in
            struct EventRow: Decodable {
                var request_id: String
                var action: String
                var outcome: String
            }
            // What the crash left in PostgreSQL's inbox goes onto the chain first (the restarted server does the same).
            try await services.auditLog.sealPending(in: services.database)
            let events = try await services.database.sql.raw("SELECT request_id, action, outcome FROM audit_events").all(decoding: EventRow.self)
            let byRequest = Dictionary(grouping: events, by: \.request_id)
            var missing: [String] = []
            for request in record.answered {
                let found = byRequest[request.id] ?? []
                if found.isEmpty {
                    missing.append("\(request.action) \(request.id)")
                    continue
                }
                #expect(found.count == 1, "\(found.count) events for request \(request.id)")
                #expect(
                    found.allSatisfy { $0.action == request.action && $0.outcome == "allowed" },
                    "event of \(request.id) is \(found.map { "\($0.action)/\($0.outcome)" }), expected \(request.action)/allowed")
            }
            #expect(missing.isEmpty, "answered requests without an audit event (\(missing.count)): \(missing.prefix(20))\n\(server.logTail())")
            // Requests cut by the kill may or may not have committed, but never twice.
            let duplicated = byRequest.filter { $0.key.hasPrefix("crash-") && $0.value.count > 1 }.keys.sorted()
            #expect(duplicated.isEmpty, "request ids with more than one event: \(duplicated.prefix(20))")

            // Every acknowledged note write is in the database, with the acknowledged text or a later attempt's.
            for (noteID, history) in record.notes {
                guard let acknowledged = history.lastAcknowledged else { continue }
                let note: ClinicalNote? = try await services.store.find(id: noteID, tenantID: TestWorld.demo.tenantID)
                guard let note else {
                    Issue.record("acknowledged note \(noteID) is missing after the crash")
                    continue
                }
                let text = note.sections["narrative"] ?? ""
                #expect(
                    history.attempts[acknowledged...].contains(text),
                    "note \(noteID) holds \"\(text)\"; acknowledged: \"\(history.attempts[acknowledged])\"")
            }

            let report = try await services.auditLog.verify(tenantID: TestWorld.demo.tenantID, in: services.database)
            #expect(report.isIntact, "audit chain broken after the crash: \(String(describing: report.firstBreak)), head mismatch \(report.headMismatch)")
            #expect(report.verifiedCount == report.eventCount)
            #expect(report.eventCount >= record.answered.count)
            return (report, missing.count)
        }

        let stopped = await server.stop()
        #expect(stopped, "the restarted service did not stop on SIGTERM\n\(server.logTail())")
        print(
            "crash test (\(backend.testDescription)): \(answeredWrites.count) acknowledged writes, \(answeredReads.count) answered reads and sign-ins "
                + "(\(kills.map(\.description).joined(separator: "; ")), \(record.interrupted) cut), "
                + (missingCount == 0 ? "all with events" : "\(missingCount) WITHOUT events")
                + "; chain \(report.isIntact ? "intact" : "BROKEN") over \(report.eventCount) events")
    }

    /// Signs the clients in on the running service, runs the stream, and kills the service with SIGKILL
    /// while most clients have a request out. Every answered request is recorded in `ledger`.
    private func streamAndKill(round: Int, tag: String, server: CrashServer, base: URL, client: CrashClient, ledger: Ledger) async throws -> Kill {
        let prefix = "crash-\(tag)-r\(round)"
        let smith = try await signIn("dr.smith@demo.test", id: "\(prefix)-login-smith", base: base, client: client, ledger: ledger)
        let admin = try await signIn("admin@demo.test", id: "\(prefix)-login-admin", base: base, client: client, ledger: ledger)
        let johnson = try await signIn("dr.johnson@demo.test", id: "\(prefix)-login-johnson", base: base, client: client, ledger: ledger)
        let smithPatients = try await patientIDs(token: smith, id: "\(prefix)-setup-smith", base: base, client: client, ledger: ledger)
        let allPatients = try await patientIDs(token: admin, id: "\(prefix)-setup-admin", base: base, client: client, ledger: ledger)
        try #require(smithPatients.count == 2 && allPatients.count == 3, "unexpected demo patients: \(smithPatients), \(allPatients)")

        let started = Date()
        return await withTaskGroup(of: Void.self, returning: Kill.self) { group in
            for worker in 0..<Self.workerCount {
                let stream = Traffic(worker: worker, prefix: prefix, base: base, client: client, ledger: ledger)
                group.addTask {
                    switch worker % 4 {
                    case 0, 2: await stream.therapistWrites(token: smith, patients: smithPatients)
                    case 1: await stream.reads(token: admin, patients: allPatients)
                    default: await stream.reads(token: johnson, patients: [])
                    }
                }
            }
            // A random moment, so repeated runs cut the stream at different points of a request's life.
            try? await Task.sleep(for: .milliseconds(1500 + Int.random(in: 0..<500)))
            // A slow machine gets more time to build up a meaningful stream, up to a limit.
            while Date().timeIntervalSince(started) < 15 {
                let (writes, reads) = await ledger.streamCounts()
                if writes >= Self.minimumWrites, reads >= Self.minimumReads { break }
                try? await Task.sleep(for: .milliseconds(100))
            }
            // Kill while most clients have a request out, so some are cut mid-way (on a loaded machine a moment
            // with one request in flight often had it answered just before the kill; with notes answered faster,
            // half the clients "in flight" by the client's count were once all answered already: three quarters).
            for _ in 0..<500 where await ledger.inFlightNow < Self.workerCount * 3 / 4 {
                try? await Task.sleep(for: .milliseconds(2))
            }
            let inFlight = await ledger.markKilled()
            let killedAfter = Date().timeIntervalSince(started)
            server.signal(SIGKILL)
            await server.waitForExit()
            // Let the clients see the dead service (their requests fail) before stopping them.
            try? await Task.sleep(for: .milliseconds(300))
            await ledger.stop()
            await group.waitForAll()
            return Kill(round: round, inFlight: inFlight, after: killedAfter)
        }
    }

    /// Signs in and records the sign-in as an answered request; returns the access token.
    private func signIn(_ email: String, id: String, base: URL, client: CrashClient, ledger: Ledger) async throws -> String {
        let body = try JSONSerialization.data(withJSONObject: ["tenant": "demo", "email": email, "password": DemoSeed.password])
        let reply = try await client.send("POST", base, "/api/v1/auth/login", body: body, requestID: id)
        let token = try #require(reply.json["accessToken"] as? String, "sign-in of \(email) failed: \(reply.status) \(reply.text)")
        await ledger.answered(id: id, action: "auth.login")
        return token
    }

    /// Ids of the patients the caller may see (the first page holds all demo patients).
    private func patientIDs(token: String, id: String, base: URL, client: CrashClient, ledger: Ledger) async throws -> [String] {
        let reply = try await client.send("GET", base, "/api/v1/patients", token: token, requestID: id)
        try #require(reply.status == 200, "patient list failed: \(reply.status) \(reply.text)")
        await ledger.answered(id: id, action: "patient.list")
        return (reply.json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }

    /// Opens services on the data the service used (same keys, same database), runs `body`, and closes them.
    private func withServices<T: Sendable>(_ settings: [String: String], _ body: (AppServices) async throws -> T) async throws -> T {
        let configuration = try AppConfiguration.fromEnvironment(settings)
        var logger = Logger(label: "ehr.test.crash")
        logger.logLevel = .error
        let services = try await AppServices.make(configuration: configuration, logger: logger)
        do {
            let result = try await DatabaseScope.system(.administration) { try await body(services) }
            await services.database.shutdown()
            return result
        } catch {
            await services.database.shutdown()
            throw error
        }
    }
}

/// One client of the stream: loops over its requests until the ledger says stop.
private struct Traffic: Sendable {
    let worker: Int
    /// Starts every request id: the test's backend and the round.
    let prefix: String
    let base: URL
    let client: CrashClient
    let ledger: Ledger

    /// A therapist creating notes, revising them, and reading around them.
    func therapistWrites(token: String, patients: [String]) async {
        var step = 0
        var current: UUID?
        while !(await ledger.isStopped) {
            defer { step += 1 }
            let patient = patients[step % patients.count]
            switch step % 4 {
            case 0:
                let text = "crash stream note \(worker)-\(step)"
                let body = Self.json(["patientId": patient, "type": "progress", "sections": ["narrative": text]])
                let reply = await send("POST", "/api/v1/notes", token: token, body: body, step: step, action: "note.create", expect: 201) { reply in
                    UUID(uuidString: reply.json["id"] as? String ?? "")
                }
                if let created = reply {
                    current = created
                    await ledger.attempted(note: created, text: text, acknowledged: true)
                }
            case 2:
                guard let note = current else { continue }
                let text = "crash stream revision \(worker)-\(step)"
                await ledger.attempted(note: note, text: text, acknowledged: false)
                let body = Self.json(["sections": ["narrative": text]])
                let reply = await send(
                    "PATCH", "/api/v1/notes/\(note.uuidString.lowercased())", token: token, body: body, step: step,
                    action: "note.update", expect: 200
                ) { _ in true }
                if reply != nil { await ledger.acknowledged(note: note) }
            case 1:
                _ = await send("GET", "/api/v1/patients", token: token, step: step, action: "patient.list") { _ in true }
            default:
                if step % 8 == 3 {
                    _ = await send("GET", "/api/v1/patients/\(patient)", token: token, step: step, action: "patient.read") { _ in true }
                } else {
                    _ = await send("GET", "/api/v1/appointments?upcoming=true", token: token, step: step, action: "appointment.list") { _ in true }
                }
            }
        }
    }

    /// A reader of lists and (when given patients) patient records.
    func reads(token: String, patients: [String]) async {
        var step = 0
        while !(await ledger.isStopped) {
            defer { step += 1 }
            switch step % 3 {
            case 0:
                _ = await send("GET", "/api/v1/patients", token: token, step: step, action: "patient.list") { _ in true }
            case 1 where !patients.isEmpty:
                _ = await send("GET", "/api/v1/patients/\(patients[step % patients.count])", token: token, step: step, action: "patient.read") { _ in true }
            default:
                _ = await send("GET", "/api/v1/appointments?upcoming=true", token: token, step: step, action: "appointment.list") { _ in true }
            }
        }
    }

    /// Sends one request with its own request id. A full answer with the expected status is recorded as
    /// answered and returns `accept`'s value; a transport failure or any other answer returns nil.
    private func send<T>(
        _ method: String, _ path: String, token: String, body: Data? = nil, step: Int, action: String,
        expect status: Int = 200, accept: (CrashClient.Reply) -> T?
    ) async -> T? {
        let id = "\(prefix)-w\(worker)-\(step)"
        let startedBeforeKill = await ledger.begin()
        let reply: CrashClient.Reply
        do {
            reply = try await client.send(method, base, path, token: token, body: body, requestID: id)
        } catch {
            await ledger.end(failed: true, startedBeforeKill: startedBeforeKill)
            // Connection refused is immediate once the service is gone: do not spin.
            try? await Task.sleep(for: .milliseconds(20))
            return nil
        }
        await ledger.end(failed: false, startedBeforeKill: startedBeforeKill)
        guard reply.status == status, reply.requestID == id, let value = accept(reply) else {
            await ledger.refused("\(method) \(path) \(id): \(reply.status) \(reply.text.prefix(200))")
            return nil
        }
        await ledger.answered(id: id, action: action)
        return value
    }

    private static func json(_ object: [String: Any]) -> Data {
        (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
    }
}

/// What the clients saw: every answered request (with the audit action it must have produced), the
/// text history of every note, requests the kill cut, and anything refused while the service was up.
private actor Ledger {
    struct Answered: Sendable {
        let id: String
        let action: String
        var isWrite: Bool { action == "note.create" || action == "note.update" }
    }

    struct NoteHistory: Sendable {
        var attempts: [String] = []
        /// Index in `attempts` of the last acknowledged text.
        var lastAcknowledged: Int?
    }

    struct Snapshot: Sendable {
        let answered: [Answered]
        let notes: [UUID: NoteHistory]
        let interrupted: Int
        let refusals: [String]
    }

    private var answered: [Answered] = []
    private var notes: [UUID: NoteHistory] = [:]
    private var killed = false
    private var stopped = false
    private var inFlight = 0
    private var interrupted = 0
    private var refusals: [String] = []

    var isStopped: Bool { stopped }
    var inFlightNow: Int { inFlight }

    func answered(id: String, action: String) { answered.append(Answered(id: id, action: action)) }

    func attempted(note: UUID, text: String, acknowledged: Bool) {
        notes[note, default: NoteHistory()].attempts.append(text)
        if acknowledged { self.acknowledged(note: note) }
    }

    func acknowledged(note: UUID) {
        guard let count = notes[note]?.attempts.count, count > 0 else { return }
        notes[note]?.lastAcknowledged = count - 1
    }

    /// Marks a request as started; true when the service has not been killed yet.
    func begin() -> Bool {
        inFlight += 1
        return !killed
    }

    /// Marks a request as finished; a failed one started before the kill was cut by it.
    func end(failed: Bool, startedBeforeKill: Bool) {
        inFlight -= 1
        if failed, startedBeforeKill { interrupted += 1 }
    }

    func refused(_ description: String) {
        // Once killed, the service cannot answer; before that, every request of the stream must succeed.
        if !killed { refusals.append(description) }
    }

    /// Writes and reads answered so far (sign-ins and setup included).
    func streamCounts() -> (writes: Int, reads: Int) {
        let writes = answered.filter(\.isWrite).count
        return (writes, answered.count - writes)
    }

    /// Records the kill; returns how many requests are in flight at that moment.
    func markKilled() -> Int {
        killed = true
        return inFlight
    }

    func stop() { stopped = true }

    /// Starts a new round on a restarted service: nothing is killed or stopped any more.
    func resume() {
        killed = false
        stopped = false
    }

    func snapshot() -> Snapshot {
        Snapshot(answered: answered, notes: notes, interrupted: interrupted, refusals: refusals)
    }
}

/// A minimal HTTP client over URLSession.
private final class CrashClient: Sendable {
    struct Reply: Sendable {
        let status: Int
        let body: Data
        let requestID: String?

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    private let session: URLSession

    init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 16
        configuration.timeoutIntervalForRequest = 20
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        session = URLSession(configuration: configuration)
    }

    func send(
        _ method: String, _ base: URL, _ path: String, token: String? = nil, body: Data? = nil, requestID: String? = nil,
        timeout: TimeInterval = 20
    ) async throws -> Reply {
        var request = URLRequest(url: URL(string: path, relativeTo: base)!, timeoutInterval: timeout)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let requestID { request.setValue(requestID, forHTTPHeaderField: "X-Request-Id") }
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = body
        }
        let (data, response) = try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw URLError(.badServerResponse) }
        return Reply(status: http.statusCode, body: data, requestID: http.value(forHTTPHeaderField: "X-Request-Id"))
    }

    func invalidate() { session.invalidateAndCancel() }
}

/// The `ehr serve` process under test. Any run still alive when the test ends is killed (`forceStop`).
private final class CrashServer: @unchecked Sendable {
    struct LaunchError: Error, CustomStringConvertible {
        let description: String
    }

    private let binary: URL
    private let environment: [String: String]
    private let logURL: URL
    // Only touched by the test's own sequence of calls (start, kill, stop), never concurrently.
    private var process: Process?

    init(binary: URL, settings: [String: String], log: URL) {
        self.binary = binary
        // The runner's own EHR_* or DATABASE_URL must not leak into the service.
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("EHR_") && $0.key != "DATABASE_URL" }
        environment.merge(settings) { $1 }
        self.environment = environment
        self.logURL = log
    }

    /// The built `ehr` executable: next to the test bundle, else in `<package>/.build/debug`.
    static func locateBinary() throws -> URL {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var candidates: [URL] = []
        if let bundle = Bundle.main.executableURL?.deletingLastPathComponent() { candidates.append(bundle.appendingPathComponent("ehr")) }
        candidates.append(root.appendingPathComponent(".build/debug/ehr"))
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate.path) {
            return candidate
        }
        throw LaunchError(
            description: "the ehr executable was not found (looked at \(candidates.map(\.path))); build it first with `swift build --build-tests`")
    }

    /// Launches the service on a free port and waits for `GET /health` to answer 200; returns its base URL.
    func start(client: CrashClient) async throws -> URL {
        var lastFailure = "no attempt"
        for _ in 0..<5 {
            guard let port = Self.freePort() else { continue }
            let base = URL(string: "http://127.0.0.1:\(port)")!
            let process = Process()
            process.executableURL = binary
            process.arguments = ["serve", "--hostname", "127.0.0.1", "--port", String(port)]
            process.environment = environment
            if !FileManager.default.fileExists(atPath: logURL.path) { _ = FileManager.default.createFile(atPath: logURL.path, contents: nil) }
            let log = try FileHandle(forWritingTo: logURL)
            log.seekToEndOfFile()
            log.write(Data("--- ehr serve on port \(port)\n".utf8))
            process.standardOutput = log
            process.standardError = log
            try process.run()
            // The child holds its own copy of the descriptor.
            try? log.close()
            self.process = process
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline, process.isRunning {
                if let reply = try? await client.send("GET", base, "/health", timeout: 2), reply.status == 200 {
                    // Make sure it is our process that answered, not something else that took the port.
                    try? await Task.sleep(for: .milliseconds(200))
                    if process.isRunning { return base }
                }
                try? await Task.sleep(for: .milliseconds(200))
            }
            let timedOut = process.isRunning
            lastFailure = timedOut ? "no 200 from /health within 60 s" : "exited with status \(process.terminationStatus)"
            forceStop()
            // A port taken in between makes the service exit: try another one. A hung start fails at once.
            if timedOut { break }
        }
        throw LaunchError(description: "ehr serve did not come up: \(lastFailure)\n\(logTail())")
    }

    func signal(_ signal: Int32) {
        guard let process, process.isRunning else { return }
        sendSignal(signal, to: process.processIdentifier)
    }

    func waitForExit(timeout: TimeInterval = 30) async {
        let deadline = Date().addingTimeInterval(timeout)
        while let process, process.isRunning, Date() < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// SIGTERM, then waits; true when the service exited on its own with status 0.
    func stop() async -> Bool {
        guard let process else { return true }
        signal(SIGTERM)
        await waitForExit()
        let clean = !process.isRunning && process.terminationReason == .exit && process.terminationStatus == 0
        forceStop()
        return clean
    }

    /// Kills the service if it still runs (cleanup; safe to call at any time).
    func forceStop() {
        guard let process else { return }
        if process.isRunning {
            sendSignal(SIGKILL, to: process.processIdentifier)
            process.waitUntilExit()
        }
        self.process = nil
    }

    /// The end of the service's log, for failure messages.
    func logTail(_ characters: Int = 4000) -> String {
        let text = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        return "ehr serve log (\(logURL.path)):\n" + String(text.suffix(characters))
    }

    /// A port nobody listens on right now (bound to port 0, then released).
    static func freePort() -> Int? {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let size = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, size) } }
        guard bound == 0 else { return nil }
        var length = size
        let named = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        guard named == 0 else { return nil }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// `kill(2)`, named apart from ``CrashServer/signal(_:)``.
private func sendSignal(_ signal: Int32, to pid: pid_t) {
    #if canImport(Glibc)
        _ = Glibc.kill(pid, signal)
    #else
        _ = Darwin.kill(pid, signal)
    #endif
}
