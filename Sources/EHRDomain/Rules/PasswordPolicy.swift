/// Rules for new passwords.
public enum PasswordPolicy {
    public static let minimumLength = 12
    public static let maximumLength = 72  // bcrypt ignores bytes beyond 72

    /// Field errors for a proposed password, empty when acceptable.
    public static func problems(_ password: String, field: String = "password") -> [FieldError] {
        if password.count < minimumLength {
            return [FieldError(field, "must be at least \(minimumLength) characters")]
        }
        if TextRules.hasControlCharacters(password) {
            return [FieldError(field, "must not contain control characters")]
        }
        if password.utf8.count > maximumLength {
            return [FieldError(field, "must be at most \(maximumLength) bytes")]
        }
        return []
    }
}
