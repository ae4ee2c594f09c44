/// What a message may hold.
public enum MessageRules {
    /// The longest body, in characters (after trimming surrounding white space).
    public static let maximumBodyLength = 10_000
}

extension Validator {
    /// A message body: required, not blank, at most ``MessageRules/maximumBodyLength`` characters, no control
    /// characters; returned trimmed.
    public mutating func messageBody(_ value: String?, _ field: String = "body") -> String? {
        text(value, field, max: MessageRules.maximumBodyLength)
    }
}
