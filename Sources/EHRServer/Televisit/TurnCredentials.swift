import Crypto
import Foundation

/// The ICE servers a televisit participant is handed, with TURN credentials in coturn's REST scheme
/// (`use-auth-secret`): the username is `<expiry>:<opaque id>`, the password base64(HMAC-SHA1(secret, username)).
/// coturn checks both and the expiry without asking the service, so a credential cannot outlive its appointment
/// and says nothing about who holds it.
struct TurnCredentials: Sendable {
    let urls: [String]
    let secret: String?

    /// The `iceServers` of an `RTCPeerConnection` (empty: peers on one network need none), valid until `until`.
    func iceServers(for connectionID: UUID, until: Date) -> [[String: Any]] {
        let stun = urls.filter { $0.hasPrefix("stun:") }
        let turn = urls.filter { !$0.hasPrefix("stun:") }
        var servers: [[String: Any]] = []
        if !stun.isEmpty { servers.append(["urls": stun]) }
        if !turn.isEmpty, let secret {
            let username = "\(Int(until.timeIntervalSince1970)):\(connectionID.uuidString.lowercased())"
            servers.append(["urls": turn, "username": username, "credential": Self.password(username, secret: secret)])
        }
        return servers
    }

    /// coturn's password for `username` under the shared secret.
    static func password(_ username: String, secret: String) -> String {
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data(username.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return Data(mac).base64EncodedString()
    }
}
