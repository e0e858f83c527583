/*
 * cubrt/arch.h - THE contract between portable cubrt code and a platform.
 *
 * Portable code (src/) reaches the machine only through the functions
 * declared here. A platform (platform/x86 for bare metal, platform/host for
 * a Linux process used by the unit tests) implements every one of them.
 * Each declaration states what it must do, from which execution context it
 * may be called (boot / task / irq, see DESIGN.md) and its effect on the
 * interrupt state.
 */
#ifndef CUBRT_ARCH_H
#define CUBRT_ARCH_H

#include <cubrt/base.h>
#include <cubrt/arch_fiber.h>

/* ------------------------------------------------------------------ console */

/* Writes one byte to the console, polling until it is accepted. A '\n' is
 * sent as "\r\n" on a serial line. Contexts: any. IRQ state: unchanged. */
void cub_arch_console_putc(char c);

/* Returns the next received console byte (0..255) or -CUB_EAGAIN when none
 * is waiting. Never blocks. Contexts: any. */
int cub_arch_console_getc(void);

/* --------------------------------------------------------------------- exit */

/* Ends the machine (or process) with status, already checked to be in
 * 0..125 by cub_exit(). Contexts: any. Interrupts are disabled first. */
CUB_NORETURN void cub_arch_exit(int status);

/* ------------------------------------------------------------ boot memory */

struct cub_mem_region {
	uintptr_t base;		/* page aligned */
	size_t len;		/* page multiple, > 0 */
};

/*
 * The RAM the frame allocator may own: page-aligned, sorted by address,
 * non-overlapping, and already excluding the loaded image, boot structures
 * (page tables, boot stacks, loader info, modules) and firmware regions.
 * Sets *regions and returns their count. Contexts: boot (the array stays
 * valid forever).
 */
size_t cub_arch_mem_regions(const struct cub_mem_region **regions);

/* Bounds of the loaded image [lo, hi), page aligned. Contexts: any. */
void cub_arch_image_range(uintptr_t *lo, uintptr_t *hi);

/* ---------------------------------------------------------------- paging */

#define CUB_PROT_NONE  0u
#define CUB_PROT_READ  1u
#define CUB_PROT_WRITE 2u
#define CUB_PROT_EXEC  4u

/*
 * Page-granular address-space primitives. src/mem validates ranges and
 * policy (image overlap, W^X); these only edit the page tables.
 *  map:     va -> pa with prot (CUB_PROT_NONE maps nothing and is the
 *           same as unmap); replaces an existing mapping. May allocate a
 *           page-table page through the frame allocator: -CUB_ENOMEM.
 *  unmap:   -CUB_ENOENT when va was not mapped. A page table this
 *           leaves without a present entry is unlinked and, once the
 *           TLB and paging-structure caches forget it, given back to the
 *           frame allocator, and so is its parent when that empties
 *           (x86: PT, PD and PDPT; never the PML4, nor a table made for
 *           the kernel's identity map, MMIO or a split 2 MiB page); a
 *           failed map gives back the empty tables it made. May split a
 *           2 MiB page, which allocates: -CUB_ENOMEM.
 *  query:   0 and *pa and *prot when mapped, -CUB_ENOENT otherwise.
 * Every change is visible to the calling CPU on return (TLB invalidated).
 * va and pa are page aligned. Contexts: boot, task (not irq).
 */
int cub_arch_page_map(uintptr_t va, uintptr_t pa, unsigned prot);
int cub_arch_page_unmap(uintptr_t va);
int cub_arch_page_query(uintptr_t va, uintptr_t *pa, unsigned *prot);
/*
 * The lowest page-aligned va' in [va, end) that is mapped (query would
 * return 0), or end when none is (also when va >= end). Skips what holds
 * nothing at the coarsest step the platform knows (x86: a non-present
 * PML4, PDPT or PD entry is 512 GiB, 1 GiB or 2 MiB at once; host: the
 * page-state table, or nothing at all when no window page is mapped),
 * so its cost follows the mapped pages and tables, not the range's
 * size. va is page aligned; end may be anything above it. Contexts:
 * boot, task (not irq).
 */
uintptr_t cub_arch_page_next(uintptr_t va, uintptr_t end);

/*
 * A virtual range [*lo, *hi) that nothing else maps, for clients that pick
 * their own addresses (the syscall shim's mmap, loaded programs). Contexts:
 * any.
 */
