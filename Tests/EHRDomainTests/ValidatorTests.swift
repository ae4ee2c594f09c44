import EHRDomain
import Foundation
import Testing

@Suite("Validator")
struct ValidatorTests {
    @Test("a present value is returned trimmed, with no error")
    func trimsValue() {
        var v = Validator()
        #expect(v.text("  Ada Lane \n", "name") == "Ada Lane")
        #expect(v.errors.isEmpty)
    }

    @Test("a missing required value is reported as required")
    func missingRequired() {
        var v = Validator()
        #expect(v.text(nil, "name") == nil)
        #expect(v.errors == [FieldError("name", "is required")])
    }

    @Test("a blank required value is reported as blank", arguments: ["", "   ", "\n\t"])
    func blankRequired(_ value: String) {
        var v = Validator()
        #expect(v.text(value, "name") == nil)
        #expect(v.errors == [FieldError("name", "must not be blank")])
    }

    @Test("a missing or blank optional value is nil without an error", arguments: [nil, "", "  "] as [String?])
    func optionalAbsent(_ value: String?) {
        var v = Validator()
        #expect(v.text(value, "reason", required: false) == nil)
        #expect(v.errors.isEmpty)
    }

    @Test("length limit: max characters accepted, one more rejected", arguments: [(200, true), (201, false)])
    func defaultMaximum(_ length: Int, _ ok: Bool) {
        var v = Validator()
        v.text(String(repeating: "x", count: length), "name")
        #expect(v.errors.map(\.field) == (ok ? [] : ["name"]))
    }

    @Test("the limit counts the trimmed text")
    func limitAfterTrim() {
        var v = Validator()
        v.text("  abc  ", "code", max: 3)
        #expect(v.errors.isEmpty)
    }

    @Test("a custom limit is applied")
    func customMaximum() {
        var v = Validator()
        v.text("abcd", "code", max: 3)
        #expect(v.errors == [FieldError("code", "must be at most 3 characters")])
    }

    @Test("every bad field is collected, in order, and check() throws them all")
    func collectsAllErrors() {
        var v = Validator()
        v.text(nil, "firstName")
        v.text("ok", "middleName")
        v.email("not-an-email", "email")
        v.add("dateOfBirth", "is in the future")
        let expected = [
            FieldError("firstName", "is required"),
            FieldError("email", "is not a valid email address"),
            FieldError("dateOfBirth", "is in the future"),
        ]
        #expect(v.errors == expected)
        #expect(throws: DomainError.validation(expected)) { try v.check() }
    }

    @Test("check() does not throw when every field is valid")
    func checkPasses() throws {
        var v = Validator()
        v.text("Ada", "firstName")
        v.email("ada@example.com", "email")
        try v.check()
    }

    @Test("email is trimmed and lower-cased")
    func emailNormalised() {
        var v = Validator()
        #expect(v.email("  Ada.Lane@Example.COM ", "email") == "ada.lane@example.com")
        #expect(v.errors.isEmpty)
    }

    @Test("an invalid email is reported")
    func emailInvalid() {
        var v = Validator()
        v.email("ada@localhost", "email")
        #expect(v.errors == [FieldError("email", "is not a valid email address")])
    }

    @Test("an email longer than 254 characters is reported")
    func emailTooLong() {
        var v = Validator()
        v.email(String(repeating: "a", count: 245) + "@example.com", "email")
        #expect(v.errors.map(\.message).contains("must be at most 254 characters"))
    }

    @Test("a missing optional email is nil without an error")
    func emailOptional() {
        var v = Validator()
        #expect(v.email(nil, "email", required: false) == nil)
        #expect(v.errors.isEmpty)
    }

    @Test("DomainError.invalid is a single-field validation error")
    func invalidShorthand() {
        #expect(DomainError.invalid("limit", "too big") == .validation([FieldError("limit", "too big")]))
    }
}

@Suite("EmailAddress")
struct EmailAddressTests {
    @Test("valid addresses", arguments: ["ada@example.com", "a@b.co", "first.last+tag@mail.example.org", "x@sub.domain.io"])
    func valid(_ address: String) {
        #expect(EmailAddress.isValid(address))
    }

    @Test(
        "invalid addresses",
        arguments: [
            "", "ada", "ada@", "@example.com", "ada@example", "ada@@example.com", "ada@ex@ample.com",
            "ada@.example.com", "ada@example.", "ada lane@example.com", "ada@exa mple.com", "ada@example.com\n",
            "\tada@example.com",
        ])
    func invalid(_ address: String) {
        #expect(!EmailAddress.isValid(address))
    }
}

@Suite("PasswordPolicy")
struct PasswordPolicyTests {
    @Test("11 characters is too short")
    func elevenRejected() {
        #expect(PasswordPolicy.problems("abcdefghijk") == [FieldError("password", "must be at least 12 characters")])
    }

    @Test("12 characters is accepted")
    func twelveAccepted() {
        #expect(PasswordPolicy.problems("abcdefghijkl").isEmpty)
    }

    @Test("72 bytes is accepted")
    func seventyTwoBytesAccepted() {
        #expect(PasswordPolicy.problems(String(repeating: "a", count: 72)).isEmpty)
    }

    @Test("more than 72 bytes is rejected", arguments: [String(repeating: "a", count: 73), String(repeating: "a", count: 200)])
    func overSeventyTwoBytesRejected(_ password: String) {
        #expect(PasswordPolicy.problems(password) == [FieldError("password", "must be at most 72 bytes")])
    }

    @Test("the upper limit counts UTF-8 bytes, not characters")
    func multiByteCharacters() {
        let e = "\u{E9}"  // é, 2 bytes in UTF-8
        #expect(PasswordPolicy.problems(String(repeating: e, count: 36)).isEmpty)  // 72 bytes
        #expect(PasswordPolicy.problems(String(repeating: e, count: 37)).map(\.message) == ["must be at most 72 bytes"])  // 74 bytes
    }

    @Test("the lower limit counts characters, not bytes")
    func shortMultiBytePassword() {
        #expect(!PasswordPolicy.problems(String(repeating: "\u{E9}", count: 11)).isEmpty)  // 22 bytes, 11 characters
    }

    @Test("the field name is configurable")
    func customField() {
        #expect(PasswordPolicy.problems("short", field: "newPassword").map(\.field) == ["newPassword"])
    }

    @Test("blank text is what trimming white space and line breaks leaves empty")
    func blankAsTrimmingSays() {
        let cases = ["", " ", "\n\t\r ", "\u{00A0}\u{2028}\u{3000}", " a ", "\u{200B}", "\u{85}", "x", " \u{0301}", "\r\n", "🧠"]
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array(" \t\n\r\u{0B}\u{0C}\u{85}\u{A0}\u{1680}\u{2000}\u{2028}\u{2029}\u{202F}\u{3000}\u{200B}\u{FEFF}a\u{0301}".unicodeScalars)
        let random = (0..<2000).map { _ in
            var text = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...6, using: &generator) { text.append(alphabet.randomElement(using: &generator)!) }
            return String(text)
        }
        var blanks = 0
        for text in cases + random {
            let trimmedEmpty = text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            #expect(TextRules.isBlank(text) == trimmedEmpty, "\(text.unicodeScalars.map(\.value))")
            if trimmedEmpty { blanks += 1 }
        }
        #expect(blanks > 10 && blanks < cases.count + random.count - 10)
    }
}
