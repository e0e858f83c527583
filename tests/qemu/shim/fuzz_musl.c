/*
 * fuzz_musl.c - the syscall fuzzer (tests/model/shim/fuzz_syscalls.c,
 * the same core as the host's model test shim_fuzz) as a static musl
 * program on bare metal: 8 pthreads execute real `syscall` instructions,
 * so the calls go through platform/x86's entry (syscall.S, shim.c), the
 * pointer checks walk real page tables, absent pages of the program's
 * mappings are paged in by the demand-paging fault handler or by the
 * checks, the threads are preempted by the timer interrupt, and every
 * return passes signal delivery. cubrt must never panic, fault, hang or
 * return anything but a value or -errno (-4095..-1).
 *
 * usage (guest command line): [SEED [OPS]], default a seed from the
 * clock and 4000 calls. Replay a run with
 *     scripts/run --mem 256M --disk DISK build/x86/tests/qemu/shim/musl_fuzz SEED OPS
 * (DISK: a 64 KiB file, /dev/vda; without it /dev/vda does not exist, so
 * the calls that touch it fail differently). fuzz_guest.py does that.
 *
 * What this side adds to the core's steering is what would break the
 * harness itself (musl and its own memory), not cubrt: it lives in the
 * shim's address space, where the host harness does not.
 *  - mmap MAP_FIXED, munmap, mprotect, mremap, madvise and
 *    remap_file_pages never touch the harness's mapping (scratch area,
 *    guard and read-only pages, the threads' stacks): on the host that
 *    memory is not the shim's, so the calls fail there without harm.
 *  - arch_prctl(ARCH_SET_FS) keeps the thread's own TLS pointer (a
 *    non-canonical value is still passed, to be refused): musl's errno
 *    and thread self pointer live there.
 *  - threads end with a raw exit system call, not pthread_exit: a
 *    random set_tid_address or set_robust_list is then cubrt's to
 *    survive at thread exit, while musl's thread list lock (released by
 *    the kernel's clear of the child tid) is never needed again.
 *  - no mapping grows past BIG (mmap's and mremap's lengths, brk's
 *    growth) but PROT_NONE reservations of up to RESERVE (256 GiB), what
 *    one random-length mmap in 8 becomes (its populating flags
 *    dropped), as Go's runtime reserves address space. Calls on those
 *    cost what they hold, not their length (cub_vm_next and the park
 *    table's slots: docs/shim.md); before, one munmap of a 128 GiB
 *    reservation froze the machine for 30 to 120 s under TCG (seed
 *    3025, 100000 calls). Accessible memory stays capped at BIG (an
 *    mprotect makes no more accessible at once) so that one populating
 *    call (MAP_POPULATE, MAP_LOCKED, mlockall's MCL_FUTURE, mlock or
 *    MADV_POPULATE_*) cannot take the touch's 96 MiB margin (below) at
 *    once.
 * Reports go through cub_printk, straight to the serial console: the
 * random calls close and dup over descriptors 0-2.
 *
 * Signal delivery, which the host's run never reaches (its threads are
 * coroutines, not Linux threads): main sends SIGUSR2 to a random thread
 * every millisecond (tgkill); its handler (SA_SIGINFO | SA_ONSTACK |
 * SA_RESTART) counts and makes a system call of its own, so frames are
 * built on the way back from every kind of call, blocking ones
 * interrupted (EINTR or restarted), under the masks, sigaltstacks and
 * signalfds the random calls set. For that the steering keeps
 * SIGUSR2's handler (rt_sigaction of it only reads), and sigaltstack
 * only ever installs the thread's own 16 KiB alternate stack, disables
 * it, or asks for one below MINSIGSTKSZ (ENOMEM): a random stack_t would
 * put the frames on memory the harness cannot vouch for.
 *
 * Faults in program code, which the host's run never takes (its harness
 * never touches the shim's mappings): after one call in 8 a thread
 * reads or writes a byte up to 16 KiB into a mapping the calls made
 * lately, whatever became of it since (protected, unmapped, remapped,
 * a file truncated under it, never touched: demand paging and the
 * copies of private file pages). A SIGSEGV or SIGBUS handler leaves by
 * siglongjmp, and checks si_addr is the address touched; the steering
 * keeps those handlers, and a thread that blocked either signal does not
 * touch (a blocked fault signal ends the program, as on Linux). A touch
 * takes its own fault while 96 MiB are free (of the 256 MiB
 * fuzz_guest.py gives the guest); with less, its page is paged in
 * first (MADV_POPULATE_READ or _WRITE, which copies a private file
 * page), and where that fails there is no touch: the random calls
 * populate, lock and fallocate (lengths are random), and a program
 * touching memory with no frame
 * left is ended by design ("out of memory", as Linux's OOM killer
 * would); cubrt's own calls must meanwhile keep failing cleanly. The
 * harness's mapping is populated up front for the same reason. Still
 * a race: one call of another thread (mlockall, fallocate, a populate)
 * may take every frame between the check and the touch (with the check
 * alone, about one run in 100 of 100000 calls ended "out of memory" in
 * touch: seeds 4105, 6122, 8042). Populating before every touch would
 * close most of that window but leave the fault handler untouched.
 *
 * A watchdog (main) ends the run with status 3 and each thread's call
 * in progress when no call completes for HANG_S seconds.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <time.h>

#include <cubrt/fmt.h>
#include <cubrt/mem.h>

#include "../../model/shim/fuzz.h"

#define STACK (64 * 1024)	/* a thread's stack, a guard page below it */
#define ALTSTACK (16 * 1024)	/* and its alternate signal stack, the same */
#define PER_THREAD (STACK + ALTSTACK + 2 * 4096)
#define OWN_LEN (FUZZ_AREA + FUZZ_THREADS * PER_THREAD)
#define SIGUSR2 12
#define BIG (64ul << 20)	/* the largest accessible mapping a call may make */
#define RESERVE (256ul << 30)	/* and PROT_NONE reservation */
#define HANG_S 30
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003

