import Crypto
import EHRSecurity
import Foundation
import FuzzSupport

private let key = SymmetricKey(data: [UInt8](repeating: 0x33, count: 32))
/// The checkpoint of `Fuzz/corpus/FuzzAuditCheckpoint`.
private let genuine = AuditCheckpoint.make(
    tenantID: "3F2504E0-4F89-41D3-9A0C-0305E82C3301", count: 42,
    headHash: Data(hexString: "9f2e6d33a3717ee826353a404ba4618d1aeeb6879ad7936bce8ed5f46814924d")!, timeMillis: 1_795_964_400_000, key: key)

private let seedsAreReal: Void = {
    expect(
        genuine.encoded()
            == "ehrcp1.M0YyNTA0RTAtNEY4OS00MUQzLTlBMEMtMDMwNUU4MkMzMzAx.42.9f2e6d33a3717ee826353a404ba4618d1aeeb6879ad7936bce8ed5f46814924d"
            + ".1795964400000.3b3af480c864a9892423a5a4e4cefa67f6d8de8eac9a83fbd58d2f0cb5399338",
        "the seed checkpoint is stale: \(genuine.encoded())")
}()

/// Any text: never traps; what parses survives encoding and parsing again; only the real checkpoint's signature verifies.
/// The bytes as a checkpoint (any tenant text, count, head, time): parse(encoded(x)) == x, its signature
/// verifies after the trip, and not once the count is changed.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAuditCheckpoint(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    _ = seedsAreReal
    var input = FuzzInput(data, size)
    let text = input.text
    if let parsed = try? AuditCheckpoint(encoded: text) {
        expect((try? AuditCheckpoint(encoded: parsed.encoded())) == parsed, "\(text) does not survive encoding as \(parsed.encoded())")
        expect(!parsed.isValid(key: key) || parsed == genuine, "a forged checkpoint verifies: \(text)")
    }

    let tenant = String(decoding: input.bytes(Int(input.byte() % 48)), as: UTF8.self)
    let count = input.integer(UInt64.self)
    let head = Data(input.bytes(32))
    let time = Int64(bitPattern: input.integer(UInt64.self))
    let signed = AuditCheckpoint.make(tenantID: tenant, count: count, headHash: head, timeMillis: time, key: key)
    let encoded = signed.encoded()
    let parsed = try? AuditCheckpoint(encoded: encoded)
    expect(parsed == signed, "\(encoded) parses as \(String(describing: parsed)); tenant \(Array(tenant.utf8))")
    expect(parsed?.isValid(key: key) == true, "\(encoded) does not verify after the trip")
    let recounted = AuditCheckpoint(tenantID: tenant, count: count &+ 1, headHash: head, timeMillis: time, signature: signed.signature)
    expect(!recounted.isValid(key: key), "\(encoded) still verifies with another count")
    return 0
}
