import Crypto
import EHRSecurity
import Foundation
import Testing

@Suite("Audit tampering")
struct AuditTamperingTests {
    enum Kind: String, CaseIterable {
        case editField, editFieldRecomputeHash, deleteRecord, insertForged, insertReplayedCopy
        case swapRecords, swapRowContents, truncateHeadCheckpoint, truncateOlderCheckpoint
        case truncateThenAppendForged, keyHolderRewriteBehindCheckpoint
    }

    static let fieldCount = 17

    /// Changes field `field` of `r` to a different value.
    static func edit(_ r: inout AuditRecord, field: Int, rng: inout SplitMix64) {
        switch field {
        case 0: r.sequence += UInt64.random(in: 1...5, using: &rng)
        case 1: r.tenantID += "x"
        case 2: r.actorID = "user-forged"
        case 3: r.actorRole = r.actorRole == "admin" ? "clinician" : "admin"
        case 4: r.action += ".x"
        case 5: r.resourceType += "x"
        case 6: r.resourceID = r.resourceID == nil ? "forged" : nil
        case 7: r.patientID = r.patientID == nil ? "pat-forged" : (r.patientID! + "x")
        case 8: r.outcome = r.outcome == "allowed" ? "denied" : "allowed"
        case 9: r.requestID += "x"
        case 10: r.clientIP = r.clientIP == nil ? "1.2.3.4" : nil
        case 11: r.userAgent = (r.userAgent ?? "") + "x"
        case 12: r.timeMillis += Int64.random(in: 1...86_400_000, using: &rng)
        case 13: r.changedFields = r.changedFields.isEmpty ? ["dateOfBirth"] : Array(r.changedFields.dropLast())
        case 14: r.prevHash[Int.random(in: 0..<32, using: &rng)] ^= 0x80
        case 15: r.hash[Int.random(in: 0..<32, using: &rng)] ^= 0x01
        default: r.mac[Int.random(in: 0..<32, using: &rng)] ^= 0x01
        }
    }

    @Test func thousandRandomTamperingsAreAllDetected() throws {
        let key = SymmetricKey(size: .bits256)
        let attackerKey = SymmetricKey(size: .bits256)
        let n = 200
        let chain = Fixture.chain(count: n, key: key)
        let head = AuditCheckpoint.make(tenantID: "t-acme", records: chain, timeMillis: 1, key: key)
        #expect(AuditChain.verify(records: chain, key: key, checkpoint: head).isIntact)

        var rng = SplitMix64(seed: 0xEC0_2026)
        var detected = 0
        var perKind: [Kind: Int] = [:]
        var perReason: [String: Int] = [:]
        let trials = 1_000
        for trial in 0..<trials {
            let kind = Kind.allCases[trial % Kind.allCases.count]
            var records = chain  // fresh copy
            var checkpoint: AuditCheckpoint? = nil
            var expectedIndex: Int? = nil
            switch kind {
            case .editField:
                let i = Int.random(in: 0..<n, using: &rng)
                Self.edit(&records[i], field: Int.random(in: 0..<Self.fieldCount, using: &rng), rng: &rng)
                expectedIndex = i
            case .editFieldRecomputeHash:
                let i = Int.random(in: 0..<n, using: &rng)
                Self.edit(&records[i], field: Int.random(in: 2...13, using: &rng), rng: &rng)
                records[i].hash = records[i].computedHash()
                expectedIndex = i
            case .deleteRecord:
                let i = Int.random(in: 0..<(n - 1), using: &rng)  // deleting the last one is truncation
                records.remove(at: i)
                expectedIndex = i
            case .insertForged:
                let p = Int.random(in: 0...n, using: &rng)
                var forged = Fixture.draft(10_000 + trial)
                forged = AuditChain.seal(
                    forged, previousSequence: UInt64(p),
                    previousHash: p == 0 ? AuditChain.genesisHash : records[p - 1].hash,
                    key: attackerKey)
                forged.sequence = UInt64(p + 1)
                forged.hash = forged.computedHash()
                forged.mac = AuditChain.mac(hash: forged.hash, key: attackerKey)
                records.insert(forged, at: p)
                expectedIndex = p
            case .insertReplayedCopy:
                let j = Int.random(in: 0..<n, using: &rng)
                let p = Int.random(in: 0...n, using: &rng)
                records.insert(chain[j], at: p)
            case .swapRecords:
                let i = Int.random(in: 0..<n, using: &rng)
                var j = Int.random(in: 0..<n - 1, using: &rng)
                if j >= i { j += 1 }
                records.swapAt(i, j)
                expectedIndex = min(i, j)
            case .swapRowContents:
                // Swap everything but the sequence numbers (the row keys) of two rows.
                let i = Int.random(in: 0..<n, using: &rng)
                var j = Int.random(in: 0..<n - 1, using: &rng)
                if j >= i { j += 1 }
                let (si, sj) = (records[i].sequence, records[j].sequence)
                records.swapAt(i, j)
                records[i].sequence = si
                records[j].sequence = sj
                expectedIndex = min(i, j)
            case .truncateHeadCheckpoint:
                let k = Int.random(in: 1...n, using: &rng)
                records.removeLast(k)
                checkpoint = head
            case .truncateOlderCheckpoint:
                let c = Int.random(in: 1...n, using: &rng)
                checkpoint = AuditCheckpoint.make(tenantID: "t-acme", records: Array(chain.prefix(c)), timeMillis: 1, key: key)
                records.removeLast(n - Int.random(in: 0..<c, using: &rng))
            case .truncateThenAppendForged:
                // Without any checkpoint: attacker cuts the tail and appends look-alike records to hide the cut.
                let keep = Int.random(in: 0..<n, using: &rng)
                records.removeLast(n - keep)
                let fakes = AuditChain.sealBatch(
                    (0..<Int.random(in: 1...5, using: &rng)).map { Fixture.draft(20_000 + $0) },
                    after: records.last, key: attackerKey)
                records += fakes
                expectedIndex = keep
            case .keyHolderRewriteBehindCheckpoint:
                // Even someone holding the audit key cannot rewrite history covered by a checkpoint kept elsewhere.
                let i = Int.random(in: 0..<n, using: &rng)
                var d = records[i]
                Self.edit(&d, field: Int.random(in: 2...13, using: &rng), rng: &rng)
                let resealed = AuditChain.sealBatch(
                    Array(records[i...]).enumerated().map { $0.offset == 0 ? d : $0.element },
                    after: i == 0 ? nil : records[i - 1], key: key)
                records.replaceSubrange(i..., with: resealed)
                checkpoint = head
            }

            let result = AuditChain.verify(records: records, key: key, checkpoint: checkpoint)
            #expect(!result.isIntact, "undetected tampering #\(trial) kind \(kind)")
            if let b = result.firstBreak {
                detected += 1
                perKind[kind, default: 0] += 1
                let label = "\(b.reason)".split(separator: "(").first.map(String.init) ?? "?"
                perReason[label, default: 0] += 1
                if let expectedIndex { #expect(b.index == expectedIndex, "trial \(trial) \(kind): \(b)") }
            }
        }
        print("Audit tampering: detected \(detected) of \(trials)")
        print("  by kind:", perKind.map { "\($0.key.rawValue)=\($0.value)" }.sorted().joined(separator: " "))
        print("  by first-break reason:", perReason.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " "))
        #expect(detected == trials)
    }
}
