import EHRDomain
import Foundation
import HTTPTypes
import JWTKit
import NIOCore
import Testing

@testable import EHRServer

/// /api/v1/auth/* and the published signing keys.
/// Serialized: each world costs a bcrypt hash, and bcrypt shares NIO's small thread pool with SQLite;
/// dozens of worlds at once starve SQLite connection requests into 10 s timeouts.
@Suite("Auth endpoint", .serialized) struct AuthEndpointTests {
    private typealias Account = TestWorld.Account
    private let demo = TestWorld.demo
    private let other = TestWorld.other

    // MARK: Login

    @Test(arguments: TestBackend.all)
    func loginReturnsABearerTokenPair(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            // Email is case-insensitive.
            let login = try await world.signIn("Dr.Smith@Demo.test")
            try #require(login.status == .ok, "\(login.text)")
            #expect(login.json["tokenType"] as? String == "Bearer")
            let expiresIn = try #require(login.json["expiresIn"] as? Int)
            #expect((1...900).contains(expiresIn))
            #expect((login.json["refreshToken"] as? String)?.isEmpty == false)
            let user = try #require(login.json["user"] as? [String: Any])
            #expect(user["role"] as? String == "therapist")
            #expect(user["id"] as? String == wire(demo.smith))
            #expect(user["tenantId"] as? String == wire(demo.tenantID))
            #expect(user["email"] as? String == "dr.smith@demo.test")
            #expect(user["patientId"] == nil || user["patientId"] is NSNull)

            let access = try #require(login.json["accessToken"] as? String)
            #expect(access.split(separator: ".").count == 3)
            let me = try await world.call(.get, "/api/v1/auth/me", token: access)
            #expect(me.status == .ok)
            #expect(me.json["id"] as? String == wire(demo.smith))
            // The token works for the API, within the therapist's scope.
            #expect(try await world.call(.get, "/api/v1/patients", token: access).items.count == 2)

            // A client's sign-in names their patient record.
            let client = try await world.signIn("john.doe@demo.test")
            #expect(client.status == .ok)
            let clientUser = client.json["user"] as? [String: Any]
            #expect(clientUser?["role"] as? String == "client")
            #expect(clientUser?["patientId"] as? String == wire(demo.john))
        }
    }

    @Test(arguments: TestBackend.all)
    func failedSignInsAreIndistinguishable(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let wrongPassword = try await world.signIn("dr.smith@demo.test", password: "not-the-password")
            let unknownEmail = try await world.signIn("nobody@demo.test")
            let unknownTenant = try await world.signIn("dr.smith@demo.test", tenant: "no-such-practice")
            let otherTenantsEmail = try await world.signIn("dr.smith@other.test")
            for (name, reply) in [
                ("wrong password", wrongPassword), ("unknown email", unknownEmail), ("unknown tenant", unknownTenant),
                ("email of another practice", otherTenantsEmail),
            ] {
                #expect(reply.status == .unauthorized, "\(name): \(reply.status.code)")
                #expect(reply.headers[.contentType] == "application/problem+json")
                #expect(reply.json["accessToken"] == nil)
            }
            let reference = withoutInstance(wrongPassword.json)
            #expect(!reference.isEmpty)
            #expect(
                NSDictionary(dictionary: withoutInstance(unknownEmail.json)).isEqual(to: reference),
                "wrong password: \(wrongPassword.text)\nunknown email: \(unknownEmail.text)")
            #expect(
                NSDictionary(dictionary: withoutInstance(unknownTenant.json)).isEqual(to: reference),
                "unknown tenant: \(unknownTenant.text)")
            #expect(NSDictionary(dictionary: withoutInstance(otherTenantsEmail.json)).isEqual(to: reference))
        }
    }

    @Test(arguments: TestBackend.all)
    func malformedSignInsAre400Or422(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let missing = try await world.call(.post, "/api/v1/auth/login", json: ["tenant": "demo", "email": "dr.smith@demo.test"])
            #expect(missing.status == .badRequest)
            #expect(missing.problemFields == ["password"])
            let unknown = try await world.call(
                .post, "/api/v1/auth/login",
                json: ["tenant": "demo", "email": "dr.smith@demo.test", "password": "x", "role": "admin"])
            #expect(unknown.status == .badRequest)
            #expect(unknown.problemFields == ["role"])
            let wrongType = try await world.call(.post, "/api/v1/auth/login", json: ["tenant": "demo", "email": "dr.smith@demo.test", "password": 1234])
            #expect(wrongType.status == .badRequest)
            #expect(wrongType.problemFields == ["password"])
            let broken = try await world.call(.post, "/api/v1/auth/login", raw: "{not json")
            #expect(broken.status == .badRequest)
            let blank = try await world.call(.post, "/api/v1/auth/login", json: ["tenant": "", "email": " ", "password": ""])
            #expect(blank.status == .unprocessableContent)
            #expect(Set(blank.problemFields) == ["tenant", "email", "password"])
        }
    }

    @Test(arguments: TestBackend.all)
    func repeatedFailuresAreThrottledWithRetryAfter(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            for attempt in 1...5 {
                let reply = try await world.signIn("dr.smith@demo.test", password: "guess-\(attempt)")
                #expect(reply.status == .unauthorized, "attempt \(attempt): \(reply.status.code)")
            }
            let sixth = try await world.signIn("dr.smith@demo.test")
            #expect(sixth.status == .tooManyRequests, "even the right password is refused while throttled: \(sixth.status.code)")
            let retryAfter = try #require(sixth.headers[HTTPField.Name("Retry-After")!].flatMap { Int($0) }, "Retry-After header")
            #expect(retryAfter >= 1 && retryAfter <= 15 * 60)
            #expect(sixth.json["status"] as? Int == 429)
            #expect(sixth.json["accessToken"] == nil)
        }
    }

    // MARK: Refresh and logout

    @Test(arguments: TestBackend.all)
    func refreshRotatesAndReuseRevokesTheFamily(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let login = try await world.signIn("dr.smith@demo.test")
            let first = try #require(login.json["refreshToken"] as? String)

            let rotated = try await world.refresh(first)
            try #require(rotated.status == .ok, "\(rotated.text)")
            let second = try #require(rotated.json["refreshToken"] as? String)
            #expect(second != first)
            #expect(rotated.json["tokenType"] as? String == "Bearer")
            #expect((rotated.json["user"] as? [String: Any])?["id"] as? String == wire(demo.smith))
            let access = try #require(rotated.json["accessToken"] as? String)
            #expect(try await world.call(.get, "/api/v1/auth/me", token: access).status == .ok)

            // The old token is used up; presenting it again is theft and ends the whole family.
            let reused = try await world.refresh(first)
            #expect(reused.status == .unauthorized)
            let successor = try await world.refresh(second)
            #expect(successor.status == .unauthorized, "reuse must revoke the newer token too: \(successor.text)")

            for token in ["", "rt_garbage", String(repeating: "x", count: 500)] {
                let reply = try await world.refresh(token)
                #expect(
                    reply.status == .unauthorized || (token.isEmpty && reply.status == .badRequest),
                    "refresh with \(token.prefix(12)): \(reply.status.code)")
            }
            let missing = try await world.call(.post, "/api/v1/auth/refresh", json: [String: Any]())
            #expect(missing.status == .badRequest)
            #expect(missing.problemFields == ["refreshToken"])
        }
    }

    @Test(arguments: TestBackend.all)
    func logoutRevokesTheSession(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let login = try await world.signIn("jane.smith@demo.test")
            let refresh = try #require(login.json["refreshToken"] as? String)
            let access = try #require(login.json["accessToken"] as? String)

            let out = try await world.call(.post, "/api/v1/auth/logout", json: ["refreshToken": refresh])
            #expect(out.status == .noContent)
            #expect(try await world.refresh(refresh).status == .unauthorized)
            // Safe to repeat, and unknown tokens reveal nothing.
            #expect(try await world.call(.post, "/api/v1/auth/logout", json: ["refreshToken": refresh]).status == .noContent)
            #expect(try await world.call(.post, "/api/v1/auth/logout", json: ["refreshToken": "rt_unknown"]).status == .noContent)
            // Access tokens already issued live out their short lifetime (contract).
            #expect(try await world.call(.get, "/api/v1/auth/me", token: access).status == .ok)
            let missing = try await world.call(.post, "/api/v1/auth/logout", json: ["token": refresh])
            #expect(missing.status == .badRequest)
        }
    }

    // MARK: Me

    @Test(arguments: TestBackend.all)
    func meDescribesTheCallerAndAClientsPatient(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let patients: [Account: UUID] = [.john: demo.john, .jane: demo.jane, .bob: demo.bob]
            for account in Account.allCases {
                let me = try await world.call(.get, "/api/v1/auth/me", as: account)
                #expect(me.status == .ok, "\(account)")
                #expect(me.json["id"] as? String == wire(account.userID(in: demo)))
                #expect(me.json["role"] as? String == account.role.rawValue)
                #expect(me.json["email"] as? String == account.email)
                #expect(me.json["tenantId"] as? String == wire(demo.tenantID))
                if let patient = patients[account] {
                    #expect(me.json["patientId"] as? String == wire(patient), "\(account) patientId")
                } else {
                    #expect(me.json["patientId"] == nil || me.json["patientId"] is NSNull, "\(account) has no patient record")
                }
            }
            let foreign = try await world.call(.get, "/api/v1/auth/me", as: .john, in: other)
            #expect(foreign.json["patientId"] as? String == wire(other.john))
            let anonymous = try await world.call(.get, "/api/v1/auth/me")
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.headers[.contentType] == "application/problem+json")
        }
    }

    // MARK: Bad tokens

    @Test(arguments: TestBackend.all)
    func garbageTamperedAndForeignTokensAre401(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let tokens = world.services.tokens
            let legit = try await world.token(.smith)
            #expect(try await world.call(.get, "/api/v1/auth/me", token: legit).status == .ok)
            let parts = legit.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            try #require(parts.count == 3)

            // Payload changed (therapist promotes themself to admin), signature kept.
            var payload = try #require(jsonSegment(parts[1]))
            payload["role"] = "admin"
            let promoted = [parts[0], toBase64URL(try JSONSerialization.data(withJSONObject: payload)), parts[2]].joined(separator: ".")
            // Signature bytes altered.
            var signature = try #require(fromBase64URL(parts[2]))
            signature[signature.startIndex + 5] ^= 0x01
            let badSignature = [parts[0], parts[1], toBase64URL(signature)].joined(separator: ".")
            // The same claims signed by another key, under the server's key id and under its own.
            let claims = try await tokens.keys.verify(legit, as: AccessTokenClaims.self)
            var header = JWTHeader()
            header.alg = "ES256"
            header.typ = "JWT"
            let serverKid = JWKIdentifier(string: tokens.keyID)
            let impostorKey = ES256PrivateKey()
            let impostor = await JWTKeyCollection().add(ecdsa: impostorKey, kid: serverKid)
            let forgedSameKid = try await impostor.sign(claims, kid: serverKid, header: header)
            let ownKid = JWKIdentifier(string: SigningKeyStore.keyID(for: impostorKey))
            let forgedOwnKid = try await JWTKeyCollection().add(ecdsa: impostorKey, kid: ownKid).sign(claims, kid: ownKid, header: header)
            // Control: the very same construction with the server's key is accepted, so only the key makes the difference.
            let control = try await tokens.keys.sign(claims, kid: serverKid, header: header)
            #expect(try await world.call(.get, "/api/v1/auth/me", token: control).status == .ok)
            // alg "none".
            let noneHeader = toBase64URL(Data(#"{"alg":"none","typ":"JWT","kid":"\#(tokens.keyID)"}"#.utf8))
            let unsigned = [noneHeader, parts[1], ""].joined(separator: ".")
            // Expired, and a televisit join token used as an access token.
            let smith = User(id: demo.smith, tenantID: demo.tenantID, email: "dr.smith@demo.test", displayName: "Smith", role: .therapist)
            let expired = try await tokens.issueAccessToken(for: smith, now: Date().addingTimeInterval(-3600))
            let televisit = try await tokens.issueTelevisitToken(
                for: Principal(userID: demo.smith, tenantID: demo.tenantID, role: .therapist),
                roomID: "room-1", appointmentID: demo.johnAppointment, lifetime: 600)

            let cases: [(String, String)] = [
                ("garbage", "garbage"), ("three junk segments", "a.b.c"), ("empty signature", parts[0] + "." + parts[1] + "."),
                ("tampered payload", promoted), ("tampered signature", badSignature),
                ("other key, server kid", forgedSameKid), ("other key, own kid", forgedOwnKid),
                ("alg none", unsigned), ("expired", expired), ("televisit token", televisit),
            ]
            for (name, token) in cases {
                for path in ["/api/v1/auth/me", "/api/v1/patients", "/api/v1/users"] {
                    let reply = try await world.call(.get, path, token: token)
                    #expect(reply.status == .unauthorized, "\(name) on \(path): \(reply.status.code) \(reply.text)")
                }
            }

            // Not a bearer scheme at all.
            let basic = try await world.client.executeRequest(
                uri: "/api/v1/auth/me", method: .get,
                headers: [.authorization: "Basic ZHIuc21pdGg6bWVudGFsc3BhY2UtZGVtbw=="], body: nil)
            #expect(basic.status == .unauthorized)
        }
    }

    // MARK: Signing keys

    @Test(arguments: TestBackend.all)
    func jwksPublishesTheKeyThatSignsAccessTokens(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let jwks = try await world.call(.get, "/.well-known/jwks.json")
            #expect(jwks.status == .ok)
            let keys = try #require(jwks.json["keys"] as? [[String: Any]])
            try #require(keys.count == 1)
            let key = keys[0]
            #expect(key["kty"] as? String == "EC")
            #expect(key["crv"] as? String == "P-256")
            #expect(key["alg"] as? String == "ES256")
            #expect(key["use"] as? String == "sig")
            #expect(key["d"] == nil, "never the private part")
            #expect(fromBase64URL(key["x"] as? String ?? "")?.count == 32)
            #expect(fromBase64URL(key["y"] as? String ?? "")?.count == 32)

            let token = try await world.token(.smith)
            let header = try #require(jsonSegment(String(token.split(separator: ".")[0])))
            #expect(header["alg"] as? String == "ES256")
            let kid = try #require(key["kid"] as? String)
            #expect(header["kid"] as? String == kid)

            // Anyone holding only the published set can verify the token.
            let verifier = try await JWTKeyCollection().add(jwksJSON: jwks.text)
            let claims = try await verifier.verify(token, as: AccessTokenClaims.self)
            #expect(claims.sub.value == wire(demo.smith))
            #expect(claims.role == "therapist")
        }
    }

    // MARK: Invitations

    @Test(arguments: TestBackend.all)
    func unknownOrMalformedInvitationsAreRefused(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let unknown = try await world.call(.post, "/api/v1/auth/accept-invite", json: ["token": "inv_unknown", "password": "long enough password"])
            #expect(unknown.status == .notFound)
            let unknownShort = try await world.call(.post, "/api/v1/auth/accept-invite", json: ["token": "inv_unknown", "password": "short"])
            #expect(unknownShort.status == .notFound, "an unknown token reveals nothing about the password rules")
            let missing = try await world.call(.post, "/api/v1/auth/accept-invite", json: ["token": "inv_unknown"])
            #expect(missing.status == .badRequest)
            #expect(missing.problemFields == ["password"])
            let extra = try await world.call(.post, "/api/v1/auth/accept-invite", json: ["token": "t", "password": "long enough password", "role": "admin"])
            #expect(extra.status == .badRequest)
            #expect(extra.problemFields == ["role"])
        }
    }

    // MARK: Helpers

    private func wire(_ id: UUID) -> String { id.uuidString.lowercased() }

    private func withoutInstance(_ json: [String: Any]) -> [String: Any] {
        var copy = json
        copy["instance"] = nil
        return copy
    }

    private func fromBase64URL(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }

    /// A JWT header or payload segment as a JSON object.
    private func jsonSegment(_ segment: String) -> [String: Any]? {
        guard let data = fromBase64URL(segment) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    private func toBase64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

private extension TestWorld {
    func signIn(_ email: String, password: String = DemoSeed.password, tenant: String = "demo") async throws -> Reply {
        try await call(.post, "/api/v1/auth/login", json: ["tenant": tenant, "email": email, "password": password])
    }

    func refresh(_ token: String) async throws -> Reply {
        try await call(.post, "/api/v1/auth/refresh", json: ["refreshToken": token])
    }
}
