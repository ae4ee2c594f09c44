import Crypto
import Foundation

/// Exact-match search tokens over encrypted columns: HMAC-SHA256 with a key per tenant and per column.
///
/// The column key is `HKDF-SHA256(tenantIndexKey, salt: tenant id, info: column name)`, so the same
/// value gives unrelated tokens in different tenants and columns. Callers normalise the value first
/// (``normalizeEmail(_:)``, ``normalizePhone(_:)``, ``normalizeName(_:)``) or use the convenience methods.
public struct BlindIndex: Sendable {
    /// Text form of index values.
    public enum OutputEncoding: Sendable {
        /// 64 lower-case hex digits.
        case hex
        /// 44 characters of standard base64.
        case base64
    }

    /// Tenant owning the index key.
    public let tenantID: String
    /// Output text form.
    public let encoding: OutputEncoding
    private let tenantIndexKey: SymmetricKey

    /// Creates an index for one tenant from that tenant's index key (keep it wrapped like data keys).
    public init(tenantID: String, tenantIndexKey: SymmetricKey, encoding: OutputEncoding = .hex) {
        self.tenantID = tenantID
        self.tenantIndexKey = tenantIndexKey
        self.encoding = encoding
    }

    /// The derived key for `column`.
    public func columnKey(_ column: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: tenantIndexKey, salt: Data(tenantID.utf8), info: Data(column.utf8), outputByteCount: 32)
    }

    /// Index value of an already-normalised value in `column`.
    public func index(_ normalized: String, column: String) -> String {
        let mac = Data(HMAC<SHA256>.authenticationCode(for: Data(normalized.utf8), using: columnKey(column)))
        switch encoding {
        case .hex: return mac.hexString
        case .base64: return mac.base64EncodedString()
        }
    }

    /// Index value of several normalised components (e.g. last name + date of birth), length-prefixed so
    /// `("ab","c")` and `("a","bc")` differ.
    public func index(components: [String], column: String) -> String {
        var w = CanonicalWriter(domain: "ehr-bidx-composite-v1")
        w.strings(components)
        return index(w.bytes.base64EncodedString(), column: column)
    }

    /// Index of `raw` after ``normalizeEmail(_:)``.
    public func email(_ raw: String, column: String = "email") -> String { index(Self.normalizeEmail(raw), column: column) }
    /// Index of `raw` after ``normalizePhone(_:)``.
    public func phone(_ raw: String, column: String = "phone") -> String { index(Self.normalizePhone(raw), column: column) }
    /// Index of `raw` after ``normalizeName(_:)``.
    public func name(_ raw: String, column: String) -> String { index(Self.normalizeName(raw), column: column) }

    /// Trims whitespace and lower-cases.
    public static func normalizeEmail(_ raw: String) -> String {
        raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    /// Keeps ASCII digits only (`+1 (555) 010-2000` → `15550102000`).
    public static func normalizePhone(_ raw: String) -> String {
        String(raw.unicodeScalars.filter { $0.value >= 48 && $0.value <= 57 }.map(Character.init))
    }

    /// Trims, collapses inner whitespace to one space, lower-cases and removes diacritics (`  José  ÁLVAREZ` → `jose alvarez`).
    public static func normalizeName(_ raw: String) -> String {
        let folded = raw.folding(options: [.diacriticInsensitive, .caseInsensitive, .widthInsensitive], locale: nil)
        return folded.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ").lowercased()
    }
}
