/*
 * mm.h - the memory calls other parts of the shim use (mm.c): mapping a
 * range, changing its protection, the brk base, and whether a range is
 * mapped. What the memory files share among themselves is mm_impl.h's.
 *
 * Locking: each call takes mm.c's critical section itself (interrupts
 * disabled for the call, mm.c); callers hold nothing.
 */
#ifndef CUBRT_SHIM_MM_H
#define CUBRT_SHIM_MM_H

#include <cubrt/base.h>

/* mm.c: map a range (fixed or anywhere); change a range's protection
 * (mprotect's checks and results); set the brk base. */
long cubi_mm_map(uintptr_t addr, size_t len, unsigned prot, bool fixed, bool noreplace);
int cubi_mm_protect(uintptr_t addr, size_t len, unsigned prot);
void cubi_mm_set_brk(uintptr_t base);
/* mm.c: true when every page of [start, end) is mapped (any prot). */
bool cubi_mm_covered(uintptr_t start, uintptr_t end);

#endif
