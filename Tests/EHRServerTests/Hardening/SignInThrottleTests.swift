import EHRDomain
import Foundation
import HTTPTypes
import NIOConcurrencyHelpers
import Testing

@testable import EHRServer

/// The sign-in throttle holds under concurrency: attempts are counted before bcrypt, atomically, and bcrypt
/// itself is bounded. Behind a trusted proxy it sees the real client.
@Suite("Sign-in throttle", .serialized) struct SignInThrottleTests {
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let behindLocalProxy: @Sendable (inout AppConfiguration) -> Void = { $0.trustedProxies = TrustedProxies(parsing: "127.0.0.0/8, ::1")! }
    static let behindBalancer: @Sendable (inout AppConfiguration) -> Void = {
        $0.trustedProxies = TrustedProxies(parsing: "127.0.0.0/8, ::1, 10.0.0.0/16")!
    }
    static let oneCheckNoQueue: @Sendable (inout AppConfiguration) -> Void = {
        behindLocalProxy(&$0)
        $0.bcryptConcurrency = 1
        $0.bcryptQueue = 0
        // Checks against the decoy hash (unknown emails) run at the production cost, so they overlap.
        $0.bcryptCost = 12
    }

    static func signIn(_ world: TestWorld, _ email: String, password: String, from address: String? = nil) async throws -> TestWorld.Reply {
        var headers: HTTPFields = [:]
        if let address { headers[forwardedFor] = address }
        return try await world.call(
            .post, "/api/v1/auth/login", json: ["tenant": "demo", "email": email, "password": password], headers: headers)
    }

