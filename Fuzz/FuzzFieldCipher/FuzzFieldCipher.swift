import Crypto
import EHRSecurity
import Foundation
import FuzzSupport

private let context = FieldContext(tenantID: "tenant-fuzz", table: "patients", column: "last_name", rowID: "row-1")
private let otherRow = FieldContext(tenantID: "tenant-fuzz", table: "patients", column: "last_name", rowID: "row-2")
/// Fixed keys (version 1 and the current version 2), so the sealed seeds open in every run.
private let cipher = FieldCipher(
    keyring: try! TenantKeyring(
        tenantID: "tenant-fuzz",
        keys: [1: SymmetricKey(data: [UInt8](repeating: 0x11, count: 32)), 2: SymmetricKey(data: [UInt8](repeating: 0x22, count: 32))],
        currentVersion: 2))

/// The sealed values of `Fuzz/corpus/FuzzFieldCipher` (AES-256-GCM under the keys above, sealed outside Swift).
private let genuine: [(stored: String, plaintext: Data)] = [
    ("ehr1:AQAAAAEAAQIDBAUGBwgJCgtZgth2W/Ib1ETZp/ahwYNGgOCRbBgk3CYeCKVlEvdU", Data("Jane Q. Patient".utf8)),
    ("ehr1:AQAAAAJkZWZnaGlqa2xtbm8zywMpp4vgkWXFrQIF4fJl", Data()),
    (
        "ehr1:AQAAAALIycrLzM3Oz9DR0tNZEQ+EYu/motp378FdOe3jWsSJMM6yvUa1ocswOqvdg957xigVJvVUSak70u0NZIqaMg==",
        Data(#"{"name":"Jane","phone":"555-0100"}"#.utf8)
    ),
]

private let seedsAreReal: Void = {
    for seal in genuine {
        expect((try? cipher.decrypt(seal.stored, context: context)) == seal.plaintext, "the seed \(seal.stored) does not open")
    }
}()

/// Any text as a stored value: never traps, and nothing opens but a real sealed value, in its own row only.
/// The bytes as an edit of a real sealed value (flipped bits, cut short, extended, another key version): it
/// never opens, and fails for the right reason. The remaining bytes as plaintext: seal and open round-trip.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFieldCipher(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    _ = seedsAreReal
    var input = FuzzInput(data, size)
    let text = input.text
    _ = try? FieldCipher.keyVersion(of: text)
    _ = try? cipher.needsReencryption(text)
    if let opened = try? cipher.decrypt(text, context: context) {
        let envelope = envelopeBytes(text)
        expect(genuine.contains { envelopeBytes($0.stored) == envelope && $0.plaintext == opened }, "a forged value opens: \(text)")
        expect((try? cipher.decrypt(text, context: otherRow)) == nil, "\(text) opens in another row")
    }

    let original = envelopeBytes(genuine[Int(input.byte()) % genuine.count].stored)!
    let edited = edit(original, &input)
    if edited != original {
        let stored = FieldCipher.prefix + Data(edited).base64EncodedString()
        do {
            _ = try cipher.decrypt(stored, context: context)
            expect(false, "an edited value opens: \(stored)")
        } catch {
            let expected = expectedError(edited)
            expect(error as? FieldCipherError == expected, "\(stored) fails with \(error), expected \(expected)")
        }
    }

    let plaintext = Data(input.rest())
    let sealed = try! cipher.encrypt(plaintext, context: context)
    expect((try? cipher.decrypt(sealed, context: context)) == plaintext, "\(sealed) does not open to what was sealed")
    expect((try? cipher.decrypt(sealed, context: otherRow)) == nil, "\(sealed) opens in another row")
    expect((try? FieldCipher.keyVersion(of: sealed)) == 2, "\(sealed) does not name the current key version")
    return 0
}

private func envelopeBytes(_ stored: String) -> [UInt8]? {
    Data(base64Encoded: String(stored.dropFirst(FieldCipher.prefix.count))).map { [UInt8]($0) }
}

private func edit(_ bytes: [UInt8], _ input: inout FuzzInput) -> [UInt8] {
    var out = bytes
    switch input.byte() % 4 {
    case 0:
        out[Int(input.integer(UInt16.self)) % out.count] ^= input.byte()
    case 1:
        out.removeLast(Int(input.integer(UInt16.self)) % out.count + 1)
    case 2:
        out += input.bytes(Int(input.byte() % 32) + 1)
    default:
        let version = input.integer(UInt32.self)
        out.replaceSubrange(1..<5, with: withUnsafeBytes(of: version.bigEndian) { Array($0) })
    }
    return out
}

/// What ``FieldCipher`` documents for a value that does not open.
private func expectedError(_ bytes: [UInt8]) -> FieldCipherError {
    guard bytes.count >= 5 + 12 + 16, bytes.first == FieldCipher.formatByte else { return .malformed }
    let version = bytes[1..<5].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    return [1, 2].contains(version) ? .wrongContext : .unknownKeyVersion(version)
}
