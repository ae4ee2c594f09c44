import Crypto
import EHRSecurity
import Foundation
import Testing

@Suite("AuditChain")
struct AuditChainTests {
    let key = SymmetricKey(size: .bits256)

    @Test func intactChainVerifies() {
        let chain = Fixture.chain(count: 50, key: key)
        #expect(chain.map(\.sequence) == Array(1...50))
        #expect(chain[0].prevHash == AuditChain.genesisHash)
        for i in 1..<chain.count { #expect(chain[i].prevHash == chain[i - 1].hash) }
        let cp = AuditCheckpoint.make(tenantID: "t-acme", records: chain, timeMillis: 1, key: key)
        for checkpoint in [nil, cp] {
            let v = AuditChain.verify(records: chain, key: key, checkpoint: checkpoint)
            #expect(v.isIntact)
            #expect(v.verifiedCount == 50)
            #expect(v.headHash == chain.last!.hash)
        }
        // An older checkpoint still verifies against a longer chain.
        let older = AuditCheckpoint.make(tenantID: "t-acme", records: Array(chain.prefix(20)), timeMillis: 1, key: key)
        #expect(AuditChain.verify(records: chain, key: key, checkpoint: older).isIntact)
        #expect(AuditChain.verify(records: [], key: key).isIntact)
        let empty = AuditCheckpoint.make(tenantID: "t-acme", records: [], timeMillis: 1, key: key)
        #expect(AuditChain.verify(records: [], key: key, checkpoint: empty).isIntact)
    }

    @Test func sealingInSeparateFlushesEqualsOneBatch() {
        let drafts = (0..<10).map { Fixture.draft($0) }
        let whole = AuditChain.sealBatch(drafts, after: nil, key: key)
        let first = AuditChain.sealBatch(Array(drafts[..<4]), after: nil, key: key)
        let rest = AuditChain.sealBatch(Array(drafts[4...]), after: first.last, key: key)
        #expect(first + rest == whole)
        let viaParts = AuditChain.seal(drafts[4], previousSequence: 4, previousHash: first[3].hash, key: key)
        #expect(viaParts == whole[4])
    }

    @Test func wrongAuditKeyFails() {
        let chain = Fixture.chain(count: 5, key: key)
        let v = AuditChain.verify(records: chain, key: SymmetricKey(size: .bits256))
        #expect(v.firstBreak?.reason == .badMAC)
        #expect(v.firstBreak?.index == 0)
    }

    @Test func canonicalEncodingIsInjective() {
        var a = Fixture.draft(1)
        var b = a
        a.actorID = "ab"
        a.actorRole = "c"
        b.actorID = "a"
        b.actorRole = "bc"
        #expect(a.canonicalEncoding() != b.canonicalEncoding())
        var c = Fixture.draft(1)
        var d = c
        c.patientID = nil
        d.patientID = ""
        #expect(c.canonicalEncoding() != d.canonicalEncoding())
        var e = Fixture.draft(1)
        var f = e
        e.changedFields = ["a,b"]
        f.changedFields = ["a", "b"]
        #expect(e.canonicalEncoding() != f.canonicalEncoding())
        var g = Fixture.draft(1)
        var h = g
        g.resourceID = nil
        g.patientID = "x"
        h.resourceID = "x"
        h.patientID = nil
        #expect(g.canonicalEncoding() != h.canonicalEncoding())
    }

    /// The encoding's bytes, against digests computed apart from this code (Python's `struct`, from the format's
    /// description: length-prefixed UTF-8, presence bytes, counts, big-endian integers): stored chains must keep
    /// verifying whatever the writer's implementation becomes.
    @Test func canonicalEncodingKeepsItsBytes() {
        let v2 = AuditRecord(
            sequence: 42, tenantID: "t-acme", actorID: "user-ü✓", actorRole: "", action: "patient.list", resourceType: "patient",
            resourceID: nil, patientID: "", outcome: "allowed", requestID: "req-1", clientIP: "10.0.0.1", userAgent: nil, timeMillis: -5,
            changedFields: [], detail: "détail", patientIDs: ["p-1", "", "p-🧠"])
        #expect(v2.canonicalEncoding().count == 168)
        #expect(Data(SHA256.hash(data: v2.canonicalEncoding())).hexString == "60a40b5376eac564e08c4204304db1fab66c6a95f6402bc298b392e781b0bc2d")
        let v1 = AuditRecord(
            sequence: 7, tenantID: "t", actorID: "a", actorRole: "r", action: "x", resourceType: "y", resourceID: "res", patientID: nil,
            outcome: "denied", requestID: "q", clientIP: nil, userAgent: "ua", timeMillis: 1_764_000_000_000, changedFields: ["a,b", "c"])
        #expect(v1.canonicalEncoding().count == 106)
        #expect(Data(SHA256.hash(data: v1.canonicalEncoding())).hexString == "f9dad1fc469865485ec34e67ba4c35df867463390126d75ecf3d132578a0b8f5")
    }

    @Test func checkpointEncodeDecode() throws {
        let chain = Fixture.chain(count: 10, key: key)
        let cp = AuditCheckpoint.make(tenantID: "tenant.with/odd+chars", records: chain, timeMillis: 1_764_000_000_123, key: key)
        let text = cp.encoded()
        #expect(text.hasPrefix("ehrcp1."))
        let back = try AuditCheckpoint(encoded: text)
        #expect(back == cp)
        #expect(back.isValid(key: key))
        #expect(!back.isValid(key: SymmetricKey(size: .bits256)))
        for bad in ["", "ehrcp1.a.b.c.d.e", "ehrcp2" + text.dropFirst(6), text + ".x"] {
            #expect(throws: AuditCheckpointError.malformed) { try AuditCheckpoint(encoded: bad) }
        }
    }

    /// Caught by the round-trip property of Fuzz/FuzzAuditCheckpoint (seed `bom-tenant`): a tenant starting with a byte
    /// order mark lost it when parsed, so the checkpoint named another tenant and no longer verified.
    @Test func checkpointKeepsTheTenantByteForByte() throws {
        let cp = AuditCheckpoint.make(tenantID: "\u{FEFF}x", count: 0, headHash: AuditChain.genesisHash, timeMillis: 0, key: key)
        let text = cp.encoded()
        let back = try AuditCheckpoint(encoded: text)
        #expect(back == cp)
        #expect(back.isValid(key: key))
        // A tenant that is not UTF-8 is still refused.
        let notUTF8 = text.replacingOccurrences(of: "ehrcp1.77u_eA.", with: "ehrcp1._w.")
        #expect(notUTF8 != text)
        #expect(throws: AuditCheckpointError.malformed) { try AuditCheckpoint(encoded: notUTF8) }
    }

    @Test func forgedCheckpointRejected() {
        let chain = Fixture.chain(count: 10, key: key)
        let cp = AuditCheckpoint.make(tenantID: "t-acme", records: chain, timeMillis: 5, key: key)
        // Attacker lowers the count to hide a truncation but cannot re-sign.
        let lowered = AuditCheckpoint(
            tenantID: cp.tenantID, count: 5, headHash: chain[4].hash,
            timeMillis: cp.timeMillis, signature: cp.signature)
        let v = AuditChain.verify(records: Array(chain.prefix(5)), key: key, checkpoint: lowered)
        #expect(v.firstBreak?.reason == .invalidCheckpoint)
    }

    @Test func checkpointOfAnotherTenantFlagsRecords() {
        let chain = Fixture.chain(count: 3, key: key)
        let cp = AuditCheckpoint.make(tenantID: "t-other", count: 3, headHash: chain[2].hash, timeMillis: 1, key: key)
        #expect(AuditChain.verify(records: chain, key: key, checkpoint: cp).firstBreak?.reason == .wrongTenant("t-acme"))
        let pinned = AuditChain.verify(records: chain, key: key, tenantID: "t-other")
        #expect(pinned.firstBreak?.reason == .wrongTenant("t-acme"))
        #expect(pinned.firstBreak?.index == 0)
        #expect(AuditChain.verify(records: chain, key: key, tenantID: "t-acme").isIntact)
    }

    /// Documented limitation: with no checkpoint at all, removing the newest records leaves a valid shorter chain.
    @Test func truncationWithoutAnyCheckpointIsUndetectable() {
        let chain = Fixture.chain(count: 20, key: key)
        let v = AuditChain.verify(records: Array(chain.prefix(15)), key: key)
        #expect(v.isIntact)
        #expect(v.verifiedCount == 15)
    }
}

/// Hex text of MACs and hashes: lower case, two digits a byte, and read back in either case; anything else refused.
@Suite("Hex text")
struct HexTextTests {
    @Test func writesAndReadsAsFormatDoes() {
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 2, 15, 16, 32, 33, 100] {
            for _ in 0..<50 {
                let data = Data((0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) })
                let expected = data.map { String(format: "%02x", $0) }.joined()
                #expect(data.hexString == expected)
                #expect(Data(hexString: expected) == data)
                #expect(Data(hexString: expected.uppercased()) == data)
                // A slice keeps its own indices: the text is of its bytes, not of the whole buffer.
                let slice = (Data([0xAB]) + data)[1...]
                #expect(slice.hexString == expected)
            }
        }
        for bad in ["0", "abc", "0g", "zz", " 0a", "0a ", "+1", "éé", "0x00"] {
            #expect(Data(hexString: bad) == nil, "\(bad)")
        }
    }
}

