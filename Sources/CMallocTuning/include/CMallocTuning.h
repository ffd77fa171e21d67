// glibc's allocator tuning, which Swift's Glibc module does not export (<malloc.h>).
// On other C libraries both calls do nothing.
#ifndef BERTH_CMALLOC_TUNING_H
#define BERTH_CMALLOC_TUNING_H

#if defined(__GLIBC__)
#include <malloc.h>
#endif

/// Caps the number of malloc arenas (glibc makes up to 8 per core, each keeping freed memory).
/// Returns 1 when the setting was applied.
static inline int berth_malloc_limit_arenas(int count) {
#if defined(__GLIBC__)
    return mallopt(M_ARENA_MAX, count);
#else
    (void)count;
    return 0;
#endif
}

/// Returns freed memory at the top of every arena to the system. Returns 1 when some was released.
static inline int berth_malloc_trim(void) {
#if defined(__GLIBC__)
    return malloc_trim(0);
#else
    return 0;
#endif
}

#endif
