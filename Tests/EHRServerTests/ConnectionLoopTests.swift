import EHRPersistence
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded
import NIOPosix
import Testing

@testable import EHRServer

/// A request's work stays on its connection's event loop, however the work it awaited finished (see
/// ``ConnectionLoopMiddleware``).
@Suite("Connection loop") struct ConnectionLoopTests {
    @Test func workResumedFromAnotherThreadContinuesOnTheConnectionsLoop() async throws {
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let context = AppRequestContext(source: ApplicationRequestContextSource(channel: channel, logger: Logger(label: "test")))
        let request = Request(head: HTTPRequest(method: .get, scheme: "http", authority: "localhost", path: "/"), body: RequestBody(buffer: ByteBuffer()))
        let response = try await ConnectionLoopMiddleware().handle(request, context: context) { _, context in
            var onItsLoop = 0
            for _ in 0..<20 {
                await resumedFromAnotherThread()
                if context.eventLoop.inEventLoop { onItsLoop += 1 }
            }
            return Response(status: onItsLoop == 20 ? .ok : .conflict)
        }
        try await channel.close()
        #expect(response.status == .ok)
    }

    @Test func onlyTheServersLoopsHaveAnExecutor() {
        #expect(EventLoopTaskExecutor.of(EmbeddedEventLoop()) == nil)
        #expect(EventLoopTaskExecutor.of(MultiThreadedEventLoopGroup.singleton.any()) != nil)
    }
}
