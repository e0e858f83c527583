/*
 * fuzz.h - the syscall fuzzer's core (fuzz_syscalls.c: what calls to
 * make, with which arguments, steered away from ending the program or
 * waiting forever) and the two platforms it runs on:
 *
 *   fuzz_host.c   (build/host*, model test shim_fuzz): cub_shim_call
 *                 from cubrt coroutines in a Linux process, memory
 *                 checked by the host port's memfd page tables;
 *   tests/qemu/shim/fuzz_musl.c (QEMU, musl_fuzz_*): a static musl
 *                 program whose pthreads execute real `syscall`
 *                 instructions on bare metal: the x86 entry, real page
 *                 tables, demand-paging faults, preemption and signal
 *                 delivery on every return.
 *
 * The core needs from the platform only what is declared under
 * "platform" below; it keeps no cubrt or host state of its own.
 * Counters are updated by several threads without locks: on the host
 * coroutines never run at once; in the guest one CPU runs the threads
 * and a lost increment only blurs the summary (never `bad`, which is
 * also reported line by line).
 */
#ifndef CUBRT_TEST_FUZZ_H
#define CUBRT_TEST_FUZZ_H

#include <stdbool.h>
#include <stdint.h>

#define FUZZ_THREADS 8
#define FUZZ_SCRATCH (64 * 1024)
/* The area the platform provides: [scratch: FUZZ_SCRATCH][guard page]
 * [read-only page][guard page], guard pages inaccessible. */
#define FUZZ_AREA (FUZZ_SCRATCH + 3 * 4096)

/* Set by the platform before fuzz_start. */
extern uint64_t fuzz_seed, fuzz_ops;
extern unsigned char *fuzz_scratch, *fuzz_readonly;
/* Results, for the summary. */
extern long fuzz_done, fuzz_bad, fuzz_fs_ok;
extern unsigned fuzz_n_map, fuzz_n_shared;

/* Core: ignores the signals whose default action would end the run
 * (SIGPIPE, SIGALRM, SIGVTALRM, SIGPROF), through fuzz_call; once,
 * before the threads start. */
void fuzz_quiet_signals(void);
/* Core: an address up to 16 KiB into one of the last 8 mappings the
 * calls made (r: a random number picks it), 0 when none was made. */
uintptr_t fuzz_pick_map(uint64_t r);
/* Core: one thread's run of fuzz_ops / FUZZ_THREADS calls; idx is
 * 0..FUZZ_THREADS-1 as a pointer (its stream of numbers). */
void *fuzz_thread(void *idx);

/* Platform: makes system call nr; the result or -errno. */
long fuzz_call(long nr, long a0, long a1, long a2, long a3, long a4, long a5);
/* Platform: lets the other threads run (every 64 calls). */
void fuzz_yield(void);
/* Platform: thread idx is about to make call nr(a) (the guest keeps it
 * for a hang report), and has made one more (done: all threads' count). */
void fuzz_calling(int idx, long nr, const long a[6]);
void fuzz_called(int idx, long done);
/* Platform: steering of its own after the core's (what would break the
 * harness itself there, not cubrt): false skips the call. idx: the
 * thread. */
bool fuzz_plat_steer(int idx, long nr, long a[6]);
/* Platform: reports a line (a bad result), printf-style. */
void fuzz_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
