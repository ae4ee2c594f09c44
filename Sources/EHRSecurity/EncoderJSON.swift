/// JSON text as Foundation's default `JSONEncoder` writes it (compact, slashes escaped, control characters as
/// escapes), for the two shapes the busiest paths write: an array of strings (the audit log's changed fields
/// and listed patients, twice per audited read) and an object of strings (a note's sections, before they are
/// encrypted). Byte for byte the encoder's output (`EncoderJSONTests`), without an encoder per value.
public enum EncoderJSON {
    /// `values` as a JSON array of strings.
    public static func array(_ values: [String]) -> String {
        if let plain = plainArray(values) { return plain }
        var out: [UInt8] = []
        out.reserveCapacity(values.reduce(2) { $0 + $1.utf8.count + 3 })
        out.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            appendString(value, to: &out)
        }
        out.append(UInt8(ascii: "]"))
        return String(decoding: out, as: UTF8.self)
    }

    /// `members` as a JSON object with sorted keys (`JSONEncoder` with `.sortedKeys`), or nil when a key is not
    /// lower-case ASCII letters (a note's section names), the only keys whose order this writer vouches for.
    public static func sortedObject(_ members: [String: String]) -> [UInt8]? {
        guard members.keys.allSatisfy(isPlainKey) else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(members.reduce(2) { $0 + $1.key.utf8.count + $1.value.utf8.count + 6 })
        out.append(UInt8(ascii: "{"))
        for (index, key) in members.keys.sorted().enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            appendString(members[key]!, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The array written byte for byte into a string of its final size, the form of nearly every audit event
    /// (ids and field names: nothing to escape); nil when a value holds a byte JSON escapes.
    private static func plainArray(_ values: [String]) -> String? {
        var capacity = 2
        for value in values { capacity += value.utf8.count + 3 }
        var plain = true
        let text = String(unsafeUninitializedCapacity: capacity) { buffer -> Int in
            var end = 0
            func put(_ byte: UInt8) {
                buffer[end] = byte
                end += 1
            }
            put(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { put(UInt8(ascii: ",")) }
                put(UInt8(ascii: "\""))
                let copied = value.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
                    for byte in bytes where isEscaped(byte) { return false }
                    _ = UnsafeMutableBufferPointer(rebasing: buffer[end..<end + bytes.count]).initialize(from: bytes)
                    end += bytes.count
                    return true
                }
                guard copied == true else {
                    plain = false
                    return 0
                }
                put(UInt8(ascii: "\""))
            }
            put(UInt8(ascii: "]"))
            return end
        }
        return plain ? text : nil
    }

    /// `value` as a JSON string: runs of plain bytes copied, the rest escaped as the encoder escapes them. Every
    /// escaped byte is ASCII, so the bytes of a multi-byte character are always copied.
    public static func appendString(_ value: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { bytes in
            var run = 0
            for index in bytes.indices where isEscaped(bytes[index]) {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<index]))
                run = index + 1
                let byte = bytes[index]
                out.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(byte)
                case 0x08: out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(UInt8(ascii: "f"))
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run...]))
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func isEscaped(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "/")
    }

    private static func isPlainKey(_ key: String) -> Bool {
        !key.isEmpty && key.utf8.allSatisfy { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }
    }
}
