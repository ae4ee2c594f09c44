import Crypto
import Foundation

/// Why a chain failed verification.
public enum AuditBreakReason: Sendable, Hashable {
    /// A field differs from what the stored hash covers (edited field or sequence number).
    case editedRecord
    /// The hash matches the fields but the MAC is not the audit key's (hash recomputed or record forged without the key).
    case badMAC
    /// A sequence number is missing: records were deleted.
    case missingRecord(expected: UInt64, found: UInt64)
    /// A sequence number already seen appears again: an authentic record was inserted as a copy.
    case insertedRecord(sequence: UInt64)
    /// A genuine record appears before its turn (records swapped or moved).
    case reordered(expected: UInt64, found: UInt64)
    /// `prevHash` does not match the previous record's hash although both records are authentic.
    case brokenLink
    /// A record belongs to another tenant.
    case wrongTenant(String)
    /// Fewer records than the checkpoint counted: the tail was truncated.
    case truncated(checkpointCount: UInt64, actualCount: UInt64)
    /// The record at the checkpoint's count has a different hash than the checkpoint's head.
    case checkpointMismatch
    /// The checkpoint's signature is not the audit key's (forged or altered checkpoint).
    case invalidCheckpoint
}

/// The first broken link found by ``AuditChain/verify(records:key:checkpoint:tenantID:)``.
public struct AuditBreak: Sendable, Hashable, Error {
    /// Index in the verified array where the break was detected (== count for truncation).
    public let index: Int
    /// Sequence number of the record at `index`, if any.
    public let sequence: UInt64?
    /// What is wrong.
    public let reason: AuditBreakReason
}

/// Outcome of a chain verification.
public struct AuditVerification: Sendable, Hashable {
    /// Records checked and found sound before the break (all of them when intact).
    public let verifiedCount: Int
    /// Hash of the last sound record (``AuditChain/genesisHash`` when none).
    public let headHash: Data
    /// The first break, or nil when the chain is intact.
    public let firstBreak: AuditBreak?
    /// True when no break was found.
    public var isIntact: Bool { firstBreak == nil }
}

/// Hash chain with HMAC over each link: the tamper-evidence core of the audit log.
///
/// `hash = SHA-256(canonical || prevHash)`, `mac = HMAC-SHA256(auditKey, hash)`. The audit key is
/// kept out of the database, so someone who can write the table but lacks the key cannot produce a
/// valid record; truncation of the tail is caught against an ``AuditCheckpoint`` kept elsewhere.
public enum AuditChain {
    /// `prevHash` of the first record: 32 zero bytes.
    public static let genesisHash = Data(repeating: 0, count: 32)

    /// MAC of a record hash under the audit key.
    public static func mac(hash: Data, key: SymmetricKey) -> Data {
        AuditMACKey(key).mac(hash: hash)
    }

    /// Returns `draft` with sequence = `previousSequence + 1`, `prevHash`, `hash` and `mac` filled in.
    /// Use `previousSequence: 0, previousHash: genesisHash` for the first record.
    public static func seal(
        _ draft: AuditRecord, previousSequence: UInt64, previousHash: Data, key: SymmetricKey
    ) -> AuditRecord {
        seal(draft, previousSequence: previousSequence, previousHash: previousHash, macKey: AuditMACKey(key))
    }

    /// ``seal(_:previousSequence:previousHash:key:)`` with the audit key made ready once (``AuditMACKey``).
    public static func seal(
        _ draft: AuditRecord, previousSequence: UInt64, previousHash: Data, macKey: AuditMACKey
    ) -> AuditRecord {
        var r = draft
        r.sequence = previousSequence + 1
        r.prevHash = previousHash
        r.hash = r.computedHash()
        r.mac = macKey.mac(hash: r.hash)
        return r
    }

    /// Seals `draft` after `previous` (nil: first record of the chain).
    public static func seal(_ draft: AuditRecord, after previous: AuditRecord?, key: SymmetricKey) -> AuditRecord {
        seal(draft, previousSequence: previous?.sequence ?? 0, previousHash: previous?.hash ?? genesisHash, key: key)
    }

    /// Seals a batch of drafts in order after `previous` (a group-commit flush).
    public static func sealBatch(_ drafts: [AuditRecord], after previous: AuditRecord?, key: SymmetricKey) -> [AuditRecord] {
        var prev = previous
        return drafts.map { d in
            let r = seal(d, after: prev, key: key)
            prev = r
            return r
        }
    }

