import EHRDomain
import EHRWire
import Foundation
import FuzzSupport

/// The unit tests' key: the seed cursors in `Fuzz/corpus/FuzzCursorCodec` were made with it.
private let codec = CursorCodec(secret: Data("test key material".utf8))
private let otherServer = CursorCodec(secret: Data("another server".utf8))
private let lists = (1...7).map { CursorCodec.List(rawValue: UInt8($0))! }
/// Sort keys a server stores: instants of the years 1 to 9999, in whole milliseconds.
private let storedMillis: ClosedRange<Int64> = -62_135_596_800_000...253_402_300_799_999
private let base64URL = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

/// The seeds are real cursors, so the fuzzer starts from tokens that decode.
private let seedsAreReal: Void = {
    let cursor = PageCursor(key: Date(timeIntervalSince1970: 1_700_000_000.123), id: UUID(uuidString: "3F2504E0-4F89-41D3-9A0C-0305E82C3301")!)
    expect(codec.encode(cursor, list: .appointments) == "BAAAAYvP5Wh7PyUE4E-JQdOaDAMF6CwzAZAm1E3f2k02y7KQWg", "the seed cursor is stale")
}()

/// Any text as a token: never traps, and what decodes re-encodes to the very same token, on one list only.
/// The bytes as a cursor: it encodes to 50 base64url characters that decode to itself on its list, not on another
/// list or under another key, and no one-character edit of the token decodes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCursorCodec(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    seedsAreReal
    var input = FuzzInput(data, size)
    let token = input.text
    // Only a 37-byte token can name a cursor: other texts are tried on one list, which keeps runs fast.
    let candidates = Data(base64URLEncoded: token)?.count == 37 ? lists : [.users]
    let decoded = candidates.compactMap { list in codec.decode(token, list: list).map { (list, $0) } }
    expect(decoded.count <= 1, "a token decodes on \(decoded.count) lists: \(token)")
    if let (list, cursor) = decoded.first {
        expect(codec.encode(cursor, list: list) == token, "a decoded token re-encodes differently: \(token)")
        expect(otherServer.decode(token, list: list) == nil, "a token decodes under two keys: \(token)")
    }

    let list = lists[Int(input.byte()) % lists.count]
    let millis = input.integer(in: storedMillis)
    let u = input.bytes(16)
    let id = UUID(uuid: (u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]))
    let cursor = PageCursor(key: Date(timeIntervalSince1970: Double(millis) / 1000), id: id)
    let made = codec.encode(cursor, list: list)
    expect(made.utf8.count == 50 && made.utf8.allSatisfy(base64URL.contains), "not a 50-character base64url token: \(made)")
    expect(codec.decode(made, list: list) == cursor, "\(made) does not decode to \(cursor)")
    let other = lists[(Int(list.rawValue) + Int(input.byte()) % (lists.count - 1)) % lists.count]
    expect(codec.decode(made, list: other) == nil, "\(made) of \(list) decodes on \(other)")
    expect(otherServer.decode(made, list: list) == nil, "\(made) decodes under another key")
    var edited = Array(made.utf8)
    let position = Int(input.byte()) % edited.count
    edited[position] = base64URL[Int(input.byte()) % base64URL.count]
    let editedToken = String(decoding: edited, as: UTF8.self)
    if editedToken != made {
        expect(codec.decode(editedToken, list: list) == nil, "the edited token \(editedToken) of \(made) decodes")
    }
    return 0
}