static uintptr_t own_lo, own_hi;	/* the harness's mapping */
static long reservations;		/* mmap calls steered to one (atomic) */
static uint64_t fs_base[FUZZ_THREADS];
static volatile int go, finished;
static volatile long tids[FUZZ_THREADS], handled[FUZZ_THREADS];
static __thread int my_idx;
static volatile long faults[FUZZ_THREADS], bad_addr;
static __thread sigjmp_buf touch_env;
static __thread volatile uintptr_t touching;	/* the address, 0: none */
static __thread uint64_t touch_rnd;
/* The stack_t each thread's steered sigaltstack passes (its own). */
static struct { void *sp; int flags; size_t size; } altstack[FUZZ_THREADS];

/* Each thread's call in progress (written by its thread, read by the
 * watchdog; a torn read only garbles a hang report). */
static struct {
	volatile long nr;
	long a[6];
	volatile long count;
	volatile int in_call;
	volatile long raw_nr, raw_in;	/* any system call, the harness's own too */
	volatile int where;		/* W_* */
	volatile uintptr_t touch;
} cur[FUZZ_THREADS];
enum { W_CORE, W_TOUCH, W_USR2, W_FAULT };
static const char *const where_name[] = { "core", "touch", "SIGUSR2 handler", "fault handler" };
static __thread int me = -1;	/* the thread's index, -1 in main */

long fuzz_call(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
	register long r10 __asm__("r10") = a3;
	register long r8 __asm__("r8") = a4;
	register long r9 __asm__("r9") = a5;
	long ret;

	if (me >= 0)
		cur[me].raw_nr = nr, cur[me].raw_in = 1;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	if (me >= 0)
		cur[me].raw_in = 0;
	return ret;
}

void fuzz_yield(void)
{
	fuzz_call(24, 0, 0, 0, 0, 0, 0);	/* sched_yield */
}

void fuzz_calling(int idx, long nr, const long a[6])
{
	memcpy(cur[idx].a, a, sizeof(cur[idx].a));
	cur[idx].nr = nr;
	cur[idx].in_call = 1;
}

/* SIGSEGV, SIGBUS: expected only from touch(), at its address. */
static void on_fault(int sig, siginfo_t *info, void *uc)
{
	(void)uc;
	if (!touching) {
		cub_printk("fuzz_syscalls: signal %d (address %p) outside a touch\n", sig,
			   info->si_addr);
		fuzz_call(231, 4, 0, 0, 0, 0, 0);	/* exit_group */
	}
	if ((uintptr_t)info->si_addr != touching) {
		cub_printk("fuzz_syscalls: signal %d for a touch of %lx has si_addr %p\n", sig,
			   (unsigned long)touching, info->si_addr);
		bad_addr++;
	}
	faults[my_idx]++;
	cur[my_idx].where = W_FAULT;
	siglongjmp(touch_env, 1);
}

/* True while 96 MiB of RAM are free (sysinfo). */
static bool plenty_free(void)
{
	struct sysinfo si;

	return fuzz_call(99, (long)(uintptr_t)&si, 0, 0, 0, 0, 0) == 0 &&
	       (uint64_t)si.freeram * si.mem_unit >= 96ull << 20;
}

