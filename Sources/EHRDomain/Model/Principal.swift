import Foundation

/// The authenticated caller of a request: who they are, in which practice, with which role.
///
/// Built only from a verified access token; code that needs a caller takes a `Principal`,
/// so it cannot run without one.
public struct Principal: Sendable, Hashable {
    public let userID: UUID
    public let tenantID: UUID
    public let role: Role

    public init(userID: UUID, tenantID: UUID, role: Role) {
        self.userID = userID
        self.tenantID = tenantID
        self.role = role
    }
}
