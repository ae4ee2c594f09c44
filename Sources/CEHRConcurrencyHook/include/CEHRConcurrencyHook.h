#ifndef CEHR_CONCURRENCY_HOOK_H
#define CEHR_CONCURRENCY_HOOK_H

/// The address of the Swift runtime's `swift_task_enqueueGlobal_hook` (where Swift concurrency's global executor can
/// be replaced), or NULL when this binary has no Swift concurrency runtime.
///
/// swift-nio finds the hook with dlsym, which sees only exported symbols. A binary built with
/// `--static-swift-stdlib` links the runtime in with `--exclude-libs ALL`, so the hook is there but not exported:
/// dlsym finds nothing and NIO's take-over silently does not happen. This reaches it at link time instead.
void *_Nullable *_Nullable cehr_swift_task_enqueue_global_hook(void);

#endif
