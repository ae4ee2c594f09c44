import HTTPTypes
import Hummingbird
import NIOCore

/// The contract says a list's `nextCursor` is `null` on the last page; generated encoders omit nil
/// properties instead. Lists are encoded with sorted keys, so a body without a cursor ends in `]}`:
/// this adds the explicit `"nextCursor":null` there. A list whose handler wrote its page itself
/// (``HotListBody``, cursor included) is answered with that page.
struct NullCursorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard context.route.operation?.isList == true else { return try await next(request, context) }
        let hot = HotListBody()
        let response = try await HotListBody.$current.withValue(hot) { try await next(request, context) }
        guard response.status == .ok else { return response }
        if let page = hot.buffer {
            var written = response
            written.headers[.contentLength] = String(page.readableBytes)
            written.body = .init(byteBuffer: page)
            return written
        }
        let gathered = GatheredBody()
        try await response.body.write(GatheringWriter(into: gathered))
        var buffer = gathered.buffer ?? ByteBuffer()
        let bytes = buffer.readableBytesView
        guard bytes.count >= 2, bytes[bytes.endIndex - 1] == UInt8(ascii: "}"), bytes[bytes.endIndex - 2] == UInt8(ascii: "]") else {
            var unchanged = response
            unchanged.body = .init(byteBuffer: buffer)
            return unchanged
        }
        buffer.moveWriterIndex(to: buffer.writerIndex - 1)
        buffer.writeString(",\"nextCursor\":null}")
        var patched = response
        patched.headers[.contentLength] = String(buffer.readableBytes)
        patched.body = .init(byteBuffer: buffer)
        return patched
    }
}
