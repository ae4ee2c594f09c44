import HTTPTypes
import Hummingbird
import NIOCore

/// Hands the server each answer of known length as one buffer, so its head and body leave in one write. The
/// generated routes answer with a body the server streams (swift-openapi-hummingbird wraps every `HTTPBody`
/// in a writing closure), and Hummingbird writes such a body's head on its own: two `write` calls, two TCP
/// segments and two wake-ups of the client per answer (`strace` of `bench/profile notes`: 264 bytes of head,
/// then 412 of body, for every note). Answers of unknown length (streams) and larger than
/// ``largestGathered`` go out as they are. Innermost, so the middleware around it sees the gathered answer.
struct SingleWriteResponseMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    /// The largest body gathered in memory (API answers are far smaller; a page of 100 records is about 60 kB).
    static let largestGathered = 1 << 20

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if let body = try await Self.gathered(response.body) { response.body = body }
        return response
    }

    /// `body` as one buffer, or nil when it goes out as it is (empty, of unknown length, or too large).
    static func gathered(_ body: ResponseBody) async throws -> ResponseBody? {
        guard let length = body.contentLength, length > 0, length <= largestGathered else { return nil }
        let gathered = GatheredBody()
        try await body.write(GatheringWriter(into: gathered))
        return .init(byteBuffer: gathered.buffer ?? ByteBuffer())
    }
}

/// What a ``GatheringWriter`` received (written by one writer at a time, in order).
final class GatheredBody: @unchecked Sendable {
    var buffer: ByteBuffer?
}

/// Gathers a response body in memory; a body of one buffer is kept as it is, without a copy.
struct GatheringWriter: ResponseBodyWriter {
    let into: GatheredBody

    mutating func write(_ buffer: ByteBuffer) async throws {
        guard into.buffer != nil else {
            into.buffer = buffer
            return
        }
        var buffer = buffer
        into.buffer!.writeBuffer(&buffer)
    }

    mutating func write(contentsOf buffers: some Sequence<ByteBuffer>) async throws {
        for buffer in buffers { try await write(buffer) }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
