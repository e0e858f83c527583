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

/*
 * Demand paging (mm_fault.c). The platform's page-fault handler calls
 * cubi_mm_fault for a fault on an absent page at addr with the access
 * tried (CUB_PROT_READ, _WRITE or _EXEC): 1 when the page now has its
 * frame (run the instruction again), 0 when the fault is not one to
 * serve (no mapping, an access the mapping forbids: a real fault), or
 * -ENOMEM when no frame is left. Any context but inside the memory
 * calls' own critical sections.
 */
int cubi_mm_fault(uintptr_t addr, unsigned access);
/* A fault also maps the rest of its page's aligned block of this many
 * pages (a power of two; within its mapping): 16 (64 KiB); 1 maps the
 * one page. */
extern unsigned cubi_mm_fault_around;
/* The platform calls it once, true, when it serves demand faults; off
 * (the default) every accessible page has its frame from mmap on. */
void cubi_mm_set_demand(bool on);
/* Demand paging is on (set by cubi_mm_set_demand). */
extern bool cubi_mm_demand;
/* Pages in every absent page of [addr, addr+len) for access: true when
 * all of them are present now (their protection is the caller's check);
 * false with demand paging off. uaccess.c's second chance. */
bool cubi_mm_populate(uintptr_t addr, size_t len, unsigned access);
/* Pages in the absent accessible pages of [start, end) with the access
 * their mapping allows (MAP_POPULATE, mlock, a range cubrt fills):
 * 0 or -ENOMEM. */
int cubi_mm_populate_range(uintptr_t start, uintptr_t end);
/* True when page va holds a frame (mapped, or kept under PROT_NONE). */
bool cubi_mm_page_resident(uintptr_t va);
/* Frames the program's mappings hold (VmRSS), in pages. */
extern size_t cubi_mm_resident;

/*
 * File mappings of the file's frames (mm_file.c). cubi_mm_map_file maps
 * [addr, addr+len) (fixed, or anywhere) to the pages of regular file f
 * from page pgoff on, holding a reference to f: the file's own frames,
 * so writes through it are the file's bytes (file.c checks the access);
 * cow: a private mapping without PROT_WRITE, copied in when mprotect
 * makes it writable.
 * The address or -errno. cubi_ramfs calls cubi_mm_file_dropped (irq off)
 * before it frees the frames of node's pages [first, last) (a shrink, a
 * punched hole): every shared mapping lets go of them; a fault maps the
 * page again (a hole's zeroed frame) or finds it past the end.
 * cubi_mm_sigbus: addr lies in a shared file mapping past its file's
 * end (the fault is SIGBUS, BUS_ADRERR).
 * cubi_mm_reap frees the files whose last reference a removed mapping
 * dropped; the calls that remove mappings run it once interrupts are on
 * and no fs lock is held.
 */
struct cubi_file;
struct cubi_rnode;
long cubi_mm_map_file(uintptr_t addr, size_t len, unsigned prot, bool fixed, bool noreplace,
		      struct cubi_file *f, uint64_t pgoff, bool cow);
void cubi_mm_file_dropped(struct cubi_rnode *node, uint64_t first, uint64_t last);
/* With demand paging off (the host), ramfs calls it when node's size
 * grew: the shared mappings of it map their pages now inside the file,
 * as nothing else would (on bare metal a fault does). */
void cubi_mm_file_grown(struct cubi_rnode *node);
bool cubi_mm_sigbus(uintptr_t addr);
/* MADV_REMOVE of [addr, end): the file bytes behind each shared file
 * mapping in it become a hole (zeros, frames freed), as tmpfs does; 0,
 * -ENOMEM (a gap), -EINVAL (anonymous memory or a private copy),
 * -EACCES (a file not open for writing), -EPERM (a memfd sealed against
 * writes: memfd.c). Takes the fs lock: interrupts
 * on, no lock held. */
long cubi_mm_remove(uintptr_t addr, uintptr_t end);
void cubi_mm_reap(void);
/* The key a shared (not PRIVATE) futex at uaddr waits on (futex.c): in a
 * shared file mapping the address of the word in the file's frame, the
 * same through every mapping of the file; elsewhere uaddr itself. Such
 * keys cannot meet an address key: a frame of a file is nobody's
 * address, in the program's window or in cubrt. */
uintptr_t cubi_mm_futex_key(uintptr_t uaddr);
/* mm.c: whether a shared mapping of node may write, now or after an
 * mprotect (made through a descriptor open O_RDWR): what F_SEAL_WRITE
 * refuses with -EBUSY (memfd.c). A snapshot of the table. */
bool cubi_mm_node_mapped_writable(const struct cubi_rnode *node);

#endif