void cub_arch_vm_window(uintptr_t *lo, uintptr_t *hi);

/*
 * Where the platform takes page-table pages from once the frame allocator
 * runs (src/mem registers it at init); before that it uses a boot pool.
 * alloc returns a zeroed, identity-mapped page or 0; release takes back a
 * page alloc gave, once the platform no longer needs it (x86: a table an
 * unmap left empty, see cub_arch_page_unmap). Both are called with
 * interrupts disabled. Contexts: boot.
 */
void cub_arch_set_table_allocator(uintptr_t (*alloc)(void),
				  void (*release)(uintptr_t));

/* True when [addr, addr+len) can be read (written) without faulting.
 * An empty range is always accessible; a range that wraps never is.
 * Contexts: any. */
bool cub_arch_addr_readable(uintptr_t addr, size_t len);
bool cub_arch_addr_writable(uintptr_t addr, size_t len);

/* ------------------------------------------------------------ interrupts */

/* Disables interrupts and returns the previous state for restore; nestable.
 * Contexts: any. */
unsigned long cub_arch_irq_save(void);
void cub_arch_irq_restore(unsigned long state);
void cub_arch_irq_enable(void);
void cub_arch_irq_disable(void);
bool cub_arch_irq_enabled(void);

/* True while running an interrupt handler (irq context). Contexts: any. */
bool cub_arch_in_irq(void);

/* ------------------------------------------------------------------ time */

/* Monotonic nanoseconds since boot. Contexts: any. */
uint64_t cub_arch_clock_ns(void);

/* Wall-clock nanoseconds since the Unix epoch (x86: the CMOS RTC read at
 * boot plus the monotonic clock; host: CLOCK_REALTIME). Contexts: any. */
uint64_t cub_arch_wallclock_ns(void);

/*
 * Arms the one-shot timer for an absolute cub_arch_clock_ns() deadline,
 * replacing any earlier arming; deadline 0 disarms. When it expires the
 * platform calls the handler given to cub_arch_timer_set_handler() in irq
 * context. A deadline in the past fires as soon as possible.
 * Contexts: any, with interrupts disabled.
 */
void cub_arch_timer_arm(uint64_t deadline_ns);
void cub_arch_timer_set_handler(void (*fn)(void));

/*
 * Registers fn to run at the end of every interrupt that returns to task
 * context (not nested in another handler): on the interrupted coroutine's
 * own stack, below its red zone, with interrupts disabled, no longer in irq
 * context. fn may switch coroutines with cub_arch_ctx_switch(); the
 * interrupted state (all registers, SSE included) is restored when this
 * coroutine is switched back to and fn returns. This is how a wake-up from
 * an interrupt handler, or preemption, switches "on interrupt exit".
 * Contexts: boot.
 */
void cub_arch_set_irq_exit_hook(void (*fn)(void));

/*
 * Waits for the next interrupt: enables interrupts and halts atomically
 * (no wake-up lost between the check and the halt), returns with interrupts
 * disabled after at least one handler ran. Contexts: task, interrupts
 * disabled on entry. Never a busy loop.
 */
void cub_arch_idle(void);

/* The boot command line (runner arguments after the image), "" if none.
 * Contexts: any. */
const char *cub_arch_cmdline(void);

/*
 * Boot module i (0, 1, ...: multiboot modules in the order the loader
 * gave them, e.g. QEMU's -initrd "a,b"): its bytes, readable in place
 * forever. False past the last one. scripts/run passes the image itself as
 * module 0 (symbols for fault reports) and `--files` archives after it.
 * Host: none. Contexts: any.
 */
bool cub_arch_boot_module(unsigned i, const void **base, size_t *len);

/* ------------------------------------------------------- execution state */

/*
 * A suspended execution context: its stack pointer and callee-saved
 * registers, 56 bytes (one cache line with room to spare, so a record can
 * keep a few hot fields next to it). The resume address and the control
 * words stay on the suspended stack (see switch.S for why and the layout).
 * Host builds with AddressSanitizer (CUB_ARCH_FIBERS, arch_fiber.h) add
 * what the host platform tells ASan about the context's stack; nothing
 * outside the platform may touch it. There CUB_ARCH_STACK_EXTRA is the
 * stack a coroutine needs beyond its program's for the sanitizer's own
 * frames (0 elsewhere).
 */
