#include "CEHRConcurrencyHook.h"

#include <dlfcn.h>
#include <stddef.h>

// Weak: a build without the symbol links, and the address is then NULL.
extern void *swift_task_enqueueGlobal_hook __attribute__((weak));

void **cehr_swift_task_enqueue_global_hook(void) {
    // A dynamically linked runtime exports the hook: take the library's own (what dlsym returns), never a copy.
    void **exported = dlsym(RTLD_DEFAULT, "swift_task_enqueueGlobal_hook");
    if (exported != NULL) return exported;
    return &swift_task_enqueueGlobal_hook;
}
