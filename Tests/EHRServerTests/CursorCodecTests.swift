import Crypto
import EHRDomain
import EHRWire
import Foundation
import Testing

@testable import EHRServer

@Suite("List cursors")
struct CursorCodecTests {
    let codec = CursorCodec(secret: Data("test key material".utf8))
    let cursor = PageCursor(key: Date(timeIntervalSince1970: 1_700_000_000.123), id: UUID(uuidString: "3F2504E0-4F89-41D3-9A0C-0305E82C3301")!)

    @Test func roundTripsOnTheSameList() {
        let token = codec.encode(cursor, list: .appointments)
        #expect(codec.decode(token, list: .appointments) == cursor)
        #expect(token.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
    }

    /// The direct encoder writes what Foundation's base64 with the URL alphabet and no padding writes, for every
    /// length's remainder, and its output reads back.
    @Test func base64URLMatchesFoundation() throws {
        var generator = SystemRandomNumberGenerator()
        for length in Array(0...70) + [255, 256, 257, 1000] {
            let data = Data((0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) })
            let expected = data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            #expect(data.base64URLEncoded() == expected, "length \(length)")
            #expect(Data(base64URLEncoded: data.base64URLEncoded()) == data, "length \(length)")
        }
        #expect(Data([0xFB, 0xFF, 0xBF]).base64URLEncoded() == "-_-_")
    }

    /// The token is the list, the key's milliseconds, the id and the first 12 bytes of HMAC-SHA256 under the
    /// HKDF-derived key, computed here step by step (the codec keeps its HMAC keyed once and copies it per cursor).
    @Test func tokenIsTheDocumentedMACOverTheDocumentedPayload() {
        let key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Data("test key material".utf8)), info: Data("mentalspace-ehr list cursor v1".utf8),
            outputByteCount: 32)
        for (list, millis) in [(CursorCodec.List.appointments, Int64(1_700_000_000_123)), (.notes, 0), (.auditEvents, -86_400_000)] {
            let cursor = PageCursor(key: Date(timeIntervalSince1970: Double(millis) / 1000), id: cursor.id)
            var payload = Data([list.rawValue])
            withUnsafeBytes(of: millis.bigEndian) { payload.append(contentsOf: $0) }
            withUnsafeBytes(of: cursor.id.uuid) { payload.append(contentsOf: $0) }
            let expected = payload + Data(HMAC<SHA256>.authenticationCode(for: payload, using: key).prefix(12))
            #expect(codec.encode(cursor, list: list) == expected.base64URLEncoded())
            #expect(codec.decode(codec.encode(cursor, list: list), list: list) == cursor)
        }
    }

    @Test func refusesACursorFromAnotherList() {
        #expect(codec.decode(codec.encode(cursor, list: .notes), list: .appointments) == nil)
    }

    @Test func refusesACursorMadeWithAnotherKey() {
        let other = CursorCodec(secret: Data("another server".utf8))
        #expect(codec.decode(other.encode(cursor, list: .patients), list: .patients) == nil)
    }

    @Test(arguments: 0..<37)
    func refusesEveryOneByteTampering(_ index: Int) throws {
        var bytes = [UInt8](try #require(Data(base64URLEncoded: codec.encode(cursor, list: .users))))
        try #require(index < bytes.count)
        bytes[index] ^= 0x40
        #expect(codec.decode(Data(bytes).base64URLEncoded(), list: .users) == nil)
    }

    /// Found by Fuzz/FuzzCursorCodec: base64 leaves four bits of the last character unused, and padding is optional,
    /// so other spellings named the same bytes and decoded. A cursor has one token, the one the server made.
    @Test func refusesAnotherSpellingOfTheSameCursor() {
        let token = codec.encode(cursor, list: .appointments)
        #expect(token == "BAAAAYvP5Wh7PyUE4E-JQdOaDAMF6CwzAZAm1E3f2k02y7KQWg")
        #expect(codec.decode("BAAAAYvP5Wh7PyUE4E-JQdOaDAMF6CwzAZAm1E3f2k02y7KQWh", list: .appointments) == nil)
        #expect(codec.decode(token + "==", list: .appointments) == nil)
    }

    @Test(arguments: ["", "abc", "%%%", String(repeating: "A", count: 200), "MTcwMDAwMDAwMDEyMzo"])
    func refusesGarbage(_ token: String) {
        #expect(codec.decode(token, list: .providers) == nil)
    }
}
