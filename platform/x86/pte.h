/*
 * pte.h - x86-64 page-table entry bits, and what paging.c shares with
 * the access checks (paging_check.c). Platform-internal.
 */
#ifndef CUBRT_X86_PTE_H
#define CUBRT_X86_PTE_H

#include <cubrt/base.h>

#define PTE_P   (1ull << 0)
#define PTE_RW  (1ull << 1)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_PS  (1ull << 7)
#define PTE_NX  (1ull << 63)
#define PTE_ADDR 0x000FFFFFFFFFF000ull
#define LOW_HALF_END (1ull << 47)	/* canonical lower half: all cubrt maps */

/* True once paging init has loaded cubrt's own tables (before that,
 * boot.S's: the first 4 GiB identity mapped, all present). */
extern bool cubi_x86_paging_live;

/*
 * The present leaf entry that maps va (0 when none), and in *level its
 * level: 1 (4 KiB), 2 (2 MiB) or 3 (1 GiB). Reads only (paging.c).
 * Contexts: interrupts disabled (a table read is not freed meanwhile).
 */
uint64_t cubi_x86_leaf(uintptr_t va, unsigned *level);

/* Empties the access checks' cache (paging_check.c); every change of an
 * entry calls it inside its critical section. */
void cubi_x86_checks_forget(void);

#endif
