import EHRWire
import Foundation
import OpenAPIRuntime

/// RFC 3339 dates: answers carry milliseconds; requests may send them or not. ``RFC3339`` (EHRWire) does the work.
struct FlexibleDateTranscoder: DateTranscoder {
    func encode(_ date: Date) throws -> String { RFC3339.format(date) }

    func decode(_ string: String) throws -> Date {
        guard let date = RFC3339.parse(string) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: [], debugDescription: "Expected an RFC 3339 date-time on a real calendar day, such as 2026-12-01T15:00:00Z"))
        }
        return date
    }
}