/// The audit key made ready once gives HMAC-SHA256's own bytes, call after call: a MAC must not carry the state
/// of the one before it.
@Suite("Audit MAC key")
struct AuditMACKeyTests {
    @Test func macIsHMACsOwnEveryTime() {
        var generator = SystemRandomNumberGenerator()
        for keySize in [16, 32, 64, 65, 100] {
            let key = SymmetricKey(data: (0..<keySize).map { _ in UInt8.random(in: 0...255, using: &generator) })
            let ready = AuditMACKey(key)
            for length in [0, 1, 32, 55, 64, 200] {
                for _ in 0..<10 {
                    let hash = Data((0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) })
                    #expect(ready.mac(hash: hash) == Data(HMAC<SHA256>.authenticationCode(for: hash, using: key)))
                }
            }
        }
    }

    @Test func sealingWithTheReadyKeyEqualsSealingWithTheKey() {
        let key = SymmetricKey(size: .bits256)
        let chain = Fixture.chain(count: 5, key: key)
        var previous: AuditRecord?
        for record in chain {
            var draft = record
            draft.hash = Data()
            draft.mac = Data()
            let sealed = AuditChain.seal(
                draft, previousSequence: previous?.sequence ?? 0, previousHash: previous?.hash ?? AuditChain.genesisHash, macKey: AuditMACKey(key))
            #expect(sealed == record)
            previous = sealed
        }
    }
}
