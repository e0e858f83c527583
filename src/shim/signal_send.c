/*
 * signal_send.c - how signals become pending: kill, tkill, tgkill, the
 * signals the shim and its timers raise (cubi_signal_post, SIGPIPE), the
 * thread's and the process's pending sets, and which thread acts on a
 * process-directed signal.
 *
 * Only the program signals itself (there is no other process), so a
 * signal comes from kill, tkill or tgkill, from a timer (itimer.c,
 * ptimer.c), or from the shim: SIGPIPE, thread-directed at the caller of
 * a write, writev, send, sendto or sendmsg that fails with EPIPE on a
 * pipe or a stream socket (not with MSG_NOSIGNAL; not for datagram or
 * seqpacket sockets, as Linux), through cubi_signal_epipe (fd_rw.c's
 * blocking writes, socket_sendrecv.c's sends). A thread-directed signal
 * waits on its thread's set; a process-directed one on the process's,
 * for any thread that does not block it (or waits for it). The thread
 * that acts on it when it is sent is woken from a blocking call (which
 * fails with EINTR, or runs again with SA_RESTART: signal.c). Default
 * actions: SIGCHLD, SIGCONT, SIGURG and SIGWINCH are dropped, every other
 * signal ends the program with a report naming it -- when it is sent,
 * or, blocked then, when it is unblocked; SIG_IGN drops.
 *
 * Invariants: cubi_signal_npending counts the bits of every pending set
 * plus the threads in rt_sigsuspend (whose way back to the program must
 * restore the mask). Locking: every set, every thread's signal fields
 * and the count are protected by irq_save; sending is allowed in irq
 * context.
 */
#include <cubrt/arch.h>
#include <cubrt/irq.h>
#include <cubrt/panic.h>
#include <cubrt/string.h>

#include "shim_impl.h"
#include "signal_impl.h"

#define SIGABRT 6
#define SIGPIPE 13

bool cubi_signal_ignored_by_default(uint64_t sig)
{
	return sig == 17 || sig == 18 || sig == 23 || sig == 28;
}

CUB_NORETURN void cubi_signal_die(uint64_t sig)
{
	cub_panic("program killed by signal %lu%s", (unsigned long)sig,
		  sig == SIGABRT ? " (SIGABRT: abort)" :
		  sig == SIGPIPE ? " (SIGPIPE: write to a pipe or socket nobody reads)" : "");
}

/* Process-directed signals (kill, timers): any thread that does not
 * block one, or waits for it, takes it; the one that acts when it is
 * sent is only woken (pick). A thread's exit leaves them here. */
static struct cubi_sigpend proc_pending;

void cubi_signal_dequeue(struct cubi_thread *t, int sig, struct cubi_sigsrc *src)
{
	cubi_sigpend_take(t->pending.bits & BIT(sig) ? &t->pending : &proc_pending, sig, src);
}

/* The signals t could take: its own and the process's (irq off). */
static uint64_t pending_for(const struct cubi_thread *t)
{
	return t->pending.bits | proc_pending.bits;
}

uint64_t cubi_signal_pending_for(const struct cubi_thread *t)
{
	return pending_for(t);
}

/* Where a process-directed signal goes (irq off): a thread waiting for
 * it in rt_sigtimedwait, else the oldest thread that does not block it
 * (the main thread first, as Linux prefers), else NULL: nobody now. */
static struct cubi_thread *pick(uint64_t bit)
{
	struct cubi_thread *t, *open = NULL;

	for (t = cubi_thread_next(NULL); t; t = cubi_thread_next(t)) {
		if (t->waitset & bit)
			return t;
		if (!open && !(t->sigmask & bit))
			open = t;
	}
	return open;
}

/* Ends t's blocking call, if any, so that it takes the signal (irq off). */
static void wake(struct cubi_thread *t)
{
	if (t->sleeping)
		cubi_futex_interrupt(t->sleeping);	/* its call: -EINTR */
	if (t->console_wait)
		cub_console_interrupt();
}

/*
 * Sends sig (0 only probes) to thread t, or with t NULL to the process
 * (queued for every thread, acted on by pick's); code is its si_code.
 * Any context, irq included (timers send from there). As on Linux: a signal the target ignores and does not block
 * is dropped; a blocked one stays pending whatever its action, until
 * unblocked or waited for; a fatal one kills as it arrives unless
 * blocked or waited for (a blocked one kills once unblocked:
 * cubi_signal_deliver).
 */
static long send_src(struct cubi_thread *t, uint64_t sig, const struct cubi_sigsrc *src,
		     bool must_queue, bool *pending)
{
	struct cubi_sigpend *q = t ? &t->pending : &proc_pending;
	uint64_t handler;
	unsigned long irq;
	bool ignored, fatal, takes, waited;
	long rc = 0;

	if (sig > NSIG)
		return -CUB_EINVAL;
	if (sig == 0)
		return 0;
	irq = cub_arch_irq_save();
	handler = cubi_signal_handler((int)sig);
	ignored = handler == SIG_IGN ||
		  (handler == SIG_DFL && cubi_signal_ignored_by_default(sig));
	fatal = handler == SIG_DFL && !cubi_signal_ignored_by_default(sig);
	if (!t)		/* the process's: stays on its queue, one thread acts */
		t = pick(BIT(sig));
	waited = t && (t->waitset & BIT(sig));
	takes = t && (!(t->sigmask & BIT(sig)) || waited);	/* acts now */
	if (!(ignored && takes && !waited)) {
		rc = cubi_sigpend_add(q, (int)sig, src, must_queue);
		if (!rc)
			cubi_signalfd_notify(BIT(sig));
		if (!rc && pending)
			*pending = true;
	}
	if (!rc && takes && (handler > SIG_IGN || waited))
		wake(t);
	cub_arch_irq_restore(irq);
	if (!rc && fatal && takes && !waited)
		cubi_signal_die(sig);
	return rc;
}

