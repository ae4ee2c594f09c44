import EHRPersistence
import Hummingbird
import NIOCore

/// Keeps a request's work on the event loop its connection lives on. Without it, a request resumed by work that
/// finished on another loop ran on: every list's audit event is committed by SQLite's writer, whose connection
/// belongs to the first loop, so the rest of each request (its log line, its metrics, the hand-over of the answer)
/// ran there too, and the answer then hopped back to its connection's loop. The first loop did twice the second's
/// work (63% of a core against 35% under the SQLite list load).
struct ConnectionLoopMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let executor = EventLoopTaskExecutor.of(context.eventLoop) else { return try await next(request, context) }
        return try await withTaskExecutorPreference(executor) { try await next(request, context) }
    }
}