    @Test(arguments: TestBackend.all)
    func concurrentGuessesCauseAtMostFiveChecks(_ backend: TestBackend) async throws {
        try await withWorld(backend, concurrent: true, configure: Self.behindLocalProxy) { world in
            let checksBefore = world.services.hasher.operations
            let eventsBefore = try await world.storedEvents().count
            let statuses = NIOLockedValueBox<[Int]>([])
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<100 {
                    group.addTask {
                        let reply = try await Self.signIn(world, "dr.smith@demo.test", password: "wrong-guess-\(i)", from: "203.0.113.7")
                        statuses.withLockedValue { $0.append(reply.status.code) }
                    }
                }
                // Meanwhile a colleague from another address signs in.
                let colleague = try await Self.signIn(world, "dr.johnson@demo.test", password: DemoSeed.password, from: "198.51.100.9")
                #expect(colleague.status == .ok, "\(colleague.text)")
                try await group.waitForAll()
            }
            let answers = statuses.withLockedValue { $0 }
            let unauthorized = answers.filter { $0 == 401 }.count
            let throttled = answers.filter { $0 == 429 }.count
            let checks = world.services.hasher.operations - checksBefore - 1  // minus the colleague's
            #expect(answers.count == 100)
            #expect(unauthorized <= 5 && unauthorized >= 1, "\(unauthorized) answers of 401")
            #expect(throttled == 100 - unauthorized, "statuses: \(Set(answers))")
            #expect(checks <= 5, "\(checks) bcrypt checks for 100 guesses")
            // One event per checked guess, one for the window's first refusal, one for the colleague: not 101.
            let events = try await world.storedEvents().dropFirst(eventsBefore).filter { $0.action == "auth.login" }
            let refusals = events.filter { $0.detail?.hasPrefix("throttled") == true }
            // At most one per throttle key (this account, this address) and window.
            #expect((1...2).contains(refusals.count), "\(refusals.count) throttled events")
            #expect(events.count == unauthorized + refusals.count + 1, "\(events.count) sign-in events")
            #expect(events.allSatisfy { $0.client_ip == "203.0.113.7" || $0.client_ip == "198.51.100.9" })
            print(
                "throttle (\(backend.testDescription)): 100 concurrent guesses → \(unauthorized)×401, \(throttled)×429, \(checks) bcrypt checks, \(events.count) sign-in events"
            )
        }
    }

    /// Beyond the bcrypt bound and its queue, sign-ins get 503 with Retry-After at once, and give their attempt back.
    @Test(arguments: TestBackend.all)
    func bcryptBeyondItsBoundAnswers503(_ backend: TestBackend) async throws {
        try await withWorld(backend, concurrent: true, configure: Self.oneCheckNoQueue) { world in
            let accounts = (1...6).map { "nobody\($0)@demo.test" }
            let replies = try await withThrowingTaskGroup(of: TestWorld.Reply.self) { group in
                for (i, email) in accounts.enumerated() {
                    group.addTask { try await Self.signIn(world, email, password: "a wrong password", from: "192.0.2.\(i + 1)") }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let busy = replies.filter { $0.status == .serviceUnavailable }
            #expect(!busy.isEmpty && busy.count < accounts.count, "\(replies.map(\.status.code))")
            #expect(Set(replies.map(\.status.code)).isSubset(of: [401, 503]))
            for reply in busy {
                expectProblem(reply, 503)
                #expect(reply.headers[.retryAfter] == "1")
            }
        }
    }

    /// The client address: the peer, unless the peer is a trusted proxy; then the right-most untrusted hop.
    @Test(arguments: TestBackend.all)
    func forwardedForIsBelievedOnlyFromTrustedProxies(_ backend: TestBackend) async throws {
        // Untrusted peer (the default): the header is ignored, for the audit and for the throttle.
        try await withWorld(backend, concurrent: true) { world in
            for i in 0..<5 {
                _ = try await Self.signIn(world, "nobody\(i)@demo.test", password: "wrong", from: "198.51.100.\(i)")
            }
            let ips = Set(try await world.storedEvents().filter { $0.action == "auth.login" }.compactMap(\.client_ip))
            #expect(ips.allSatisfy { $0 == "127.0.0.1" || $0 == "::1" }, "\(ips)")
            // Five failures from one socket address: the sixth is refused whatever address it claims.
            let claimed = try await Self.signIn(world, "jane.smith@demo.test", password: DemoSeed.password, from: "203.0.113.99")
            #expect(claimed.status == .tooManyRequests)
        }
        // Trusted peer: the right-most hop that is not a trusted proxy is the client.
        try await withWorld(backend, concurrent: true, configure: Self.behindBalancer) { world in
            for i in 0..<5 {
                _ = try await Self.signIn(world, "nobody\(i)@demo.test", password: "wrong", from: "198.51.100.1, 203.0.113.5, 10.0.4.2")
            }
            let ips = Set(try await world.storedEvents().filter { $0.action == "auth.login" }.compactMap(\.client_ip))
            #expect(ips == ["203.0.113.5"], "\(ips)")
            // 203.0.113.5 is locked out; another client behind the same balancer is not.
            #expect(try await Self.signIn(world, "jane.smith@demo.test", password: DemoSeed.password, from: "203.0.113.5").status == .tooManyRequests)
            #expect(try await Self.signIn(world, "jane.smith@demo.test", password: DemoSeed.password, from: "203.0.113.6").status == .ok)
            // A client cannot pick its address by prepending hops: the balancer appends the real one last.
            #expect(
                try await Self.signIn(world, "bob.wilson@demo.test", password: DemoSeed.password, from: "203.0.113.6, 203.0.113.5").status
                    == .tooManyRequests)
        }
    }

    @Test func trustedProxyListsParse() throws {
        let proxies = try #require(TrustedProxies(parsing: " 10.0.0.0/16 , fd00::/8, 192.0.2.7 "))
        #expect(proxies.contains("10.0.255.1") && !proxies.contains("10.1.0.1"))
        #expect(proxies.contains("fd12::1") && !proxies.contains("fe80::1"))
        #expect(proxies.contains("192.0.2.7") && !proxies.contains("192.0.2.8"))
        #expect(proxies.contains("::ffff:10.0.0.9"), "IPv4-mapped IPv6 is the IPv4 address")
        #expect(TrustedProxies(parsing: "")?.isEmpty == true)
        for bad in ["10.0.0.0/33", "10.0.0", "example.com", "10.0.0.0/x", "fd00::/129"] {
            #expect(TrustedProxies(parsing: bad) == nil, "\(bad)")
        }
        #expect(proxies.clientAddress(peer: "10.0.0.1", forwardedFor: ["1.2.3.4, 10.0.0.5"]) == "1.2.3.4")
        #expect(proxies.clientAddress(peer: "10.0.0.1", forwardedFor: ["1.2.3.4", "5.6.7.8"]) == "5.6.7.8")
        #expect(proxies.clientAddress(peer: "10.0.0.1", forwardedFor: ["garbage, 10.0.0.5"]) == "10.0.0.5")
        #expect(proxies.clientAddress(peer: "10.0.0.1", forwardedFor: ["::FFFF:1.2.3.4"]) == "1.2.3.4")
        #expect(proxies.clientAddress(peer: "198.51.100.1", forwardedFor: ["1.2.3.4"]) == "198.51.100.1")
        #expect(proxies.clientAddress(peer: "10.0.0.1", forwardedFor: []) == "10.0.0.1")
    }
}
