import Crypto
import Foundation

/// Errors decoding an ``AuditCheckpoint`` string.
public enum AuditCheckpointError: Error, Equatable, Sendable {
    /// The text is not `ehrcp1.<tenant b64url>.<count>.<head hex>.<time ms>.<signature hex>`.
    case malformed
}

/// A signed statement of a tenant chain's head (count and head hash at a time), kept outside
/// the database so ``AuditChain/verify(records:key:checkpoint:tenantID:)`` can detect truncation.
public struct AuditCheckpoint: Sendable, Hashable {
    /// Text prefix of the encoded form.
    public static let prefix = "ehrcp1"
    /// Tenant of the chain.
    public let tenantID: String
    /// Number of records in the chain (== sequence of the head record).
    public let count: UInt64
    /// Hash of record `count` (``AuditChain/genesisHash`` when count is 0).
    public let headHash: Data
    /// Time the checkpoint was taken, ms since 1970 UTC.
    public let timeMillis: Int64
    /// HMAC-SHA256 under the audit key over the other fields.
    public let signature: Data

    /// Creates and signs a checkpoint.
    public static func make(tenantID: String, count: UInt64, headHash: Data, timeMillis: Int64, key: SymmetricKey) -> AuditCheckpoint {
        let sig = Data(
            HMAC<SHA256>.authenticationCode(
                for: signedBytes(tenantID: tenantID, count: count, headHash: headHash, timeMillis: timeMillis), using: key))
        return AuditCheckpoint(tenantID: tenantID, count: count, headHash: headHash, timeMillis: timeMillis, signature: sig)
    }

    /// Signs the head of `records` (a full chain in sequence order).
    public static func make(tenantID: String, records: [AuditRecord], timeMillis: Int64, key: SymmetricKey) -> AuditCheckpoint {
        make(
            tenantID: tenantID, count: UInt64(records.count), headHash: records.last?.hash ?? AuditChain.genesisHash,
            timeMillis: timeMillis, key: key)
    }

    /// Creates a checkpoint from its parts without signing (e.g. after decoding); check ``isValid(key:)``.
    public init(tenantID: String, count: UInt64, headHash: Data, timeMillis: Int64, signature: Data) {
        self.tenantID = tenantID
        self.count = count
        self.headHash = headHash
        self.timeMillis = timeMillis
        self.signature = signature
    }

    /// True when the signature is the audit key's over these fields.
    public func isValid(key: SymmetricKey) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(
            signature,
            authenticating: Self.signedBytes(tenantID: tenantID, count: count, headHash: headHash, timeMillis: timeMillis),
            using: key)
    }

    /// Text form: `ehrcp1.<tenant base64url>.<count>.<head hex>.<time ms>.<signature hex>`.
    public func encoded() -> String {
        let t = Data(tenantID.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return [Self.prefix, t, String(count), headHash.hexString, String(timeMillis), signature.hexString]
            .joined(separator: ".")
    }

    /// Parses ``encoded()`` output (does not check the signature).
    /// - Throws: ``AuditCheckpointError/malformed``.
    public init(encoded text: String) throws {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == Self.prefix else { throw AuditCheckpointError.malformed }
        var b64 = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        guard let tenantData = Data(base64Encoded: b64) else { throw AuditCheckpointError.malformed }
        // Byte for byte: Foundation's UTF-8 decoding drops a leading byte order mark, which would change the tenant.
        let tenant = String(decoding: tenantData, as: UTF8.self)
        guard Data(tenant.utf8) == tenantData,
            let count = UInt64(parts[2]), let head = Data(hexString: String(parts[3])), head.count == 32,
            let time = Int64(parts[4]), let sig = Data(hexString: String(parts[5])), sig.count == 32
        else { throw AuditCheckpointError.malformed }
        self.init(tenantID: tenant, count: count, headHash: head, timeMillis: time, signature: sig)
    }

    private static func signedBytes(tenantID: String, count: UInt64, headHash: Data, timeMillis: Int64) -> Data {
        var w = CanonicalWriter(domain: "ehr-audit-checkpoint-v1")
        w.string(tenantID)
        w.u64(count)
        w.data(headHash)
        w.i64(timeMillis)
        return w.bytes
    }
}
