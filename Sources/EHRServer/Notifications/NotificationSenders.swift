import Crypto
import EHRDomain
import Foundation
import NIOConcurrencyHelpers

/// A push as APNs takes it: the device owner, an `apns-id` that is the same for every attempt (APNs and the app
/// drop repeats), and a payload that holds nothing but the kind's fixed text.
struct PushMessage: Sendable, Equatable {
    var tenantID: UUID
    var userID: UUID
    var apnsID: UUID
    var kind: NotificationKind
    /// The JSON payload: `{"aps":{"alert":{"title","body"},"sound":"default"},"kind":…}`.
    var payload: String

    init(_ notification: OutboxNotification) {
        tenantID = notification.tenantID
        userID = notification.userID
        apnsID = Self.stableID(notification.idempotencyKey)
        kind = notification.kind
        let object: [String: Any] = [
            "aps": ["alert": ["title": notification.kind.title, "body": notification.kind.body], "sound": "default"],
            "kind": notification.kind.rawValue,
        ]
        payload = String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    /// A UUID made from the idempotency key (APNs ids are UUIDs), so a retry carries the same id.
    static func stableID(_ key: String) -> UUID {
        var bytes = Array(SHA256.hash(data: Data("mentalspace-notification:\(key)".utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10], bytes[11],
                bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }
}

/// An e-mail notification: plain text, the kind's fixed text only.
struct EmailMessage: Sendable, Equatable {
    var to: String
    var subject: String
    var body: String
    /// The same for every attempt (from the idempotency key), so a mail system can drop a repeat.
    var messageID: String

    init(to: String, _ notification: OutboxNotification) {
        self.to = to
        subject = notification.kind.body
        body = "\(notification.kind.body)\r\n\r\nThis message was sent by MentalSpace on behalf of your practice. Do not reply to it.\r\n"
        messageID = "<\(PushMessage.stableID(notification.idempotencyKey).lowercasedString)@notifications.mentalspace>"
    }
}

/// Delivers pushes (an APNs sender in a deployment with APNs credentials; ``RecordingPushSender`` otherwise).
protocol PushSender: Sendable {
    func send(_ push: PushMessage) async throws
}

/// Delivers e-mail (``SMTPMailer``).
protocol EmailSender: Sendable {
    func send(_ mail: EmailMessage) async throws
}

/// Keeps every push it is given, in order (development, tests, and deployments without APNs credentials).
final class RecordingPushSender: PushSender {
    private let sent = NIOLockedValueBox<[PushMessage]>([])

    init() {}

    func send(_ push: PushMessage) async throws {
        sent.withLockedValue { $0.append(push) }
    }

    var pushes: [PushMessage] { sent.withLockedValue { $0 } }
}