struct cub_arch_ctx {
	uintptr_t sp;
	uint64_t rbx, rbp, r12, r13, r14, r15;
#ifdef CUB_ARCH_FIBERS
	struct cub_arch_fiber fiber;	/* platform/host/fiber.c */
#endif
};

/*
 * The stack [stack_lo, stack_lo + size) will carry execution contexts:
 * cub_arch_ctx_init may prepare contexts on it, one after another, until
 * cub_arch_ctx_forget. The platform notes what it must (host: registers
 * the stack with valgrind, so that switching to it is not taken for a
 * wild stack-pointer move). Contexts: any; before the first
 * cub_arch_ctx_init on the stack.
 */
void cub_arch_ctx_adopt(void *stack_lo, size_t size);

/*
 * Prepares ctx so that the first cub_arch_ctx_switch() to it calls
 * entry(arg) on the adopted stack [stack_lo, stack_lo + size). entry must
 * never return. Cheap enough to run at every spawn (a few stores).
 * Contexts: any.
 */
void cub_arch_ctx_init(struct cub_arch_ctx *ctx, void *stack_lo, size_t size,
		       void (*entry)(void *), void *arg);

/*
 * The stack [stack_lo, stack_lo + size) given to cub_arch_ctx_adopt is
 * about to be freed: forget whatever the platform keeps about it (host:
 * the stack's valgrind registration). Contexts: any; no context on it
 * runs again.
 */
void cub_arch_ctx_forget(void *stack_lo, size_t size);

/*
 * Saves the callee-saved state into *from and resumes *to. Returns when
 * somebody switches back to from. Contexts: task (or boot, to start the
 * scheduler). IRQ state: unchanged (it belongs to the caller).
 */
void cub_arch_ctx_switch(struct cub_arch_ctx *from, struct cub_arch_ctx *to);

/* Resumes *to and never returns: for a context that has ended (nothing of
 * it is saved). Contexts and IRQ state as cub_arch_ctx_switch. */
CUB_NORETURN void cub_arch_ctx_jump(struct cub_arch_ctx *to);

/*
 * Like cub_arch_ctx_switch, for a function that ends with this call (a
 * tail call, `return cub_arch_ctx_switch_then(...)`): when from is
 * resumed, on_resume() runs on from's stack and its result is returned
 * to the *caller's caller* with an indirect jump. Resuming a coroutine
 * with an indirect jump rather than `ret` keeps the return-stack buffer,
 * which still holds the other coroutine's return addresses, from
 * mispredicting the return into the resumed one. Without the tail call
 * (an unoptimised build) it still works: the caller just returns the
 * value itself. Contexts and IRQ state as cub_arch_ctx_switch.
 */
int cub_arch_ctx_switch_then(struct cub_arch_ctx *from,
			     struct cub_arch_ctx *to, int (*on_resume)(void));

/* Loads the thread pointer of the coroutine being switched to (x86: the
 * FS base, which Linux programs' TLS uses; host: recorded only, the
 * process's FS belongs to its libc). Contexts: any, interrupts disabled. */
void cub_arch_set_tls(uint64_t base);

/*
 * The MXCSR bits this CPU implements: the MXCSR_MASK field (bytes 28-31)
 * of an FXSAVE image, or 0xffbf when the CPU leaves that field 0 (the
 * oldest SSE CPUs: every bit of the low 16 but DAZ). Loading an x87/SSE
 * image whose MXCSR has any other bit set raises #GP (FXRSTOR), so an
 * image that comes from a program (rt_sigreturn's frame) must be checked
 * against it first. x86: found by an FXSAVE at boot; host: the host
 * CPU's, found at the first call. Contexts: any (x86: after boot).
 */
uint32_t cub_arch_mxcsr_mask(void);

/* Makes the `syscall` instruction enter cub_shim_syscall() (x86: EFER.SCE,
 * STAR, LSTAR, FMASK; host: nothing, tests call the dispatcher). Until
 * then SYSCALL raises #UD, so images without the shim do not carry it.
 * Contexts: boot, task. */
void cub_arch_syscall_enable(void);

/* Fills *v with a hardware random number (x86: RDRAND; host: getrandom);
 * false when the platform has none. Contexts: any. */
bool cub_arch_random(uint64_t *v);

