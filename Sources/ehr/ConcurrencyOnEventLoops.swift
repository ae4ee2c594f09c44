import CEHRConcurrencyHook
import NIOCore
import NIOPosix

/// Runs Swift concurrency's jobs on NIO's singleton event loops (the ones serving HTTP and the database pools), so a
/// request does not hop threads at every await on a socket.
enum ConcurrencyOnEventLoops {
    /// How the take-over went.
    enum Outcome: String {
        /// swift-nio's own take-over (a dynamically linked Swift runtime).
        case nio
        /// This binary's, through the hook reached at link time (the statically linked build that ships).
        case linkedHook = "linked hook"
        /// Neither: jobs stay on the runtime's own threads.
        case notInstalled = "not installed"
    }

    private typealias EnqueueGlobalHook = @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void

    /// Installs the event loops as the global executor; call once, at start.
    ///
    /// NIO looks the runtime's hook up with dlsym; in a `--static-swift-stdlib` build the hook is linked in but not
    /// exported, NIO's take-over returns false and every job ran on the runtime's own threads: twice as many
    /// context switches per note and a fifth fewer notes a second than the dynamically linked build
    /// (`bench/profile notes`, five alternating pairs). Then this installs the same hook NIO would.
    static func install() -> Outcome {
        if NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor() { return .nio }
        guard let hook = cehr_swift_task_enqueue_global_hook() else { return .notInstalled }
        let enqueueOnEventLoop: EnqueueGlobalHook = { job, _ in
            // `any()` is sticky: a job enqueued from one of the group's loops stays on that loop (no thread switch).
            MultiThreadedEventLoopGroup.singleton.any().executor.enqueue(job)
        }
        return withUnsafePointer(to: enqueueOnEventLoop) { pointer in
            pointer.withMemoryRebound(to: UnsafeMutableRawPointer?.self, capacity: 1) { function in
                // Only when nothing else installed one (as NIO does, though without its atomic exchange: this runs
                // at start, before any other thread could).
                guard hook.pointee == nil else { return .notInstalled }
                hook.pointee = function.pointee
                return .linkedHook
            }
        }
    }
}
