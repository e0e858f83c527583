/*
 * host_mem.h - private interface of the host memory platform (mem.c,
 * fault.c), for the host platform and the unit tests.
 */
#ifndef CUBRT_HOST_MEM_H
#define CUBRT_HOST_MEM_H

#include <cubrt/base.h>

/*
 * Installs the SIGSEGV/SIGBUS fault reporter (on an alternate signal
 * stack), replacing any handler installed since. cub_arch_mem_regions()
 * calls it once; tests call it again after their framework took the
 * signals. Contexts: boot.
 */
void cubi_host_fault_init(void);

/*
 * The arena [alo, ahi) ("physical" RAM, identity mapped) and the window
 * [wlo, whi) of address space left unmapped for cub_vm_map. Valid once
 * cub_arch_mem_regions() ran (cubi_mem_init).
 */
void cubi_host_mem_ranges(uintptr_t *alo, uintptr_t *ahi, uintptr_t *wlo,
			  uintptr_t *whi);

#endif