/*
 * The stack-protector guard cubrt's own frames are checked against, when
 * the platform compiles cubrt with a global one (x86:
 * -mstack-protector-guard=global, __stack_chk_guard): true and *guard.
 * Its bytes 0 and 1 are zero. A Linux program linked into the image
 * (musl) shares that word and sets it from AT_RANDOM at its start; the
 * shim passes the guard as AT_RANDOM's first 8 bytes so that the value
 * stays the same, since coroutines parked across the program's start
 * hold frames checked against it. False when the platform has no such
 * word (host: the C library's canary). Contexts: any.
 */
bool cub_arch_ssp_guard(uint64_t *guard);

/* --------------------------------------------------------------- sampling */

/* Where a periodic sample caught the CPU (the `where` of a sample hook). */
#define CUB_ARCH_SAMPLE_TASK 0	/* running code: a coroutine, the scheduler */
#define CUB_ARCH_SAMPLE_IDLE 1	/* halted in cub_arch_idle() */
#define CUB_ARCH_SAMPLE_IRQ  2	/* inside an interrupt handler */
/* Not a sample: the sampling interrupt came from another source (x86: an
 * NMI that was not the PIT's tick; host: a SIGPROF not from the sampling
 * timer), told to fn only so that it can count such interrupts. */
#define CUB_ARCH_SAMPLE_FOREIGN 3

/* The highest sampling rate cub_arch_sample_start() accepts. */
#define CUB_ARCH_SAMPLE_HZ_MAX 10000

/*
 * A periodic sampling interrupt, for profilers (src/core/prof.c): about hz
 * times a second the platform calls fn(pc, where) with the interrupted
 * program counter and one of CUB_ARCH_SAMPLE_* (FOREIGN: the interrupt was
 * no tick, pc is where it landed but is no sample). It is independent of the
 * one-shot timer and of the interrupt flag: the sample interrupts
 * anything, critical sections and interrupt handlers included (x86: a
 * non-maskable interrupt from the PIT, routed by the I/O APIC; host: a
 * SIGPROF from a CLOCK_MONOTONIC POSIX timer). So fn may touch only
 * memory nothing else writes while sampling runs: no locks, no
 * allocation, no console, no cub_arch_* call but this section's.
 * Returns 0; -CUB_EINVAL for a NULL fn or hz outside
 * 1..CUB_ARCH_SAMPLE_HZ_MAX; -CUB_EBUSY when sampling already runs;
 * -CUB_ENODEV when the platform has no source (x86 without an I/O APIC,
 * where the PIT is the one-shot timer). Contexts: boot, task.
 */
int cub_arch_sample_start(unsigned hz, void (*fn)(uintptr_t pc, unsigned where));

/* Stops the samples: fn is not called after this returns. Nothing when
 * sampling does not run. Contexts: boot, task. */
void cub_arch_sample_stop(void);

/* ---------------------------------------------------------------- network */

/*
 * Network interface cards. The platform finds them at boot (x86: virtio-net,
 * then e1000, devices on PCI; host: none) and numbers them 0, 1, ... in the
 * order found.
 * A frame is an Ethernet II frame from the destination MAC through the
 * payload, without the FCS: CUB_ARCH_NIC_FRAME_MIN..CUB_ARCH_NIC_FRAME_MAX
 * bytes (the device pads short frames on the wire).
 *
 * Receiving: the platform keeps buffers posted to the device, so frames
 * arrive with nobody asking; when the device has no free buffer it drops
 * the frame (counted in rx_dropped). cub_arch_nic_recv takes them one at a
 * time; the notify function tells a waiting coroutine that there is
 * something to take. The usual receive loop (src/net does this):
 *
 *     for (;;) {
 *         while ((n = cub_arch_nic_recv(i, buf, sizeof buf)) >= 0)
 *             handle(buf, n);
 *         cub_irq_event_wait(&ev);       // notify signals ev
 *     }
 *
 * No frame is lost between the last -CUB_EAGAIN and the wait: a frame
 * that arrives after cub_arch_nic_recv looked calls notify again.
 */
#define CUB_ARCH_NIC_FRAME_MIN 14
#define CUB_ARCH_NIC_FRAME_MAX 1514

struct cub_arch_nic_info {
	uint8_t mac[6];		/* the device's address */
	uint16_t mtu;		/* largest payload: 1500 */
	bool link_up;		/* carrier; true where the device cannot tell */
	const char *model;	/* e.g. "virtio-net" (static string) */
};

