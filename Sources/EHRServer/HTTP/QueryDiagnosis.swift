import EHRDomain
import Foundation
import HTTPTypes

/// When generated code fails to decode a query parameter it does not say which one. This names
/// every typed parameter whose value cannot be parsed, so the 400 can point at the field.
enum QueryDiagnosis {
    /// Date-time fields of request bodies whose value is not an RFC 3339 date-time (the decoder's error does not name them).
    static func badDateFields(in body: [UInt8]?) -> [FieldError] {
        guard let body, let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else { return [] }
        return ["startsAt", "endsAt"].compactMap { key in
            guard let value = object[key] else { return nil }
            if let text = value as? String, (try? FlexibleDateTranscoder().decode(text)) != nil { return nil }
            return FieldError(key, value is String ? "must be an RFC 3339 date-time such as 2026-12-01T15:00:00Z" : "must be of type string")
        }
    }

    /// - Parameter operationID: the contract's operation (from the generated code), which says what `status` means.
    static func badFields(in request: HTTPRequest, operationID: String) -> [FieldError] {
        guard let target = request.path, let queryStart = target.firstIndex(of: "?") else { return [] }
        let items = URLComponents(string: "http://x/?" + target[target.index(after: queryStart)...])?.queryItems ?? []
        var errors: [FieldError] = []
        for item in items {
            let value = item.value ?? ""
            switch item.name {
            case "limit":
                if let limit = Int(value) {
                    if !(1...PageRequest.maximumLimit).contains(limit) {
                        errors.append(FieldError("limit", "must be between 1 and \(PageRequest.maximumLimit)"))
                    }
                } else {
                    errors.append(FieldError("limit", "must be an integer"))
                }
            case "upcoming":
                if value != "true" && value != "false" { errors.append(FieldError("upcoming", "must be true or false")) }
            case "from", "to":
                if (try? FlexibleDateTranscoder().decode(value)) == nil {
                    errors.append(FieldError(item.name, "must be an RFC 3339 date-time such as 2026-12-01T15:00:00Z"))
                }
            case "status":
                let allowed: [String] =
                    switch operationID {
                    case "listPatients": PatientStatus.allCases.map(\.rawValue)
                    case "listAppointments": AppointmentStatus.allCases.map(\.rawValue)
                    default: NoteStatus.allCases.map(\.rawValue)
                    }
                if !allowed.contains(value) { errors.append(FieldError("status", "must be one of \(allowed.joined(separator: ", "))")) }
            case "type":
                if NoteType(rawValue: value) == nil {
                    errors.append(FieldError("type", "must be one of \(NoteType.allCases.map(\.rawValue).joined(separator: ", "))"))
                }
            case "role":
                if Role(rawValue: value) == nil { errors.append(FieldError("role", "must be one of admin, therapist, client")) }
            default:
                continue
            }
        }
        return errors
    }
}
