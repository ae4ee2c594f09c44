import EHRWire
import Foundation
import FuzzSupport

/// Any bytes: never traps, and the verdict does not depend on how the bytes are held.
/// The bytes as a recipe for a JSON value: its text is never flagged, and the same text with a trailing
/// comma before any closing bracket always is.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStrictJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let verdict = StrictJSON.problem(in: input.bytes)
    let viaBuffer = input.bytes.withUnsafeBufferPointer { StrictJSON.problem(in: $0) }
    expect(viaBuffer == verdict && StrictJSON.problem(in: input.bytes.lazy.map { $0 }) == verdict, "the verdict depends on the byte view")

    var json = JSONText()
    json.value(&input, depth: 0)
    expect(
        (try? JSONSerialization.jsonObject(with: Data(json.bytes), options: .fragmentsAllowed)) != nil,
        "the harness wrote invalid JSON: \(String(decoding: json.bytes, as: UTF8.self))")
    expect(StrictJSON.problem(in: json.bytes) == nil, "valid JSON flagged: \(String(decoding: json.bytes, as: UTF8.self))")
    if !json.closers.isEmpty {
        var lax = json.bytes
        let closer = json.closers[Int(input.byte()) % json.closers.count]
        lax.insert(contentsOf: Array(",".utf8) + JSONText.whitespace(&input), at: closer)
        expect(StrictJSON.problem(in: lax) == "has a trailing comma", "trailing comma missed: \(String(decoding: lax, as: UTF8.self))")
    }
    return 0
}

/// Writes a JSON value chosen by the input, with the awkward parts on purpose: brackets, commas, quotes and
/// backslashes inside strings, escapes, non-ASCII text, whitespace between tokens.
struct JSONText {
    private(set) var bytes: [UInt8] = []
    /// Offsets of every `]` and `}`.
    private(set) var closers: [Int] = []

    private static let characters: [String] = [
        "a", "Z", "0", " ", ",", "]", "}", "[", "{", ":", "\"", "\\", "/", "\n", "\t", "\u{0}", "\u{1F}", "é", "\u{2028}", "😀", "\\u", "\"]",
    ]

    static func whitespace(_ input: inout FuzzInput) -> [UInt8] {
        let choice = input.byte()
        guard choice & 0x80 != 0 else { return [] }
        return Array([" ", "\n", "\r\n", "\t ", "  "][Int(choice & 0x7f) % 5].utf8)
    }

    mutating func value(_ input: inout FuzzInput, depth: Int) {
        bytes += Self.whitespace(&input)
        let kind = input.byte() % (depth < 6 ? 7 : 5)
        switch kind {
        case 0: bytes += Array(["null", "true", "false"][Int(input.byte()) % 3].utf8)
        case 1: bytes += Array(String(Int32(truncatingIfNeeded: input.integer(UInt32.self))).utf8)
        case 2: bytes += Array(["0.5", "-1e-7", "1E+2", "-0", "123456789012345678"][Int(input.byte()) % 5].utf8)
        case 3, 4: string(&input)
        case 5:
            bytes += Array("[".utf8)
            for index in 0..<Int(input.byte() % 5) {
                if index > 0 { bytes += Array(",".utf8) }
                value(&input, depth: depth + 1)
            }
            close("]", &input)
        default:
            bytes += Array("{".utf8)
            for index in 0..<Int(input.byte() % 5) {
                if index > 0 { bytes += Array(",".utf8) }
                bytes += Self.whitespace(&input)
                string(&input)
                bytes += Self.whitespace(&input) + Array(":".utf8)
                value(&input, depth: depth + 1)
            }
            close("}", &input)
        }
        bytes += Self.whitespace(&input)
    }

    private mutating func close(_ bracket: String, _ input: inout FuzzInput) {
        bytes += Self.whitespace(&input)
        closers.append(bytes.count)
        bytes += Array(bracket.utf8)
    }

    private mutating func string(_ input: inout FuzzInput) {
        bytes += Array("\"".utf8)
        for _ in 0..<Int(input.byte() % 12) {
            let character = Self.characters[Int(input.byte()) % Self.characters.count]
            let asEscape = input.byte() & 1 == 1
            for scalar in character.unicodeScalars {
                switch scalar {
                case "\"": bytes += Array(#"\""#.utf8)
                case "\\": bytes += Array(#"\\"#.utf8)
                case _ where scalar.value < 0x20 || (asEscape && scalar.value < 0x10000):
                    bytes += Array(String(format: "\\u%04x", scalar.value).utf8)
                default: bytes += Array(String(scalar).utf8)
                }
            }
        }
        bytes += Array("\"".utf8)
    }
}
