import EHRDomain
import Foundation

/// A therapist as entered when an admin adds one.
struct ProviderInput: Sendable {
    var email, displayName, licenseNumber, licenseState, credentials: String?
    var specialties: [String]?
}

/// Changes to a therapist's profile; nil leaves a field as it is.
struct ProviderChanges: Sendable {
    var displayName, licenseNumber, licenseState, credentials: String?
    var specialties: [String]?
}

/// An invitation token handed over once (shown to the admin, who passes it on).
struct Invitation: Sendable {
    var token: String
    var expiresAt: Date
}

extension UseCases {
    func providers(_ principal: Principal, page: PageRequest) async throws -> Page<Provider> {
        try await store.list(scope: AccessPolicy.providerScope(principal), page: page)
    }

    func provider(_ principal: Principal, id: UUID) async throws -> Provider {
        guard let provider = try await store.find(id: id, tenantID: principal.tenantID) as Provider? else { throw DomainError.notFound }
        let clientsTherapist =
            principal.role == .client
            ? try await store.find(portalUserID: principal.userID, tenantID: principal.tenantID)?.assignedTherapistID : nil
        guard AccessPolicy.canViewProvider(principal, provider, clientsTherapistID: clientsTherapist) else { throw DomainError.forbidden }
        return provider
    }

    /// Adds a therapist account with its profile, and the invitation that lets them set a password.
    func createProvider(_ principal: Principal, _ input: ProviderInput) async throws -> (Provider, Invitation) {
        guard AccessPolicy.canCreateProvider(principal) else { throw DomainError.forbidden }
        var v = Validator()
        let email = v.email(input.email, "email")
        let name = v.text(input.displayName, "displayName", max: 200)
        let number = v.text(input.licenseNumber, "licenseNumber", max: 50)
        let state = v.licenseState(input.licenseState)
        let credentials = v.text(input.credentials, "credentials", max: 200)
        let specialties = v.specialties(input.specialties)
        try v.check()
        let now = self.now
        let user = User(tenantID: principal.tenantID, email: email!, displayName: name!, role: .therapist, createdAt: now, updatedAt: now)
        let provider = Provider(
            user: user, licenseNumber: number!, licenseState: state!, credentials: credentials!, specialties: specialties ?? [], updatedAt: now)
        let invitation = services.auth.makeInvitation(for: user, now: now)
        try await store.create(provider, invitation: invitation.record)
        return (provider, Invitation(token: invitation.token, expiresAt: invitation.record.expiresAt))
    }

    /// Writes only the fields given, and answers what is stored afterwards (a concurrent change of another field included).
    func updateProvider(_ principal: Principal, id: UUID, _ changes: ProviderChanges) async throws -> Provider {
        var provider = try await provider(principal, id: id)
        guard AccessPolicy.canUpdateProvider(principal, provider) else { throw DomainError.forbidden }
        var v = Validator()
        var fields: ProviderFields = []
        if let value = changes.displayName {
            provider.user.displayName = v.text(value, "displayName", max: 200) ?? provider.user.displayName
            fields.insert(.displayName)
        }
        if let value = v.text(changes.licenseNumber, "licenseNumber", max: 50, required: false) {
            (provider.licenseNumber, fields) = (value, fields.union(.licenseNumber))
        }
        if let value = v.licenseState(changes.licenseState, required: false) { (provider.licenseState, fields) = (value, fields.union(.licenseState)) }
        if let value = v.text(changes.credentials, "credentials", max: 200, required: false) {
            (provider.credentials, fields) = (value, fields.union(.credentials))
        }
        if let value = v.specialties(changes.specialties) { (provider.specialties, fields) = (value, fields.union(.specialties)) }
        try v.check()
        provider.updatedAt = now
        provider.user.updatedAt = now
        try await store.update(provider, fields: fields)
        return try await self.provider(principal, id: id)
    }

    /// Deactivates the therapist's account and ends their sessions (refresh stops at once).
    func deactivateProvider(_ principal: Principal, id: UUID) async throws {
        var provider = try await provider(principal, id: id)
        guard AccessPolicy.canDeleteProvider(principal, provider) else { throw DomainError.forbidden }
        guard provider.user.active else { return }
        provider.user.active = false
        provider.user.updatedAt = now
        provider.updatedAt = now
        try await store.update(provider, fields: .active)
        try await store.revokeAll(userID: provider.id, tenantID: provider.tenantID, at: now)
    }

    func users(_ principal: Principal, role: Role?, page: PageRequest) async throws -> Page<User> {
        guard AccessPolicy.canManageUsers(principal) else { throw DomainError.forbidden }
        return try await store.list(tenantID: principal.tenantID, role: role, page: page)
    }

    func user(_ principal: Principal, id: UUID) async throws -> User {
        guard let user = try await store.find(id: id, tenantID: principal.tenantID) as User? else { throw DomainError.notFound }
        guard AccessPolicy.canViewUser(principal, user) else { throw DomainError.forbidden }
        return user
    }

    /// Invites another admin.
    func createAdmin(_ principal: Principal, email: String?, displayName: String?) async throws -> (User, Invitation) {
        guard AccessPolicy.canManageUsers(principal) else { throw DomainError.forbidden }
        var v = Validator()
        let email = v.email(email, "email")
        let name = v.text(displayName, "displayName", max: 200)
        try v.check()
        let now = self.now
        let user = User(tenantID: principal.tenantID, email: email!, displayName: name!, role: .admin, createdAt: now, updatedAt: now)
        let invitation = services.auth.makeInvitation(for: user, now: now)
        try await store.create(user, invitation: invitation.record)
        return (user, Invitation(token: invitation.token, expiresAt: invitation.record.expiresAt))
    }

    /// Renames or (de)activates an account, writing only what is given; deactivation ends its sessions.
    func updateUser(_ principal: Principal, id: UUID, displayName: String?, active: Bool?) async throws -> User {
        var user = try await user(principal, id: id)
        var v = Validator()
        var fields: UserFields = []
        if let displayName {
            user.displayName = v.text(displayName, "displayName", max: 200) ?? user.displayName
            fields.insert(.displayName)
        }
        if let active {
            // An admin cannot lock themself out; another admin must do it.
            if !active && user.id == principal.userID { v.add("active", "you cannot deactivate your own account") }
            user.active = active
            fields.insert(.active)
        }
        try v.check()
        user.updatedAt = now
        try await store.update(user, fields: fields)
        if active == false {
            // Refresh stops at once; access tokens lapse within their lifetime (at most 15 minutes).
            try await store.revokeAll(userID: user.id, tenantID: user.tenantID, at: now)
        }
        return try await self.user(principal, id: id)
    }
}
