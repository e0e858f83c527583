/*
 * cputime.h - the CPU time of Linux threads (cputime.c): what each
 * thread's coroutine spends on the CPU, split into user and system time,
 * the process's sum, the CPU-time clock ids (clock_gettime, timers), and
 * the one platform timer behind every timer that counts CPU time
 * (itimer.c's ITIMER_VIRTUAL and ITIMER_PROF, ptimer.c's timers on CPU
 * clocks, cpusleep.c's sleeps on them).
 *
 * Locking: irq_save (the shim's critical section); functions marked
 * "irq off" expect it held, the others take it.
 */
#ifndef CUBRT_SHIM_CPUTIME_H
#define CUBRT_SHIM_CPUTIME_H

#include <cubrt/base.h>

struct cubi_thread;

/* Thread t (the caller's record) starts being accounted: from now on the
 * time its coroutine has the CPU is t's. Contexts: task. */
void cubi_cputime_start(struct cubi_thread *t);
/* The calling thread t ends: charged up to now, then no longer
 * accounted (its time stays in the process's). Contexts: task. */
void cubi_cputime_exit(struct cubi_thread *t);
/* The calling thread enters (in) or leaves a system call: time from here
 * on is system (in) or user time (dispatch.c). Contexts: task. */
void cubi_cputime_sys(bool in);

/* A CPU-time clock: a thread's (tid > 0) or the process's (tid 0),
 * all of its time (user + system) or its user time only. */
struct cubi_cpuclock {
	int tid;
	bool user;
};
/*
 * Decodes a clock id that names a CPU-time clock: CLOCK_PROCESS_CPUTIME_ID,
 * CLOCK_THREAD_CPUTIME_ID (the caller's thread) and Linux's encoding of
 * another's, as clock_getcpuclockid and pthread_getcpuclockid make them:
 * (~pid << 3) | type for a process, (~tid << 3) | 4 | type for a thread
 * (pid or tid 0: the caller's), type 0 (PROF: user + system), 1 (VIRT:
 * user) or 2 (SCHED: user + system). Returns 1 for a CPU clock (*c set),
 * 0 for a clock id that is no CPU clock (>= 0 and not 2 or 3), or
 * -CUB_EINVAL: type 3, a pid other than this process's (0 or 1), a tid
 * that is no live thread. Contexts: task.
 */
int cubi_cpuclock_decode(int64_t clk, struct cubi_cpuclock *c);
/* The clock's reading in ns; false when its thread is gone (irq off). */
bool cubi_cpuclock_read(const struct cubi_cpuclock *c, uint64_t *ns);
/* User and system ns of thread t (NULL: the process, living threads and
 * exited ones). Contexts: task. */
void cubi_cputime_usage(const struct cubi_thread *t, uint64_t *user, uint64_t *sys);
/* The tid of the thread that has the CPU, 0 when none is accounted
 * (irq off). */
int cubi_cputime_running(void);

/*
 * Timers on CPU time. The platform timer is armed only while an accounted
 * thread runs, for the least CPU time any CPU-time timer still needs from
 * it (its own thread clock's timers, the process's); it is re-evaluated
 * at every switch to or from a thread and when a timer changes
 * (cubi_cputime_rearm). At its expiry (irq context) the due timers fire.
 * The timers' modules answer through cubi_itimer_cpu_due and
 * cubi_ptimer_cpu_due (irq off): with fire, they expire the timers that
 * are due; either way they return the running thread's CPU time until
 * the next one is due (0: due now; UINT64_MAX: none), and *armed tells
 * whether any of theirs is armed at all.
 */
void cubi_cputime_rearm(void);
uint64_t cubi_itimer_cpu_due(bool fire, bool *armed);
uint64_t cubi_ptimer_cpu_due(bool fire, bool *armed);
/* cpusleep.c's sleeps answer the same way: with fire, the sleepers whose
 * clock got there are woken (irq off). */
uint64_t cubi_cpusleep_due(bool fire, bool *armed);

/*
 * clock_nanosleep on CPU clock c (cpusleep.c): parks the caller until c
 * reads ns (abs) or ns more than now; another thread's clock or the
 * process's, never the caller's own (time.c refuses that). Returns 0
 * (also at once when c is there already), -CUB_EINVAL (c's thread is
 * gone) or -CUB_EINTR (a signal with a handler; *left is what c still
 * lacked). If c's thread exits meanwhile, only a signal ends the sleep,
 * as on Linux. Contexts: task.
 */
long cubi_cpusleep(const struct cubi_cpuclock *c, uint64_t ns, bool abs, uint64_t *left);
/* Thread tid exits (cputime.c): sleeps on its clock never come due. */
void cubi_cpusleep_exit(int tid);

#endif
