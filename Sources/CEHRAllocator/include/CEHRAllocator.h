#ifndef CEHR_ALLOCATOR_H
#define CEHR_ALLOCATOR_H

/// Fixes glibc's trim and mmap thresholds (`mallopt`; Swift's Glibc module does not bring in <malloc.h>).
/// Returns 1 when both were set, 0 otherwise (and always 0 where the C library is not glibc).
int cehr_fix_allocator_thresholds(int trim_threshold, int mmap_threshold);

/// 1 when `block` (from malloc) has a mapping of its own rather than a place in a heap, from the flag glibc keeps in
/// the block's header; 0 otherwise, and where the C library is not glibc. For tests of the thresholds above.
int cehr_allocator_block_is_mapped(void *_Nonnull block);

#endif
