import NIOCore
import NIOPosix

/// A task executor that runs its jobs on one of the server's event loops (swift-nio's loops are serial executors,
/// not task executors). A request prefers its connection's loop (`ConnectionLoopMiddleware`), and work handed to a
/// task of its own under a checkout prefers the caller's loop (``ConnectionDeadline``), so neither continues on
/// whichever thread finished what it awaited.
public final class EventLoopTaskExecutor: TaskExecutor {
    public let loop: any EventLoop

    private init(loop: any EventLoop) {
        self.loop = loop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// The executor of one of the singleton group's loops (the server's), nil for any other loop.
    public static func of(_ loop: any EventLoop) -> EventLoopTaskExecutor? {
        all.first { $0.loop === loop }
    }

    /// The executor of the loop the caller runs on, nil off the server's loops.
    public static var current: EventLoopTaskExecutor? {
        MultiThreadedEventLoopGroup.currentEventLoop.flatMap(of)
    }

    /// The executors of all the singleton group's loops, in the group's order.
    public static let all: [EventLoopTaskExecutor] = MultiThreadedEventLoopGroup.singleton.makeIterator().map {
        EventLoopTaskExecutor(loop: $0)
    }
}
