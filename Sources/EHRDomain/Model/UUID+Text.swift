import Foundation

extension UUID {
    /// The canonical lower-case text form (8-4-4-4-12), the form every stored and answered id takes. Written
    /// digit by digit: Foundation's `uuidString` formats through `sprintf`, which showed in request profiles.
    public var lowercasedString: String {
        String(unsafeUninitializedCapacity: 36) { out in
            writeLowercased(into: UnsafeMutableRawBufferPointer(out))
            return 36
        }
    }

    /// Writes ``lowercasedString``'s 36 bytes at the start of `out`, which must hold at least 36 (for writers that
    /// put ids straight into a buffer). A list answer and its audit event write a few hundred ids (1% of the
    /// server's samples per list request before this table).
    public func writeLowercased(into out: UnsafeMutableRawBufferPointer) {
        precondition(out.count >= 36)
        let text = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
        // A table instead of a branch per digit (taken at random: half its predictions missed); a literal, not a
        // static array, so no lazy initialiser is asked each time.
        let digits: StaticString = "0123456789abcdef"
        let digit = digits.utf8Start
        withUnsafeBytes(of: uuid) { bytes in
            for index in 0..<16 {
                let byte = bytes[index]
                let dashesBefore = (index >= 4 ? 1 : 0) + (index >= 6 ? 1 : 0) + (index >= 8 ? 1 : 0) + (index >= 10 ? 1 : 0)
                let place = index * 2 + dashesBefore
                text[place] = digit[Int(byte >> 4)]
                text[place + 1] = digit[Int(byte & 0x0f)]
            }
        }
        text[8] = UInt8(ascii: "-")
        text[13] = UInt8(ascii: "-")
        text[18] = UInt8(ascii: "-")
        text[23] = UInt8(ascii: "-")
    }

    /// The UUID of `text`, accepting exactly what `UUID(uuidString:)` accepts. The canonical 8-4-4-4-12 hex form
    /// (either case) is read digit by digit; anything else goes to Foundation, which on Linux parses every id
    /// through `sscanf` (the embedded database's list rows showed it in profiles).
    public init?(parsing text: String) {
        var text = text
        if let direct = text.withUTF8(Self.canonical) {
            self = direct
        } else if let parsed = UUID(uuidString: text) {
            self = parsed
        } else {
            return nil
        }
    }

    private static func canonical(_ utf8: UnsafeBufferPointer<UInt8>) -> UUID? {
        guard utf8.count == 36 else { return nil }
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let ok = withUnsafeMutableBytes(of: &bytes) { out -> Bool in
            var position = 0
            for index in 0..<16 {
                if position == 8 || position == 13 || position == 18 || position == 23 {
                    guard utf8[position] == UInt8(ascii: "-") else { return false }
                    position += 1
                }
                guard let high = hexValue(utf8[position]), let low = hexValue(utf8[position + 1]) else { return false }
                out[index] = high << 4 | low
                position += 2
            }
            return true
        }
        return ok ? UUID(uuid: bytes) : nil
    }

    private static func hexValue(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
