/// One invalid input field: its JSON path (or query parameter name) and why it was refused.
public struct FieldError: Sendable, Hashable, Error {
    public let field: String
    public let message: String

    public init(_ field: String, _ message: String) {
        self.field = field
        self.message = message
    }
}