/* send_src for kill, tkill, the shim's own signals: from this process
 * (pid 1, root), no value. Calls queue their real-time signals or fail
 * with -EAGAIN; the shim's own merge when the pool is empty. */
static long send_pending(struct cubi_thread *t, uint64_t sig, int code, bool *pending)
{
	struct cubi_sigsrc src = { .code = code, .pid = CUBI_PID };

	return send_src(t, sig, &src, code == CUBI_SI_USER || code == CUBI_SI_TKILL, pending);
}

static long send(struct cubi_thread *t, uint64_t sig, int code)
{
	return send_pending(t, sig, code, NULL);
}

bool cubi_signal_post(struct cubi_thread *t, int sig, int code)
{
	bool pending = false;

	(void)send_pending(t, (uint64_t)sig, code, &pending);
	return pending;
}

long cubi_signal_epipe(long rc, bool nosignal)
{
	if (rc == -CUB_EPIPE && !nosignal)
		(void)send(cubi_thread_self(), SIGPIPE, CUBI_SI_TKILL);
	return rc;
}

/* The live thread with this tid, or NULL. */
static struct cubi_thread *thread_with_tid(int64_t tid)
{
	struct cubi_thread *self = cubi_thread_self();

	if (tid == self->tid)
		return self;
	return cubi_thread_by_tid(tid);
}

CUBI_SYS(kill)
{
	int64_t pid = (int64_t)A0(r);

	if (pid != CUBI_PID && pid != 0 && pid != -1)
		return -CUB_ESRCH;
	(void)cubi_thread_self();	/* the caller is among the threads */
	return send(NULL, A1(r), CUBI_SI_USER);
}

CUBI_SYS(tgkill)
{
	struct cubi_thread *t;

	if ((int64_t)A0(r) <= 0 || (int64_t)A1(r) <= 0)
		return -CUB_EINVAL;
	if (A0(r) != CUBI_PID || !(t = thread_with_tid((int64_t)A1(r))))
		return A2(r) > NSIG ? -CUB_EINVAL : -CUB_ESRCH;
	return send(t, A2(r), CUBI_SI_TKILL);
}

CUBI_SYS(tkill)
{
	struct cubi_thread *t;

	if ((int64_t)A0(r) <= 0)
		return -CUB_EINVAL;
	if (!(t = thread_with_tid((int64_t)A0(r))))
		return A1(r) > NSIG ? -CUB_EINVAL : -CUB_ESRCH;
	return send(t, A1(r), CUBI_SI_TKILL);
}

/* rt_sigqueueinfo and rt_tgsigqueueinfo: sig with the caller's siginfo
 * (its si_code, si_pid, si_uid, si_value) to the process or to thread t. */
static long queue_info(struct cubi_thread *t, uint64_t sig, uintptr_t uinfo)
{
	struct cubi_siginfo info;
	struct cubi_sigsrc src;

	if (cubi_copy_in(&info, uinfo, sizeof(info)))
		return -CUB_EFAULT;
	src = (struct cubi_sigsrc){ .code = info.code, .pid = info.pid, .uid = info.uid };
	cub_memcpy(&src.value, info.rest, sizeof(src.value));
	return send_src(t, sig, &src, true, NULL);
}

CUBI_SYS(rt_sigqueueinfo)
{
	if ((int64_t)A0(r) != CUBI_PID)
		return A1(r) > NSIG ? -CUB_EINVAL : -CUB_ESRCH;
	(void)cubi_thread_self();	/* the caller is among the threads */
	return queue_info(NULL, A1(r), A2(r));
}

CUBI_SYS(rt_tgsigqueueinfo)
{
	struct cubi_thread *t;

	if ((int64_t)A0(r) <= 0 || (int64_t)A1(r) <= 0)
		return -CUB_EINVAL;
	if (A0(r) != CUBI_PID || !(t = thread_with_tid((int64_t)A1(r))))
		return A2(r) > NSIG ? -CUB_EINVAL : -CUB_ESRCH;
	return queue_info(t, A2(r), A3(r));
}

void cubi_signal_thread_gone(struct cubi_thread *t)
{
	cubi_sigpend_clear(&t->pending);
	if (t->suspended)
		cubi_signal_npending--;
	t->suspended = false;
}

bool cubi_signal_pending(void)
{
	return cubi_signal_npending != 0;
}

bool cubi_signal_deliverable(const struct cubi_thread *t)
{
	return (pending_for(t) & (~t->sigmask | t->waitset)) != 0;
}

void cubi_signal_suspend(struct cubi_thread *t, uint64_t mask)
{
	if (!t->suspended)
		cubi_signal_npending++;	/* the way out must restore the mask */
	t->suspend_saved = t->sigmask;
	t->suspended = true;
	t->sigmask = mask & ~UNBLOCKABLE;
}
