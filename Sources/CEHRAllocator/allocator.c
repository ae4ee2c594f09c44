#include "CEHRAllocator.h"

#include <stddef.h>
#include <stdlib.h>  // defines __GLIBC__ where the C library is glibc

#if defined(__GLIBC__)
#include <malloc.h>
#endif

int cehr_fix_allocator_thresholds(int trim_threshold, int mmap_threshold) {
#if defined(__GLIBC__)
    return mallopt(M_TRIM_THRESHOLD, trim_threshold) == 1 && mallopt(M_MMAP_THRESHOLD, mmap_threshold) == 1;
#else
    (void)trim_threshold;
    (void)mmap_threshold;
    return 0;
#endif
}

int cehr_allocator_block_is_mapped(void *block) {
#if defined(__GLIBC__)
    // glibc's chunk header: the size word just before the block, whose bit 1 is IS_MMAPPED.
    return (((size_t *)block)[-1] & 0x2) != 0;
#else
    (void)block;
    return 0;
#endif
}