struct cub_arch_nic_stats {
	uint64_t rx_frames, rx_bytes;	/* handed to cub_arch_nic_recv callers */
	uint64_t tx_frames, tx_bytes;	/* accepted by cub_arch_nic_send */
	uint64_t rx_dropped;		/* lost for want of a posted buffer,
					 * or malformed by the device */
	uint64_t tx_full;		/* sends refused with -CUB_EAGAIN */
	uint64_t interrupts;
};

/* Fills *info for NIC i. -CUB_ENODEV when there is no NIC i, -CUB_EINVAL
 * for a NULL info. Contexts: any. */
int cub_arch_nic_info(unsigned i, struct cub_arch_nic_info *info);

/* Fills *st with NIC i's counters. -CUB_ENODEV, -CUB_EINVAL as above.
 * Contexts: any. */
int cub_arch_nic_stats(unsigned i, struct cub_arch_nic_stats *st);

/*
 * Queues one frame for transmission on NIC i, copying it: frame is the
 * caller's again on return. Returns 0; -CUB_EAGAIN when the transmit ring
 * is full (nothing queued; the device frees slots as it sends, so a later
 * try succeeds); -CUB_EINVAL for a NULL frame or a length outside
 * FRAME_MIN..FRAME_MAX; -CUB_ENODEV. Never blocks. Contexts: task, irq.
 */
int cub_arch_nic_send(unsigned i, const void *frame, size_t len);

/*
 * Takes the oldest frame NIC i has received: copies min(len, cap) bytes
 * into buf and returns the frame's full length len (a frame longer than
 * cap is truncated, as recv(2) with MSG_TRUNC tells). -CUB_EAGAIN when no
 * frame is waiting, -CUB_EINVAL for a NULL buf, -CUB_ENODEV. The buffer
 * goes back to the device at once. Never blocks. Contexts: task.
 */
int cub_arch_nic_recv(unsigned i, void *buf, size_t cap);

/*
 * Sets fn(arg) to be called, in irq context, after NIC i has received a
 * frame that cub_arch_nic_recv has not yet returned (at least once per
 * such frame's arrival; several frames may share one call). fn NULL stops
 * the calls. Returns 0, -CUB_ENODEV. Contexts: boot, task.
 */
int cub_arch_nic_set_notify(unsigned i, void (*fn)(void *arg), void *arg);

/* ------------------------------------------------------------ block devices */

/*
 * Block devices (disks). The platform finds them at boot (x86: virtio-blk
 * devices on PCI; host: the file named by $CUBRT_HOST_DISK, or none) and
 * numbers them 0, 1, ... in the order found. Sectors are
 * CUB_ARCH_BLK_SECTOR bytes; a disk holds info.sectors of them.
 *
 * Requests are asynchronous: the caller fills a struct cub_arch_blk_req
 * (its own storage: a coroutine's stack will do) and submits it; the
 * platform calls req->done(req, status) exactly once when the device has
 * finished, in irq context, with status 0 or -CUB_EIO; or before
 * cub_arch_blk_submit returns, interrupts disabled (the host always; x86
 * for a flush on a disk without a write cache): callers must expect
 * both. For a read the data is
 * in req->buf before done runs. From submit until done the request and
 * its buffer belong to the platform. At most info.depth requests are in
 * flight on a disk; one more is refused with -CUB_EAGAIN (a completion
 * frees a place: the portable layer, src/blk, queues the waiters).
 *
 * The platform has no timeout: a request the device never completes
 * stays in flight until the caller gives up on the whole disk with
 * cub_arch_blk_reset (src/blk does, after its timeout): a device cannot
 * cancel one request (virtio has no way to), only be reset.
 */
#define CUB_ARCH_BLK_SECTOR 512

struct cub_arch_blk_info {
	uint64_t sectors;	/* capacity */
	uint32_t max_sectors;	/* largest count one request may carry */
	uint16_t depth;		/* requests in flight at most, >= 1 */
	bool read_only;
	const char *model;	/* e.g. "virtio-blk" (static string) */
	char name[8];		/* "vda", "vdb", ... */
};

enum cub_arch_blk_op {
	CUB_ARCH_BLK_READ,
	CUB_ARCH_BLK_WRITE,
	CUB_ARCH_BLK_FLUSH,	/* every completed write is durable on done */
};

struct cub_arch_blk_req {
	enum cub_arch_blk_op op;
	uint32_t count;		/* sectors: 1..max_sectors (0 for a flush) */
	uint64_t lba;		/* first sector (0 for a flush) */
	void *buf;		/* count * 512 bytes (NULL for a flush) */
	void (*done)(struct cub_arch_blk_req *req, int status);
	void *arg;		/* the caller's */
	unsigned slot;		/* the platform's, while in flight */
};

