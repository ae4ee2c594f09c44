import Foundation

/// Injective binary encoder used for associated data, key-wrap contexts and the audit
/// chain's canonical form: every variable-length field is prefixed with its length.
struct CanonicalWriter {
    /// Appended to as plain bytes: `Data`'s appends (a representation switch, retains and releases on every
    /// field) were most of this writer's cost, on every encrypted field opened and every audit event sealed.
    private var buffer: [UInt8] = []

    /// The encoding so far.
    var bytes: Data { Data(buffer) }

    /// `capacity`: bytes to reserve up front, so one encoding does not grow its buffer field by field.
    init(domain: String, capacity: Int = 256) {
        buffer.reserveCapacity(capacity)
        string(domain)
    }

    mutating func u8(_ v: UInt8) { buffer.append(v) }

    mutating func u32(_ v: UInt32) {
        withUnsafeBytes(of: v.bigEndian) { buffer.append(contentsOf: $0) }
    }

    mutating func u64(_ v: UInt64) {
        withUnsafeBytes(of: v.bigEndian) { buffer.append(contentsOf: $0) }
    }

    mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }

    mutating func data(_ d: Data) {
        u32(UInt32(d.count))
        d.withUnsafeBytes { buffer.append(contentsOf: $0) }
    }

    /// The same bytes as `data(Data(s.utf8))`, without the intermediate `Data`.
    mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            u32(UInt32(utf8.count))
            buffer.append(contentsOf: utf8)
        }
    }

    mutating func optionalString(_ s: String?) {
        if let s {
            u8(1)
            string(s)
        } else {
            u8(0)
        }
    }

    mutating func strings(_ list: [String]) {
        u32(UInt32(list.count))
        for s in list { string(s) }
    }
}

private let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

extension Data {
    /// Lower-case hexadecimal form. (Written from the raw bytes: iterating `Data` byte by byte was most of its
    /// cost, for every audit event's MAC and hash.)
    public var hexString: String {
        withUnsafeBytes { bytes in
            String(unsafeUninitializedCapacity: bytes.count * 2) { out in
                for (index, byte) in bytes.enumerated() {
                    out[2 * index] = hexDigits[Int(byte >> 4)]
                    out[2 * index + 1] = hexDigits[Int(byte & 0x0f)]
                }
                return bytes.count * 2
            }
        }
    }

    /// Parses lower- or upper-case hexadecimal; nil when not valid hex.
    public init?(hexString: String) {
        var text = hexString
        let parsed = text.withUTF8 { chars -> [UInt8]? in
            guard chars.count % 2 == 0 else { return nil }
            func nibble(_ c: UInt8) -> UInt8? {
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
                default: return nil
                }
            }
            var out: [UInt8] = []
            out.reserveCapacity(chars.count / 2)
            var i = 0
            while i < chars.count {
                guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
                out.append(hi << 4 | lo)
                i += 2
            }
            return out
        }
        guard let parsed else { return nil }
        self = Data(parsed)
    }

    /// Reads a big-endian UInt32 at `offset` (relative to startIndex).
    func readUInt32BE(at offset: Int) -> UInt32 {
        var v: UInt32 = 0
        for i in 0..<4 { v = v << 8 | UInt32(self[startIndex + offset + i]) }
        return v
    }
}

/// Constant-time comparison of two byte strings of possibly different length.
func constantTimeEquals(_ a: Data, _ b: Data) -> Bool {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    for (x, y) in zip(a, b) { diff |= x ^ y }
    return diff == 0
}
