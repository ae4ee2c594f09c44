import Foundation
import Hummingbird
import NIOCore
import Testing

@testable import EHRServer
@testable import HummingbirdCore

/// Answers of known length reach the server as one buffer (``SingleWriteResponseMiddleware``), which Hummingbird
/// writes with its head in one write; streams and large bodies go out as they are.
@Suite("Answers in one write")
struct SingleWriteResponseTests {
    private func streamed(_ chunks: [String], declaredLength: Int?) -> ResponseBody {
        ResponseBody(contentLength: declaredLength) { writer in
            for chunk in chunks { try await writer.write(ByteBuffer(string: chunk)) }
            try await writer.finish(nil)
        }
    }

    private func buffer(of body: ResponseBody) -> ByteBuffer? {
        if case .byteBuffer(let buffer) = body._backing { return buffer }
        return nil
    }

    @Test func aStreamedBodyOfKnownLengthBecomesOneBuffer() async throws {
        let chunks = ["{\"id\":", "\"a\",", "\"sections\":{\"narrative\":\"é\"}}"]
        let text = chunks.joined()
        let original = streamed(chunks, declaredLength: text.utf8.count)
        #expect(buffer(of: original) == nil, "the body starts as a stream")
        let gathered = try #require(try await SingleWriteResponseMiddleware.gathered(original))
        let bytes = try #require(buffer(of: gathered), "gathered into one buffer")
        #expect(String(buffer: bytes) == text)
        #expect(gathered.contentLength == text.utf8.count)
    }

    @Test func aBodyOfOneBufferIsKeptWhole() async throws {
        let gathered = try #require(try await SingleWriteResponseMiddleware.gathered(ResponseBody(byteBuffer: ByteBuffer(string: "[1,2,3]"))))
        #expect(buffer(of: gathered).map { String(buffer: $0) } == "[1,2,3]")
    }

    @Test func streamsEmptyAndLargeBodiesGoOutAsTheyAre() async throws {
        #expect(try await SingleWriteResponseMiddleware.gathered(streamed(["a", "b"], declaredLength: nil)) == nil, "unknown length")
        #expect(try await SingleWriteResponseMiddleware.gathered(ResponseBody()) == nil, "empty")
        let large = SingleWriteResponseMiddleware.largestGathered + 1
        #expect(try await SingleWriteResponseMiddleware.gathered(streamed([String(repeating: "x", count: large)], declaredLength: large)) == nil)
    }

    /// A generated route's answer (a note read back) through the whole app: the same bytes, and a Content-Length
    /// that matches them.
    @Test(arguments: TestBackend.all)
    func aGeneratedRoutesAnswerIsUnchanged(_ backend: TestBackend) async throws {
        try await withWorld(backend) { world in
            let demo = TestWorld.demo
            let reply = try await world.call(.get, "/api/v1/notes/\(demo.johnSignedNote.lowercasedString)", as: .smith)
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(reply.headers[.contentLength] == String(reply.body.readableBytes))
            #expect(reply.json["id"] as? String == demo.johnSignedNote.lowercasedString)
        }
    }
}
