/// Foundation's decoder tolerates some things JSON does not allow (trailing commas); RFC 8259 is the contract.
public enum StrictJSON {
    /// A description of the first violation, or nil. Scans outside strings only.
    /// Inlinable so the request path gets a copy specialized for its byte view.
    @inlinable
    public static func problem(in bytes: some Sequence<UInt8>) -> String? {
        var inString = false
        var escaped = false
        var lastSignificant: UInt8 = 0
        for byte in bytes {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                continue
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if lastSignificant == UInt8(ascii: ",") { return "has a trailing comma" }
            default:
                break
            }
            lastSignificant = byte
        }
        return nil
    }
}
