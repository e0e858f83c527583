/*
 * prctl.c - prctl's settings a one-process machine can honour: a
 * thread's name (PR_SET_NAME/PR_GET_NAME, kept in struct cubi_thread:
 * /proc's comm shows it) and its keep-capabilities bit
 * (PR_SET_KEEPCAPS/PR_GET_KEEPCAPS: per thread, as Linux keeps it in each
 * thread's credentials; recorded only, since a uid change never drops
 * capabilities here - Go's syscall.AllThreadsSyscall sets it on every
 * thread and each must accept it), and per-process flags that are recorded and
 * reported back because nothing here acts on them: the parent-death
 * signal (pid 1 has no parent to die), dumpable (no core dumps),
 * no_new_privs (no exec gains privileges), the timer slack (timers fire
 * when due) and seccomp (never on). Any other option: -EINVAL, as Linux
 * answers an option it does not know.
 *
 * Locking: a thread's name is written under irq_save, by the thread
 * itself (PR_SET_NAME) or through its /proc comm (another thread, as
 * musl's pthread_setname_np does); keepcaps only by its own thread; the
 * flags are single words.
 */
#include <cubrt/arch.h>
#include <cubrt/string.h>

#include "procfs_impl.h"
#include "shim_impl.h"

#define PR_SET_PDEATHSIG 1
#define PR_GET_PDEATHSIG 2
#define PR_GET_DUMPABLE 3
#define PR_SET_DUMPABLE 4
#define PR_GET_KEEPCAPS 7
#define PR_SET_KEEPCAPS 8
#define PR_SET_NAME 15
#define PR_GET_NAME 16
#define PR_GET_SECCOMP 21
#define PR_SET_TIMERSLACK 29
#define PR_GET_TIMERSLACK 30
#define PR_SET_NO_NEW_PRIVS 38
#define PR_GET_NO_NEW_PRIVS 39
#define NAME_LEN 16			/* TASK_COMM_LEN, NUL included */
#define SLACK_DEFAULT 50000		/* ns, Linux's default */
#define NSIG 64

static int pdeathsig;
static bool undumpable, no_new_privs;
static uint64_t slack = SLACK_DEFAULT;

void cubi_thread_name(const struct cubi_thread *t, char name[16])
{
	const char *exe = cubi_procfs_exe(), *base = exe;

	if (t && t->name[0]) {
		cub_memcpy(name, t->name, NAME_LEN);
		return;
	}
	for (const char *p = exe; *p; p++)	/* default: exe's last part */
		if (*p == '/')
			base = p + 1;
	cub_memset(name, 0, NAME_LEN);
	cub_memcpy(name, base, cub_strnlen(base, NAME_LEN - 1));
}

/* Linux copies at most 15 bytes and stops at a NUL or a fault past the
 * first byte; a bad first byte is -EFAULT. */
static long set_name(uintptr_t src)
{
	char name[NAME_LEN] = { 0 };

	for (size_t i = 0; i < NAME_LEN - 1; i++) {
		if (cubi_copy_in(&name[i], src + i, 1))
			return i ? 0 : -CUB_EFAULT;
		if (!name[i])
			break;
	}
	return cubi_thread_rename(cubi_thread_self()->tid, name, NAME_LEN);
}

long cubi_thread_rename(int tid, const char *name, size_t len)
{
	unsigned long irq = cub_arch_irq_save();	/* t stays alive */
	struct cubi_thread *t = cubi_thread_by_tid(tid ? tid : 1);

	if (t) {
		cub_memset(t->name, 0, NAME_LEN);
		cub_memcpy(t->name, name, CUB_MIN(len, (size_t)NAME_LEN - 1));
	}
	cub_arch_irq_restore(irq);
	return t ? 0 : -CUB_ESRCH;
}

static long get_name(uintptr_t dst)
{
	char name[NAME_LEN];

	cubi_thread_name(cubi_thread_self(), name);
	return cubi_copy_out(dst, name, NAME_LEN);
}

/* PR_SET_NO_NEW_PRIVS and its getter want their unused arguments 0. */
static long nnp(uint64_t op, const uint64_t a[4])
{
	if (op == PR_GET_NO_NEW_PRIVS)
		return a[0] || a[1] || a[2] || a[3] ? -CUB_EINVAL : no_new_privs;
	if (a[0] != 1 || a[1] || a[2] || a[3])
		return -CUB_EINVAL;
	no_new_privs = true;	/* for good, as on Linux */
	return 0;
}

CUBI_SYS(prctl)
{
	const uint64_t a[4] = { A1(r), A2(r), A3(r), A4(r) };
	int32_t sig = pdeathsig;

	switch (A0(r)) {
	case PR_SET_PDEATHSIG:
		if (a[0] > NSIG)
			return -CUB_EINVAL;
		pdeathsig = (int)a[0];
		return 0;
	case PR_GET_PDEATHSIG:
		return cubi_copy_out(a[0], &sig, sizeof(sig));
	case PR_GET_DUMPABLE:
		return !undumpable;
	case PR_SET_DUMPABLE:
		if (a[0] > 1)
			return -CUB_EINVAL;
		undumpable = !a[0];
		return 0;
	case PR_GET_KEEPCAPS:
		return cubi_thread_self()->keepcaps;
	case PR_SET_KEEPCAPS:
		if (a[0] > 1)
			return -CUB_EINVAL;
		cubi_thread_self()->keepcaps = a[0];
		return 0;
	case PR_SET_NAME:
		return set_name(a[0]);
	case PR_GET_NAME:
		return get_name(a[0]);
	case PR_GET_SECCOMP:
		return 0;
	case PR_SET_TIMERSLACK:
		slack = a[0] ? a[0] : SLACK_DEFAULT;
		return 0;
	case PR_GET_TIMERSLACK:
		return (long)(slack > (uint64_t)INT64_MAX ? INT64_MAX : slack);
	case PR_SET_NO_NEW_PRIVS: case PR_GET_NO_NEW_PRIVS:
		return nnp(A0(r), a);
	default:
		return -CUB_EINVAL;
	}
}
