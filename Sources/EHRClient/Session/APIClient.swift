import Foundation
import OpenAPIRuntime
import OpenAPIURLSession

/// The generated client, authenticated by the ``SessionManager`` (bearer token, refresh and one retry on 401).
public struct APIClient: Sendable {
    public let session: SessionManager
    let transport: any ClientTransport

    public init(session: SessionManager, transport: any ClientTransport = URLSessionTransport()) {
        self.session = session
        self.transport = transport
    }

    func client() async throws(ClientError) -> Client {
        guard let info = await session.current else { throw .notSignedIn }
        return SessionManager.client(server: info.serverURL, transport: transport, middlewares: [BearerTokenMiddleware(session: session)])
    }
}
