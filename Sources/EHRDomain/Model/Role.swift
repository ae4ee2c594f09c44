/// The role a user holds within one practice. Raw values are the wire and storage form.
public enum Role: String, Sendable, Codable, CaseIterable, Hashable {
    case admin
    case therapist
    case client
}
