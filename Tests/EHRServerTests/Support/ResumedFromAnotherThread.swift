import Foundation

/// Suspends and is resumed from a new thread that belongs to no event loop, as work finished elsewhere resumes its
/// caller (for tests of which loop a task goes on).
func resumedFromAnotherThread() async {
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
        Thread.detachNewThread { done.resume() }
    }
}
