import Hummingbird
import NIOCore

/// The Hummingbird request context: the peer address (for the client address behind trusted proxies) and
/// the operation the router matched (set once by ``OperationMiddleware``).
public struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// The loop of the request's connection (see ``ConnectionLoopMiddleware``).
    let eventLoop: any EventLoop
    /// Which operation this request is; every middleware after ``OperationMiddleware`` reads it.
    var route: RequestRoute = .unknown
    /// For a page: the browser's session, when signed in (set by ``WebGate``).
    var webSession: WebSession?
    /// For a page's form post: the form, its CSRF token already checked (set by ``WebGate``).
    var form: WebForm?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
        self.eventLoop = source.channel.eventLoop
    }

    /// Bodies above 1 MiB are refused with 413 before any handler sees them.
    public var maxUploadSize: Int { RequestLimits.maximumBodySize }
}

/// Request limits, in one place.
public enum RequestLimits {
    public static let maximumBodySize = 1 << 20
}
