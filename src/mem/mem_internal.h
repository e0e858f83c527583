/*
 * mem_internal.h - private interfaces between the files of src/mem (and
 * the platform code and tests that set up memory).
 */
#ifndef CUBRT_MEM_INTERNAL_H
#define CUBRT_MEM_INTERNAL_H

#include <cubrt/arch.h>

/*
 * (Re)initialises the frame allocator over regions (sorted, disjoint,
 * page aligned; the array is copied). Forgets every earlier allocation:
 * for boot and for tests only. Panics when no region can hold the
 * allocator's bitmap. Contexts: boot.
 */
void cubi_frame_init_regions(const struct cub_mem_region *r, size_t n);

/*
 * Declares that RAM never handed out since boot reads as zero (the host
 * arena is a fresh memfd), so CUB_FRAME_ZERO can skip clearing it.
 * Called by a platform from cub_arch_mem_regions(). Contexts: boot.
 */
void cubi_frame_set_pristine_zero(void);

/* Boot-time set-up of the global heap and of the stack allocator. */
void cubi_heap_global_init(void);
void cubi_stack_init(void);

#endif