/* Fills *info for disk i. -CUB_ENODEV when there is no disk i, -CUB_EINVAL
 * for a NULL info. Contexts: any. */
int cub_arch_blk_info(unsigned i, struct cub_arch_blk_info *info);

/*
 * Starts req on disk i. Returns 0 (done will be called); -CUB_EIO after
 * cub_arch_blk_reset (nothing started); -CUB_EAGAIN when
 * depth requests are already in flight (nothing started); -CUB_EINVAL for
 * a NULL req, buf or done, an unknown op, a count of 0 or above
 * max_sectors (a flush: not 0), or sectors past the end (lba + count >
 * sectors, overflow included); -CUB_EROFS for a write to a read-only
 * disk; -CUB_ENODEV. Never blocks. Contexts: task, irq.
 */
int cub_arch_blk_submit(unsigned i, struct cub_arch_blk_req *req);

/*
 * Gives up on disk i (a request went unanswered): stops the device so
 * that it no longer reads or writes memory (virtio: status 0 read back,
 * bus mastering off), completes every request in flight, calling done
 * with -CUB_EIO before this returns (interrupts disabled; the platform
 * never touches those requests or their buffers again), and fails every
 * later submit on the disk with -CUB_EIO: the disk stays failed until
 * cub_arch_blk_reinit succeeds (or the machine restarts). A second call
 * does nothing. Returns 0; -CUB_EIO when the device did not confirm the
 * reset (the requests are completed all the same; the platform keeps its
 * own DMA memory out of use until a reset is confirmed); -CUB_ENODEV.
 * Contexts: task, irq.
 */
int cub_arch_blk_reset(unsigned i);

/*
 * Brings failed disk i (cub_arch_blk_reset) back: resets the device
 * again and waits for it to confirm (virtio: status reads 0), then sets
 * it up from scratch as at boot (virtio: bus mastering on, acknowledge,
 * driver, the same features, a fresh queue, its interrupt re-armed,
 * driver-ok); later submits reach it. Only after a confirmed reset may
 * the platform reuse or free the DMA memory of the requests the reset
 * abandoned: a device that confirmed it has forgotten them, so they can
 * never complete (nor be written into) afterwards. Returns 0; -CUB_EINVAL
 * when disk i has not failed; -CUB_EIO when the device does not come back
 * (its reset unconfirmed, a step refused, or it came back with other
 * features, capacity or queue size): the disk stays failed, the device
 * stopped as after cub_arch_blk_reset, and a later call may try again;
 * -CUB_ENOMEM; -CUB_ENODEV. Never touches a request. Contexts: task; it
 * may busy-wait (x86: up to VBLK_RESET_WAIT_NS twice, interrupts off).
 */
int cub_arch_blk_reinit(unsigned i);

/* For platforms: the argument checks cub_arch_blk_submit owes, for a
 * disk of `sectors` that takes at most max_sectors a request: 0,
 * -CUB_EINVAL or -CUB_EROFS as above. Contexts: any. */
static inline int cub_arch_blk_req_check(const struct cub_arch_blk_req *r, uint64_t sectors,
					 uint32_t max_sectors, bool read_only)
{
	if (!r || !r->done)
		return -CUB_EINVAL;
	if (r->op == CUB_ARCH_BLK_FLUSH)
		return r->count ? -CUB_EINVAL : 0;
	if (r->op != CUB_ARCH_BLK_READ && r->op != CUB_ARCH_BLK_WRITE)
		return -CUB_EINVAL;
	if (!r->buf || r->count == 0 || r->count > max_sectors || r->lba >= sectors ||
	    r->count > sectors - r->lba)
		return -CUB_EINVAL;
	return r->op == CUB_ARCH_BLK_WRITE && read_only ? -CUB_EROFS : 0;
}

/* --------------------------------------------------------- diagnostics */

/* The current frame pointer (for backtraces). Contexts: any. */
uintptr_t cub_arch_frame_pointer(void);

/*
 * Name of the function containing addr, with *off set to addr's offset in
 * it; NULL when the image carries no symbol table or addr is in none.
 * Contexts: any.
 */
const char *cub_arch_symbol(uintptr_t addr, uintptr_t *off);

#endif
