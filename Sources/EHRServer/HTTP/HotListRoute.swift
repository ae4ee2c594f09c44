import EHRAPI
import HTTPTypes
import OpenAPIRuntime

/// The appointment list's query read directly. Returns nil, for the generated decoder to handle, unless every
/// pair is one of the list's parameters, named once, with a non-empty value of unreserved characters (no percent
/// encoding, no `+`: the value is the text itself) that parses as its type. Then the result equals the generated
/// decoding (`HotListRouteTests` holds the two together).
enum ListAppointmentsQuery {
    static func parse(_ target: String?) -> Operations.ListAppointments.Input.Query? {
        var query = Operations.ListAppointments.Input.Query()
        guard let target, let mark = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return target == nil ? nil : query }
        let text = target[target.utf8.index(after: mark)...]
        guard !text.isEmpty else { return query }
        var seen = Set<Substring>()
        for pair in text.split(separator: "&", omittingEmptySubsequences: false) {
            guard let equals = pair.utf8.firstIndex(of: UInt8(ascii: "=")) else { return nil }
            let name = pair[..<equals]
            let value = pair[pair.utf8.index(after: equals)...]
            guard !value.isEmpty, value.utf8.allSatisfy(isPlain), seen.insert(name).inserted else { return nil }
            switch name {
            case "limit":
                guard let limit = Int(value) else { return nil }
                query.limit = limit
            case "cursor": query.cursor = String(value)
            case "from", "to":
                guard let date = try? FlexibleDateTranscoder().decode(String(value)) else { return nil }
                if name == "from" { query.from = date } else { query.to = date }
            case "therapistId": query.therapistId = String(value)
            case "patientId": query.patientId = String(value)
            case "status":
                guard let status = Components.Schemas.AppointmentStatus(rawValue: String(value)) else { return nil }
                query.status = status
            case "upcoming":
                switch value {
                case "true": query.upcoming = true
                case "false": query.upcoming = false
                default: return nil
                }
            default: return nil
            }
        }
        return query
    }

    /// RFC 3986's unreserved characters and `:` (of a date-time), the bytes that read the same decoded or not.
    private static func isPlain(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: ":"): true
        default: false
        }
    }
}