/* Reads or writes (writes back) a byte of a recent mapping. */
static void touch(void)
{
	uint64_t mask = 0, r;
	uintptr_t p;

	touch_rnd ^= touch_rnd << 13, touch_rnd ^= touch_rnd >> 7, touch_rnd ^= touch_rnd << 17;
	r = touch_rnd;
	p = fuzz_pick_map(r >> 3);
	if (r % 8 || !p)
		return;
	if (fuzz_call(14, 0, 0, (long)(uintptr_t)&mask, 8, 0, 0) ||	/* rt_sigprocmask */
	    mask & (1u << (11 - 1) | 1u << (7 - 1)))
		return;
	/* While memory is plenty the touch takes its own fault (demand
	 * paging, a private page's copy); else the page is paged in by
	 * MADV_POPULATE_(READ|WRITE) first, and where that fails (no frame,
	 * no access, not mapped) there is no touch. */
	if (!plenty_free() &&
	    fuzz_call(28, (long)(p & ~4095ul), 4096, r & 8 ? 23 : 22, 0, 0, 0) != 0)
		return;
	if (sigsetjmp(touch_env, 1) == 0) {
		volatile unsigned char *b = (volatile unsigned char *)p;

		touching = p;
		cur[my_idx].touch = p;
		cur[my_idx].where = W_TOUCH;
		if (r & 8)
			*b = *b;
		else
			(void)*b;
	}
	touching = 0;
	cur[my_idx].where = W_CORE;
}

void fuzz_called(int idx, long done)
{
	(void)done;
	cur[idx].in_call = 0;
	cur[idx].count++;
	touch();
}

/* True when [start, start + len rounded up to pages) meets the
 * harness's mapping (len 0 counts as a page: the calls that take it
 * fail anyway). */
static bool hits_own(uint64_t start, uint64_t len)
{
	uint64_t end = start + ((len + 4095) & ~4095ull);

	if (len > UINT64_MAX - 4095 || end < start || !len)
		end = len && end >= start ? UINT64_MAX : start + 4096;
	return start < own_hi && end > own_lo;
}

bool fuzz_plat_steer(int idx, long nr, long a[6])
{
	switch (nr) {
	case 9:					/* mmap over it; BIG, */
		if ((uint64_t)a[1] > BIG && ((uint64_t)a[1] >> 40) % 8 == 0) {
			a[1] = (long)((uint64_t)a[1] % RESERVE);	/* or a */
			a[2] = 0;			/* reservation */
			a[3] &= ~(long)(0x8000 | 0x2000);	/* POPULATE, LOCKED */
			__atomic_fetch_add(&reservations, 1, __ATOMIC_RELAXED);
		}
		return ((uint64_t)a[1] <= BIG || (a[2] == 0 && (uint64_t)a[1] <= RESERVE)) &&
		       (!(a[3] & (0x10 | 0x100000)) || !hits_own((uint64_t)a[0], (uint64_t)a[1]));
	case 12: {				/* brk: BIG */
		uint64_t now = (uint64_t)fuzz_call(12, 0, 0, 0, 0, 0, 0);

		return (uint64_t)a[0] <= now || (uint64_t)a[0] - now <= BIG;
	}
	case 10: case 329:			/* mprotect, pkey_mprotect: BIG */
		return !hits_own((uint64_t)a[0], (uint64_t)a[1]) &&	/* made */
		       (a[2] == 0 || (uint64_t)a[1] <= BIG);		/* accessible */
	case 11: case 28: case 216:		/* munmap, madvise, remap_file_pages */
		return !hits_own((uint64_t)a[0], (uint64_t)a[1]);
	case 25:				/* mremap: from it, or onto it; BIG */
		return (uint64_t)a[2] <= BIG && !hits_own((uint64_t)a[0], (uint64_t)a[1]) &&
		       !((a[3] & 2) && hits_own((uint64_t)a[4], (uint64_t)a[2]));
	case 13:				/* rt_sigaction: SIGUSR2's, */
		if (a[0] == SIGUSR2 || a[0] == 11 || a[0] == 7)	/* SIGSEGV's, */
			a[1] = 0;		/* SIGBUS's handlers stay */
		return true;
	case 131:				/* sigaltstack: its own */
		if (a[0]) {
			unsigned char *base = (unsigned char *)own_lo + FUZZ_AREA +
					      idx * PER_THREAD + STACK + 2 * 4096;

			altstack[idx].sp = base;
			altstack[idx].flags = a[0] % 3 == 1 ? 2 : 0;	/* SS_DISABLE */
			altstack[idx].size = a[0] % 3 == 2 ? 2047 : ALTSTACK;
			a[0] = (long)(uintptr_t)&altstack[idx];
		}
		return true;
	case 158:				/* arch_prctl: keep TLS */
		if (a[0] == ARCH_SET_FS && (uint64_t)a[1] < (1ull << 47))
			a[1] = (long)fs_base[idx];
		return true;
	default:
		return true;
	}
}

