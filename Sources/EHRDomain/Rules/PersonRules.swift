import Foundation

/// An address as entered, before validation (API body or web form).
public struct AddressInput: Sendable, Hashable {
    public var line1, line2, city, state, postalCode: String?

    public init(line1: String?, line2: String?, city: String?, state: String?, postalCode: String?) {
        (self.line1, self.line2, self.city, self.state, self.postalCode) = (line1, line2, city, state, postalCode)
    }
}

/// An emergency contact as entered, before validation.
public struct ContactInput: Sendable, Hashable {
    public var name, phone, relationship: String?

    public init(name: String?, phone: String?, relationship: String?) {
        (self.name, self.phone, self.relationship) = (name, phone, relationship)
    }
}

/// Validation of the details of people (patients, therapists), shared by every front end.
extension Validator {
    /// A UUID entered in `field`; a malformed one is an error naming the field.
    public mutating func uuid(_ raw: String?, _ field: String) -> UUID? {
        guard let raw, !raw.isEmpty else { return nil }
        guard let id = UUID(parsing: raw) else {
            add(field, "must be a UUID")
            return nil
        }
        return id
    }

    /// A date of birth `YYYY-MM-DD` between 1900-01-01 and today.
    public mutating func dateOfBirth(_ raw: String?, _ field: String = "dateOfBirth") -> CalendarDate? {
        guard let raw, !raw.isEmpty else {
            add(field, "is required")
            return nil
        }
        guard let date = CalendarDate(iso: raw) else {
            add(field, "must be a date in the form YYYY-MM-DD")
            return nil
        }
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        let today = utc.dateComponents([.year, .month, .day], from: Date())
        if date.year < 1900 || date > CalendarDate(year: today.year!, month: today.month!, day: today.day!)! {
            add(field, "must be between 1900-01-01 and today")
            return nil
        }
        return date
    }

    /// An optional phone number of 7 to 15 digits (spaces, +, -, parentheses and dots allowed).
    public mutating func phone(_ raw: String?, _ field: String) -> String? {
        guard let value = text(raw, field, max: 32, required: false) else { return nil }
        let digits = value.filter(\.isNumber)
        if digits.count < 7 || digits.count > 15 || !value.allSatisfy({ $0.isNumber || " +-().".contains($0) }) {
            add(field, "must be a phone number of 7 to 15 digits")
        }
        return value
    }

    /// A postal address; `line2` optional.
    public mutating func address(_ a: AddressInput, _ field: String = "address") -> Address? {
        let line1 = text(a.line1, "\(field).line1", max: 200)
        let line2 = text(a.line2, "\(field).line2", max: 200, required: false)
        let city = text(a.city, "\(field).city", max: 100)
        let state = addressState(a.state, "\(field).state")
        let postal = postalCode(a.postalCode, "\(field).postalCode")
        guard let line1, let city, let state, let postal else { return nil }
        return Address(line1: line1, line2: line2, city: city, state: state, postalCode: postal)
    }

    /// An emergency contact: name and phone required.
    public mutating func emergencyContact(_ c: ContactInput, _ field: String = "emergencyContact") -> EmergencyContact? {
        let name = text(c.name, "\(field).name", max: 200)
        let phone = phone(c.phone, "\(field).phone")
        if (c.phone ?? "").trimmingCharacters(in: .whitespaces).isEmpty { add("\(field).phone", "is required") }
        let relationship = text(c.relationship, "\(field).relationship", max: 100, required: false)
        guard let name, let phone else { return nil }
        return EmergencyContact(name: name, phone: phone, relationship: relationship)
    }

    /// A two-letter state code, upper-cased.
    public mutating func licenseState(_ raw: String?, _ field: String = "licenseState", required: Bool = true) -> String? {
        guard let value = text(raw, field, max: 50, required: required)?.uppercased() else { return nil }
        guard value.count == 2, value.allSatisfy({ $0.isLetter && $0.isASCII }) else {
            add(field, "must be a two-letter state code")
            return nil
        }
        return value
    }

    /// A US state code as two letters exactly (stored upper-cased).
    mutating func addressState(_ raw: String?, _ field: String) -> String? {
        guard let raw, !raw.isEmpty else {
            add(field, "is required")
            return nil
        }
        guard raw.utf8.count == 2, raw.allSatisfy({ $0.isLetter && $0.isASCII }) else {
            add(field, "must be a two-letter state code")
            return nil
        }
        return raw.uppercased()
    }

    /// A US ZIP code: five digits, optionally a dash and four more.
    mutating func postalCode(_ raw: String?, _ field: String) -> String? {
        guard let raw, !raw.isEmpty else {
            add(field, "is required")
            return nil
        }
        let bytes = Array(raw.utf8)
        let valid =
            (bytes.count == 5 || (bytes.count == 10 && bytes[5] == UInt8(ascii: "-")))
            && bytes.enumerated().allSatisfy { $0.offset == 5 || (48...57).contains($0.element) }
        guard valid else {
            add(field, "must be a ZIP code: 12345 or 12345-6789")
            return nil
        }
        return raw
    }

    /// A list of specialties: at most 50, each 1–100 characters.
    public mutating func specialties(_ raw: [String]?, _ field: String = "specialties") -> [String]? {
        guard let raw else { return nil }
        if raw.count > 50 { add(field, "at most 50 entries") }
        return raw.enumerated().compactMap { index, item in text(item, "\(field)[\(index)]", max: 100) }
    }
}
