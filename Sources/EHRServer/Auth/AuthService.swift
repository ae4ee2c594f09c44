import EHRDomain
import EHRPersistence
import Foundation

/// The outcome of a successful sign-in or refresh.
struct IssuedTokens: Sendable {
    var accessToken: String
    var refreshToken: String
    var expiresIn: Int
    var user: User
}

/// Sign-in, refresh-token rotation, sign-out, invitations and sign-in throttling.
struct AuthService: Sendable {
    let tenants: any TenantRepository
    let users: any UserRepository
    let auth: any AuthRepository
    let tokens: TokenService
    let hasher: PasswordHasher
    let decoyHash: String
    let refreshTokenLifetime: TimeInterval
    let failureLimit: Int
    let failureWindow: TimeInterval

    private static let badCredentials = DomainError.unauthenticated("invalid practice, email or password")

    /// Verifies the credentials and starts a new session (a new refresh-token family).
    /// Unknown practice, unknown email, disabled account and wrong password all answer alike, after a bcrypt verification each.
    func login(tenantSlug: String, email: String, password: String, clientIP: String, now: Date = Date()) async throws -> IssuedTokens {
        var validator = Validator()
        let slug = validator.text(tenantSlug, "tenant", max: 63)?.lowercased()
        let email = validator.text(email, "email", max: 254)?.lowercased()
        if password.isEmpty { validator.add("password", "is required") }
        if password.utf8.count > 1024 { validator.add("password", "is too long") }
        try validator.check()
        guard let slug, let email else { throw DomainError.invalid("email", "is required") }

        let accountKey = Secrets.hash("account:\(slug):\(email)")
        let addressKey = Secrets.hash("ip:\(clientIP)")
        let tenant = try await DatabaseScope.system(.signIn) { try await tenants.find(slug: slug) }
        if let tenant { Self.audit(tenant.id, nil, nil) }
        // The attempt is counted before bcrypt runs, atomically, so parallel guesses cannot all pass the check.
        try await reserveAttempt(keys: [accountKey, addressKey], now: now)

        let user = try await tenant.asyncFlatMap { tenant in
            try await DatabaseScope.tenant(tenant.id) { try await users.find(email: email, tenantID: tenant.id) }
        }
        if let user { Self.audit(user.tenantID, user.id, user.role) }
        let storedHash = user?.passwordHash ?? decoyHash
        let matches: Bool
        do {
            matches = try await hasher.verify(password, against: storedHash)
        } catch is PasswordHasher.Busy {
            // Nothing was checked: give the attempt back.
            for key in [accountKey, addressKey] { try await auth.releaseSignInAttempt(key: key) }
            throw ProblemError.signInBusy
        }
        guard matches, let user, user.active, user.passwordHash != nil else {
            EHRMetrics.recordSignInFailure()
            throw Self.badCredentials
        }
        // A success is no failure: the account starts over, and the address gets its attempt back.
        try await auth.clearSignInAttempts(key: accountKey)
        try await auth.releaseSignInAttempt(key: addressKey)
        return try await DatabaseScope.tenant(user.tenantID) { try await issue(for: user, familyID: UUID(), now: now, rotating: nil) }
    }

    /// Exchanges a refresh token for a new pair. A token presented a second time means it was
    /// stolen or replayed: the whole family is revoked, ending the session everywhere.
    func refresh(token: String, now: Date = Date()) async throws -> IssuedTokens {
        let invalid = DomainError.unauthenticated("the refresh token is invalid, expired or revoked")
        guard let record = try await findRefreshToken(token) else { throw invalid }
        Self.audit(record.tenantID, record.userID, record.role)
        return try await DatabaseScope.tenant(record.tenantID) { try await refresh(record, now: now) }
    }

    private func refresh(_ record: RefreshTokenRecord, now: Date) async throws -> IssuedTokens {
        let invalid = DomainError.unauthenticated("the refresh token is invalid, expired or revoked")
        if record.revokedAt != nil { throw invalid }
        if record.rotatedAt != nil {
            try await auth.revokeFamily(record.familyID, at: now)
            throw invalid
        }
        guard record.expiresAt > now else { throw invalid }
        guard let user = try await users.find(id: record.userID, tenantID: record.tenantID), user.active, user.role == record.role else {
            try await auth.revokeFamily(record.familyID, at: now)
            throw invalid
        }
        return try await issue(for: user, familyID: record.familyID, now: now, rotating: record)
    }

    /// Ends the session the refresh token belongs to. Unknown tokens are ignored (nothing to reveal).
    func logout(token: String, now: Date = Date()) async throws {
        guard let record = try await findRefreshToken(token) else { return }
        Self.audit(record.tenantID, record.userID, record.role)
        try await DatabaseScope.tenant(record.tenantID) { try await auth.revokeFamily(record.familyID, at: now) }
    }