void fuzz_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cub_vprintk(fmt, ap);
	va_end(ap);
}

/* SIGUSR2: counts, and calls getpid (a system call inside a handler,
 * on whichever stack it was given). */
static void on_usr2(int sig, siginfo_t *info, void *uc)
{
	int was = cur[my_idx].where;

	(void)sig, (void)info, (void)uc;
	cur[my_idx].where = W_USR2;
	handled[my_idx]++;
	fuzz_call(39, 0, 0, 0, 0, 0, 0);
	cur[my_idx].where = was;
}

static void *thread_main(void *arg)
{
	int idx = (int)(uintptr_t)arg;

	my_idx = idx;
	me = idx;
	touch_rnd = (fuzz_seed ^ (uint64_t)(idx + 1) * 0x2545F4914F6CDD1Dull) | 1;
	tids[idx] = fuzz_call(186, 0, 0, 0, 0, 0, 0);	/* gettid */
	fuzz_call(158, ARCH_GET_FS, (long)(uintptr_t)&fs_base[idx], 0, 0, 0, 0);
	while (!go)
		fuzz_yield();
	fuzz_thread(arg);
	__atomic_fetch_add(&finished, 1, __ATOMIC_SEQ_CST);
	fuzz_call(60, 0, 0, 0, 0, 0, 0);	/* exit: this thread */
	return NULL;				/* not reached */
}

/* Maps [scratch][guard][read-only][guard] and the threads' stacks, each
 * above a guard page: one mapping, the harness's own. */
static unsigned char *map_own(void)
{
	unsigned char *m = mmap(NULL, OWN_LEN, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (m == MAP_FAILED || mprotect(m + FUZZ_SCRATCH, 4096, PROT_NONE) ||
	    mprotect(m + FUZZ_SCRATCH + 4096, 4096, PROT_READ) ||
	    mprotect(m + FUZZ_SCRATCH + 2 * 4096, 4096, PROT_NONE))
		return NULL;
	for (int i = 0; i < FUZZ_THREADS; i++)
		if (mprotect(m + FUZZ_AREA + i * PER_THREAD, 4096, PROT_NONE) ||
		    mprotect(m + FUZZ_AREA + i * PER_THREAD + 4096 + STACK, 4096, PROT_NONE))
			return NULL;
	own_lo = (uintptr_t)m;
	own_hi = own_lo + OWN_LEN;
	return m;
}

/* Seconds on the monotonic clock. */
static long now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec;
}

/* Reports each thread's count and call in progress (or its last). */
static void report_threads(void)
{
	for (int i = 0; i < FUZZ_THREADS; i++)
		cub_printk("  thread %d: %ld calls, %s %ld(%lx, %lx, %lx, %lx, %lx, %lx); "
			   "in the %s (touch %lx), %s system call %ld\n",
			   i, cur[i].count, cur[i].in_call ? "in" : "last", cur[i].nr,
			   cur[i].a[0], cur[i].a[1], cur[i].a[2], cur[i].a[3], cur[i].a[4],
			   cur[i].a[5], where_name[cur[i].where], (unsigned long)cur[i].touch,
			   cur[i].raw_in ? "in" : "after", cur[i].raw_nr);
}

/* Prints the lines of /proc/self/maps that hold one of the threads'
 * last touches, and each touched page's entry in the page tables. */
static void report_touches(void)
{
	static char buf[1 << 16];
	long fd = fuzz_call(2, (long)(uintptr_t)"/proc/self/maps", 0, 0, 0, 0, 0), n = 0, r;

	while (fd >= 0 && n < (long)sizeof(buf) - 1 &&
	       (r = fuzz_call(0, fd, (long)(uintptr_t)buf + n, (long)sizeof(buf) - 1 - n,
			      0, 0, 0)) > 0)
		n += r;
	buf[n > 0 ? n : 0] = 0;
	for (char *line = buf, *end; *line; line = end + (*end != 0)) {
		unsigned long lo = strtoul(line, NULL, 16), hi = strtoul(strchr(line, '-') + 1, NULL, 16);

		end = strchr(line, '\n') ? strchr(line, '\n') : line + strlen(line);
		for (int i = 0; i < FUZZ_THREADS; i++)
			if (cur[i].touch >= lo && cur[i].touch < hi) {
				cub_printk("  maps: %.*s\n", (int)(end - line), line);
				break;
			}
	}
	for (int i = 0; i < FUZZ_THREADS; i++) {
		uintptr_t pa = 0;
		unsigned prot = 0;
		int rc = cub_vm_query(cur[i].touch, &pa, &prot);

		cub_printk("  thread %d touch %lx: page %s, frame %lx, prot %x\n", i,
			   (unsigned long)cur[i].touch, rc ? "absent" : "present",
			   (unsigned long)pa, prot);
	}
}

