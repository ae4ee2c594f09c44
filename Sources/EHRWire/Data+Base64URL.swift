import Foundation

extension Data {
    /// Base64url (RFC 4648 section 5) without padding: safe in paths, query strings and cookies.
    public func base64URLEncoded() -> String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Parses base64url, padded or not; nil when `string` is not base64url.
    public init?(base64URLEncoded string: String) {
        var b64 = string.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        self.init(base64Encoded: b64)
    }
}