    /// A refresh token by its hash, before its practice is known: the narrow path (SystemAccess.tokenLookup).
    private func findRefreshToken(_ token: String) async throws -> RefreshTokenRecord? {
        guard !token.isEmpty, token.count <= 200 else { return nil }
        return try await DatabaseScope.system(.tokenLookup) { try await auth.findRefreshToken(hash: Secrets.hash(token)) }
    }

    /// Sets the password of an invited account. Unknown, used and expired invitations are all 404.
    func acceptInvitation(token: String, password: String, now: Date = Date()) async throws -> User {
        let problems = PasswordPolicy.problems(password)
        let invitation =
            token.count <= 200 ? try await DatabaseScope.system(.tokenLookup) { try await auth.findInvitation(hash: Secrets.hash(token)) } : nil
        guard let invitation else { throw DomainError.notFound }
        Self.audit(invitation.tenantID, invitation.userID, nil)
        return try await DatabaseScope.tenant(invitation.tenantID) { try await accept(invitation, password: password, problems: problems, now: now) }
    }

    private func accept(_ invitation: InvitationRecord, password: String, problems: [FieldError], now: Date) async throws -> User {
        guard invitation.usedAt == nil, invitation.expiresAt > now,
            let user = try await users.find(id: invitation.userID, tenantID: invitation.tenantID), user.active
        else { throw DomainError.notFound }
        if !problems.isEmpty { throw DomainError.validation(problems) }
        let hash = try await hasher.hash(password)
        guard try await auth.acceptInvitation(id: invitation.id, userID: user.id, tenantID: user.tenantID, passwordHash: hash, at: now) else {
            throw DomainError.notFound
        }
        return user
    }

    /// Creates an invitation for `user`; returns the token to hand over once and the record to store.
    func makeInvitation(for user: User, now: Date = Date()) -> (token: String, record: InvitationRecord) {
        let token = Secrets.randomToken()
        let record = InvitationRecord(
            tenantID: user.tenantID, userID: user.id, tokenHash: Secrets.hash(token),
            expiresAt: now.addingTimeInterval(InvitationRecord.lifetime))
        return (token, record)
    }

    /// Names the practice and account a sign-in operation concerns, for its audit event (which can only be
    /// recorded once the practice is known).
    private static func audit(_ tenantID: UUID, _ userID: UUID?, _ role: Role?) {
        RequestScope.current?.audit?.identify(tenantID: tenantID, actorID: userID, role: role?.rawValue)
    }

    /// Records the attempt against each key and refuses it (429 with Retry-After) when a key is over the
    /// limit in its window. Only the first refused attempt of a key's window is audited (it says so); the rest of
    /// that window is counted in metrics, so a flood of guesses cannot grow the practice's audit chain without limit.
    private func reserveAttempt(keys: [String], now: Date) async throws {
        let windows = try await auth.reserveSignInAttempt(keys: keys, at: millisecondPrecision(now), window: failureWindow)
        guard let over = windows.filter({ $0.attempts > failureLimit }).max(by: { $0.windowStart < $1.windowStart }) else { return }
        EHRMetrics.recordSignInThrottled()
        let until = over.windowStart.addingTimeInterval(failureWindow)
        if windows.contains(where: { $0.attempts == failureLimit + 1 }) {
            RequestScope.current?.audit?.detail(
                "throttled until \(Int64(until.timeIntervalSince1970)); further attempts in this window are not recorded one by one")
        } else {
            RequestScope.current?.audit?.suppress()
        }
        throw DomainError.rateLimited(retryAfter: max(1, Int(until.timeIntervalSince(now).rounded(.up))))
    }

    private func issue(for user: User, familyID: UUID, now: Date, rotating previous: RefreshTokenRecord?) async throws -> IssuedTokens {
        let refreshToken = Secrets.randomToken()
        let record = RefreshTokenRecord(
            tenantID: user.tenantID, userID: user.id, familyID: familyID, tokenHash: Secrets.hash(refreshToken),
            role: user.role, issuedAt: now, expiresAt: now.addingTimeInterval(refreshTokenLifetime))
        if let previous {
            guard try await auth.rotateRefreshToken(id: previous.id, at: now, successor: record) else {
                // Lost a race with another use of the same token: treat as reuse.
                try await auth.revokeFamily(familyID, at: now)
                throw DomainError.unauthenticated("the refresh token is invalid, expired or revoked")
            }
        } else {
            try await auth.insertRefreshToken(record)
        }
        let access = try await tokens.issueAccessToken(for: user, now: now)
        return IssuedTokens(accessToken: access, refreshToken: refreshToken, expiresIn: Int(tokens.accessTokenLifetime), user: user)
    }
}

extension Optional {
    func asyncFlatMap<U>(_ transform: (Wrapped) async throws -> U?) async rethrows -> U? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