/* Waits for the threads, sending SIGUSR2 to one every millisecond; 0, or 3
 * after a hang report. Time is the clock's, not counted ticks: a woken
 * main may wait behind 8 threads' 10 ms slices. */
static int watch(void)
{
	struct timespec tick = { 0, 1000 * 1000 };
	long last = -1, pid = fuzz_call(39, 0, 0, 0, 0, 0, 0), since = now_s();
	uint64_t s = fuzz_seed | 1;

	while (finished < FUZZ_THREADS) {
		long count = 0;

		nanosleep(&tick, NULL);
		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		fuzz_call(234, pid, tids[s % FUZZ_THREADS], SIGUSR2, 0, 0, 0);	/* tgkill */
		for (int i = 0; i < FUZZ_THREADS; i++)
			count += cur[i].count;
		if (count != last) {
			last = count;
			since = now_s();
		} else if (now_s() - since >= HANG_S) {
			cub_printk("fuzz_syscalls: HANG: no call completed for %d s (seed %llu)\n",
				   HANG_S, (unsigned long long)fuzz_seed);
			report_threads();
			report_touches();
			return 3;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct timespec t;
	unsigned char *m;
	int rc;

	clock_gettime(CLOCK_REALTIME, &t);
	fuzz_seed = argc > 1 ? strtoull(argv[1], NULL, 0) : (uint64_t)t.tv_nsec;
	fuzz_ops = argc > 2 ? strtoull(argv[2], NULL, 0) : 4000;
	cub_printk("fuzz_syscalls: seed %llu, %llu calls from %d threads on bare metal "
		   "(reproduce: scripts/run --mem 256M --disk DISK IMAGE %llu %llu)\n",
		   (unsigned long long)fuzz_seed, (unsigned long long)fuzz_ops, FUZZ_THREADS,
		   (unsigned long long)fuzz_seed, (unsigned long long)fuzz_ops);
	m = map_own();
	if (!m) {
		cub_printk("fuzz_syscalls: cannot map the scratch area\n");
		return 2;
	}
	fuzz_scratch = m;
	fuzz_readonly = m + FUZZ_SCRATCH + 4096;
	fuzz_quiet_signals();
	{
		struct sigaction sa = { .sa_sigaction = on_usr2,
					.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART };

		sigaction(SIGUSR2, &sa, NULL);
		sa.sa_sigaction = on_fault;
		sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
		sigaction(SIGSEGV, &sa, NULL);
		sigaction(SIGBUS, &sa, NULL);
	}
	for (long i = 0; i < FUZZ_THREADS; i++) {
		pthread_attr_t attr;
		pthread_t t;

		pthread_attr_init(&attr);
		pthread_attr_setstack(&attr, m + FUZZ_AREA + i * PER_THREAD + 4096, STACK);
		if (pthread_create(&t, &attr, thread_main, (void *)i)) {
			cub_printk("fuzz_syscalls: cannot start thread %ld\n", i);
			return 2;
		}
	}
	go = 1;
	rc = watch();
	if (!rc) {
		long sigs = 0, flts = 0;

		for (int i = 0; i < FUZZ_THREADS; i++)
			sigs += handled[i], flts += faults[i];
		cub_printk("fuzz_syscalls: %ld calls, %ld invalid results, %ld path calls "
			   "succeeded, %u mappings made (%u of files), %ld signals handled, "
			   "%ld faults caught (%ld with a wrong address), %ld mmap calls "
			   "steered to a PROT_NONE reservation of up to 256 GiB\n",
			   fuzz_done, fuzz_bad + bad_addr, fuzz_fs_ok, fuzz_n_map, fuzz_n_shared,
			   sigs, flts, bad_addr, reservations);
	}
	rc = rc ? rc : fuzz_bad || bad_addr ? 1 : 0;
	for (;;)
		fuzz_call(231, rc, 0, 0, 0, 0, 0);	/* exit_group */
}
