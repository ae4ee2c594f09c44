import Foundation

/// Collects field errors so a request reports every bad field at once, not just the first.
public struct Validator: Sendable {
    public private(set) var errors: [FieldError] = []

    public init() {}

    public mutating func add(_ field: String, _ message: String) {
        errors.append(FieldError(field, message))
    }

    /// Requires a non-blank string of at most `max` characters; returns it trimmed.
    @discardableResult
    public mutating func text(_ value: String?, _ field: String, max: Int = 200, required: Bool = true) -> String? {
        guard let value else {
            if required { add(field, "is required") }
            return nil
        }
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty {
            if required { add(field, "must not be blank") }
            return nil
        }
        if trimmed.count > max { add(field, "must be at most \(max) characters") }
        if TextRules.hasControlCharacters(trimmed) { add(field, "must not contain control characters") }
        return trimmed
    }

    /// Validates and normalises an email address (lower-cased).
    @discardableResult
    public mutating func email(_ value: String?, _ field: String, required: Bool = true) -> String? {
        guard let value = text(value, field, max: 254, required: required) else { return nil }
        let normalized = value.lowercased()
        if !EmailAddress.isValid(normalized) { add(field, "is not a valid email address") }
        return normalized
    }

    /// Throws ``DomainError/validation(_:)`` if any field failed.
    public func check() throws(DomainError) {
        if !errors.isEmpty { throw .validation(errors) }
    }
}

/// Rules for free text.
public enum TextRules {
    /// True when the text holds a control character other than tab, line feed or carriage return
    /// (NUL in particular, which PostgreSQL cannot store in text).
    public static func hasControlCharacters(_ text: String) -> Bool {
        text.unicodeScalars.contains { scalar in
            (scalar.value < 0x20 && scalar != "\t" && scalar != "\n" && scalar != "\r") || scalar.value == 0x7F
        }
    }

    /// True when the text is only white space and line breaks: what `trimmingCharacters(in: .whitespacesAndNewlines)`
    /// leaves empty, without making the trimmed copy (of every section of every note written).
    public static func isBlank(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy(blank.contains)
    }

    /// Made once: the set's getter builds it anew on each call.
    private static let blank = CharacterSet.whitespacesAndNewlines
}

/// Minimal, deliberate email syntax check: one `@`, a dotted domain, no spaces.
public enum EmailAddress {
    public static func isValid(_ value: String) -> Bool {
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
            !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
            !value.contains(where: { $0.isWhitespace })
        else { return false }
        return true
    }
}
