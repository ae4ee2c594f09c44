import NIOConcurrencyHelpers
import NIOCore

/// A list page's JSON written by its handler straight into a buffer (``AppointmentListJSON``), carried past the
/// generated serializer to ``NullCursorMiddleware``, which answers with it. The handler then returns an empty
/// page for the generated code to encode, which costs next to nothing; a handler that writes nothing here is
/// answered as usual.
final class HotListBody: Sendable {
    @TaskLocal static var current: HotListBody?
    private let body = NIOLockedValueBox<ByteBuffer?>(nil)

    func set(_ buffer: ByteBuffer) { body.withLockedValue { $0 = buffer } }
    var buffer: ByteBuffer? { body.withLockedValue { $0 } }
}
