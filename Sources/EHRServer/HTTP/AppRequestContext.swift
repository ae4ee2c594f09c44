import Hummingbird
import NIOCore

/// The Hummingbird request context: adds the peer address (for sign-in throttling and, later, audit).
public struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// Bodies above 1 MiB are refused with 413 before any handler sees them.
    public var maxUploadSize: Int { RequestLimits.maximumBodySize }
}

/// Request limits, in one place.
public enum RequestLimits {
    public static let maximumBodySize = 1 << 20
}