    /// Walks one tenant's full chain in the given order (read it `ORDER BY sequence` or insertion order),
    /// expecting sequences 1, 2, 3, …, and reports the first broken link. See ``AuditChainVerifier`` for what
    /// is checked; this array form also tells a record that appears before its turn (`reordered`) from a
    /// deleted one, by looking ahead.
    ///
    /// Every record must belong to `tenantID` when given, else to the checkpoint's tenant, else to the first record's.
    public static func verify(
        records: [AuditRecord], key: SymmetricKey, checkpoint: AuditCheckpoint? = nil, tenantID: String? = nil
    ) -> AuditVerification {
        var verifier = AuditChainVerifier(key: key, tenantID: tenantID ?? checkpoint?.tenantID ?? records.first?.tenantID, checkpoint: checkpoint)
        for (i, record) in records.enumerated() where !verifier.feed(record) {
            if case .missingRecord(let expected, let found)? = verifier.firstBreak?.reason,
                records[(i + 1)...].contains(where: { $0.sequence == expected })
            {
                return AuditVerification(
                    verifiedCount: i, headHash: verifier.headHash,
                    firstBreak: AuditBreak(index: i, sequence: record.sequence, reason: .reordered(expected: expected, found: found)))
            }
            break
        }
        return verifier.finish()
    }
}

/// Verifies a chain one record at a time, so a chain of any length is checked in constant memory (the
/// database is read page by page). Each record is checked for: same tenant, hash over its fields (edits),
/// MAC (forgeries), sequence (deletion, insertion) and link to the previous hash. With a `checkpoint` (whose
/// signature is checked first) the chain must hold at least `checkpoint.count` records and record `count`
/// must have the checkpoint's head hash (truncation, rewriting behind the checkpoint). Without a checkpoint,
/// truncating the tail cannot be detected.
public struct AuditChainVerifier: Sendable {
    let key: SymmetricKey
    private let macKey: AuditMACKey
    private var tenantID: String?
    let checkpoint: AuditCheckpoint?
    /// Hash of the last sound record (``AuditChain/genesisHash`` when none).
    public private(set) var headHash = AuditChain.genesisHash
    /// Records fed and found sound.
    public private(set) var verifiedCount = 0
    /// The first break, once found; later records are not looked at.
    public private(set) var firstBreak: AuditBreak?

    /// - Parameter tenantID: the tenant every record must belong to (nil: the first record's).
    public init(key: SymmetricKey, tenantID: String?, checkpoint: AuditCheckpoint? = nil) {
        self.key = key
        self.macKey = AuditMACKey(key)
        self.tenantID = tenantID ?? checkpoint?.tenantID
        self.checkpoint = checkpoint
        if let checkpoint, !checkpoint.isValid(key: key) {
            firstBreak = AuditBreak(index: 0, sequence: nil, reason: .invalidCheckpoint)
        }
    }

    /// Checks the next record; false once the chain is broken (here or before).
    @discardableResult
    public mutating func feed(_ r: AuditRecord) -> Bool {
        guard firstBreak == nil else { return false }
        let expected = UInt64(verifiedCount) + 1
        if tenantID == nil { tenantID = r.tenantID }
        let reason: AuditBreakReason?
        if r.tenantID != tenantID {
            reason = .wrongTenant(r.tenantID)
        } else if !constantTimeEquals(r.computedHash(), r.hash) {
            reason = .editedRecord
        } else if !constantTimeEquals(macKey.mac(hash: r.hash), r.mac) {
            reason = .badMAC
        } else if r.sequence > expected {
            reason = .missingRecord(expected: expected, found: r.sequence)
        } else if r.sequence < expected {
            // Every lower sequence number was already seen in order: this is a second copy.
            reason = .insertedRecord(sequence: r.sequence)
        } else if !constantTimeEquals(r.prevHash, headHash) {
            reason = .brokenLink
        } else if let checkpoint, r.sequence == checkpoint.count, !constantTimeEquals(r.hash, checkpoint.headHash) {
            reason = .checkpointMismatch
        } else {
            reason = nil
        }
        if let reason {
            firstBreak = AuditBreak(index: verifiedCount, sequence: r.sequence, reason: reason)
            return false
        }
        headHash = r.hash
        verifiedCount += 1
        return true
    }

    /// The result once every record was fed: the first break, or the checkpoint's checks of the end.
    public func finish() -> AuditVerification {
        if let firstBreak { return AuditVerification(verifiedCount: verifiedCount, headHash: headHash, firstBreak: firstBreak) }
        let count = UInt64(verifiedCount)
        if let checkpoint {
            if count < checkpoint.count {
                return AuditVerification(
                    verifiedCount: verifiedCount, headHash: headHash,
                    firstBreak: AuditBreak(
                        index: verifiedCount, sequence: nil, reason: .truncated(checkpointCount: checkpoint.count, actualCount: count)))
            }
            if checkpoint.count == 0, !constantTimeEquals(checkpoint.headHash, AuditChain.genesisHash) {
                return AuditVerification(
                    verifiedCount: verifiedCount, headHash: headHash, firstBreak: AuditBreak(index: 0, sequence: nil, reason: .checkpointMismatch))
            }
        }
        return AuditVerification(verifiedCount: verifiedCount, headHash: headHash, firstBreak: nil)
    }
}
