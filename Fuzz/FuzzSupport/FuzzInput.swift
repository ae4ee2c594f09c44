/// The bytes of one fuzzer run, read front to back as typed values. Reads past the end give zeros, so every
/// input, however short, describes a complete case.
public struct FuzzInput {
    /// All the bytes of the run.
    public let bytes: [UInt8]
    private var offset = 0

    /// Copies the bytes libFuzzer passes to `LLVMFuzzerTestOneInput`.
    public init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    }

    /// The whole input as text (invalid UTF-8 repaired, as a server's string decoding would).
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// The next byte, or 0 past the end.
    public mutating func byte() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// The next `count` bytes, zero-filled past the end.
    public mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in byte() }
    }

    /// The next bytes as a big-endian integer.
    public mutating func integer<T: FixedWidthInteger>(_ type: T.Type) -> T {
        bytes(T.bitWidth / 8).reduce(T.zero) { ($0 << 8) | T(truncatingIfNeeded: $1) }
    }

    /// An integer in `range`, spread evenly enough for fuzzing.
    public mutating func integer(in range: ClosedRange<Int64>) -> Int64 {
        let span = UInt64(bitPattern: range.upperBound &- range.lowerBound) &+ 1
        let value = integer(UInt64.self)
        return range.lowerBound &+ Int64(bitPattern: span == 0 ? value : value % span)
    }

    /// The bytes not read yet.
    public mutating func rest() -> [UInt8] {
        defer { offset = bytes.count }
        return offset < bytes.count ? Array(bytes[offset...]) : []
    }
}

/// Stops the run when a property does not hold: libFuzzer keeps the input as a crash and prints the message.
public func expect(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
    if !condition { fatalError("property failed: \(message())", file: file, line: line) }
}
