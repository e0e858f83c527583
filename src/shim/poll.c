/*
 * poll.c - poll, ppoll, select and pselect6 over the fd layer.
 *
 * A descriptor's readiness is its file's poll op (pipes, sockets: the
 * same bits epoll sees; poll's POLLIN/POLLOUT/POLLERR/POLLHUP/POLLRDHUP
 * have epoll's values); the console is always writable and readable
 * while input waits (cub_console_input_ready); files without a poll op
 * (regular files, directories, devices, epoll instances) are always
 * ready for both, as on Linux.
 *
 * Waiting is epoll's: sample io_seq and look inside one critical
 * section, then sleep on it until something changed, the timeout or a
 * signal (-EINTR; never restarted, as on Linux). Console input bumps
 * io_seq through the console's input hook; a console without input
 * interrupts is looked at again every 10 ms while a poll waits for it.
 * ppoll's and pselect6's signal masks are checked and ignored, like
 * epoll_pwait's.
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/irq.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "shim_impl.h"

#define POLLIN 0x001u
#define POLLPRI 0x002u
#define POLLOUT 0x004u
#define POLLERR 0x008u
#define POLLHUP 0x010u
#define POLLNVAL 0x020u
#define POLLRDNORM 0x040u
#define POLLWRNORM 0x100u
#define ALWAYS (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)
#define FDSET_MAX 1024			/* FD_SETSIZE */
#define CONSOLE_RECHECK_NS (10u * 1000 * 1000)

struct pollfd_user {
	int32_t fd;
	int16_t events, revents;
};

/* What fd is ready for now (irq off); POLLNVAL when it is not open. */
static uint32_t ready_of(int64_t fd)
{
	struct cubi_file *f = fd >= 0 ? cubi_fd_file((uint64_t)fd) : NULL;

	if (!f)
		return POLLNVAL;
	if (f == &cubi_console_file)
		return POLLOUT | POLLWRNORM |
		       (cub_console_input_ready() ? POLLIN | POLLRDNORM : 0);
	return f->ops->poll ? f->ops->poll(f) : ALWAYS;
}

static void console_input(void)
{
	unsigned long irq = cub_arch_irq_save();

	cubi_io_changed();
	cub_arch_irq_restore(irq);
}

/* The absolute deadline for a timeout in ns (< 0: none -> 0). */
static uint64_t deadline_of(int64_t ns)
{
	return ns < 0 ? 0 : cub_time_now() + (uint64_t)ns + (ns == 0);
}

/*
 * Runs scan (irq off; returns how many descriptors are ready, or a
 * negative error) until it finds some, the deadline passes (0: none; an
 * expired deadline returns 0) or a signal. console: some descriptor is
 * the console, which without input interrupts has to be looked at again.
 */
static long wait_ready(long (*scan)(void *arg, bool *console), void *arg,
		       int64_t timeout_ns)
{
	uint64_t deadline = deadline_of(timeout_ns);

	cub_console_set_input_hook(console_input);
	for (;;) {
		unsigned long irq = cub_arch_irq_save();
		uint32_t seq = cubi_io_seq();
		bool console = false;
		long n = scan(arg, &console);
		uint64_t until = deadline;

		cub_arch_irq_restore(irq);
		if (n != 0 || timeout_ns == 0 ||
		    (deadline && cub_time_now() >= deadline))
			return n;
		if (console && !cub_console_irq_driven()) {
			uint64_t soon = cub_time_now() + CONSOLE_RECHECK_NS;

			until = !until || soon < until ? soon : until;
		}
		if (cubi_io_wait(seq, until, "poll") == -CUB_EINTR)
			return -CUB_EINTR;
	}
}

/* ---------------------------------------------------------------- poll */

struct poll_args {
	struct pollfd_user *fds;	/* a copy of the program's array */
	uint64_t nfds;
};

static long poll_scan(void *arg, bool *console)
{
	struct poll_args *p = arg;
	long n = 0;

	for (uint64_t i = 0; i < p->nfds; i++) {
		struct pollfd_user *e = &p->fds[i];
		uint32_t want = (uint16_t)e->events | POLLERR | POLLHUP | POLLNVAL;

		e->revents = 0;
		if (e->fd < 0)
			continue;	/* ignored, as on Linux */
		*console |= cubi_fd_file((uint64_t)e->fd) == &cubi_console_file;
		e->revents = (int16_t)(ready_of(e->fd) & want);
		n += e->revents != 0;
	}
	return n;
}

static long do_poll(uintptr_t ufds, uint64_t nfds, int64_t timeout_ns)
{
	struct poll_args p = { NULL, nfds };
	size_t bytes = nfds * sizeof(struct pollfd_user);
	long n;

	if (nfds > CUBI_FD_MAX)
		return -CUB_EINVAL;	/* Linux: more than RLIMIT_NOFILE */
	if (nfds && !(p.fds = cub_malloc(bytes)))
		return -CUB_ENOMEM;
	n = cubi_copy_in(p.fds, ufds, bytes);
	if (n == 0)
		n = wait_ready(poll_scan, &p, timeout_ns);
	if (n >= 0 && cubi_copy_out(ufds, p.fds, bytes))
		n = -CUB_EFAULT;
	cub_free(p.fds);
	return n;
}

CUBI_SYS(poll)
{
	int timeout_ms = (int)A2(r);

	return do_poll(A0(r), A1(r), timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000000);
}

/* A timespec (usec: a timeval) at uts as ns in *ns, -1 for NULL (no
 * timeout): 0, -EFAULT or -EINVAL. */
static int get_timeout(uintptr_t uts, bool usec, int64_t *ns)
{
	int64_t t[2];
	int64_t unit = usec ? 1000 : 1, max = usec ? 999999 : 999999999;

	*ns = -1;
	if (!uts)
		return 0;
	if (cubi_copy_in(t, uts, sizeof(t)))
		return -CUB_EFAULT;
	if (t[0] < 0 || t[1] < 0 || t[1] > max)
		return -CUB_EINVAL;
	*ns = t[0] >= INT64_MAX / 2000000000 ? INT64_MAX / 2
					      : t[0] * 1000000000 + t[1] * unit;
	return 0;
}

/* ppoll(fds, nfds, timeout, sigmask, sigsetsize) */
CUBI_SYS(ppoll)
{
	int64_t ns;
	int rc = get_timeout(A2(r), false, &ns);

	if (rc)
		return rc;
	if (A3(r) && A4(r) != 8)
		return -CUB_EINVAL;
	return do_poll(A0(r), A1(r), ns);
}

/* -------------------------------------------------------------- select */

/* The three fd_sets: what was asked (in) and what is ready (out). */
struct select_args {
	int nfds;
	uint64_t in[3][FDSET_MAX / 64], out[3][FDSET_MAX / 64];
};

static bool has(const uint64_t *set, int fd)
{
	return set[fd / 64] >> (fd % 64) & 1;
}

static long select_scan(void *arg, bool *console)
{
	static const uint32_t mask[3] = {
		POLLIN | POLLRDNORM | POLLHUP | POLLERR,	/* readable */
		POLLOUT | POLLWRNORM | POLLERR,			/* writable */
		POLLPRI,					/* exceptional */
	};
	struct select_args *a = arg;
	long n = 0;

	cub_memset(a->out, 0, sizeof(a->out));
	for (int fd = 0; fd < a->nfds; fd++) {
		uint32_t ready;

		if (!has(a->in[0], fd) && !has(a->in[1], fd) && !has(a->in[2], fd))
			continue;
		ready = ready_of(fd);
		if (ready & POLLNVAL)
			return -CUB_EBADF;
		*console |= cubi_fd_file((uint64_t)fd) == &cubi_console_file;
		for (int k = 0; k < 3; k++) {
			if (has(a->in[k], fd) && (ready & mask[k])) {
				a->out[k][fd / 64] |= 1ull << (fd % 64);
				n++;
			}
		}
	}
	return n;
}

/* select and pselect6: sets of nfds bits (rounded up to whole longs,
 * as the kernel copies them) read, waited on, written back. */
static long do_select(int nfds, const uintptr_t uset[3], int64_t timeout_ns)
{
	struct select_args *a;
	size_t bytes = ((size_t)nfds + 63) / 64 * 8;
	long n = 0;

	if (nfds < 0 || nfds > FDSET_MAX)
		return -CUB_EINVAL;
	if (!(a = cub_calloc(1, sizeof(*a))))
		return -CUB_ENOMEM;
	a->nfds = nfds;
	for (int k = 0; k < 3 && n == 0; k++)
		if (uset[k])
			n = cubi_copy_in(a->in[k], uset[k], bytes);
	if (n == 0)
		n = wait_ready(select_scan, a, timeout_ns);
	for (int k = 0; k < 3 && n >= 0; k++)
		if (uset[k] && cubi_copy_out(uset[k], a->out[k], bytes))
			n = -CUB_EFAULT;
	cub_free(a);
	return n;
}

/* select(nfds, readfds, writefds, exceptfds, timeval) */
CUBI_SYS(select)
{
	const uintptr_t sets[3] = { A1(r), A2(r), A3(r) };
	int64_t ns;
	int rc = get_timeout(A4(r), true, &ns);

	return rc ? rc : do_select((int)A0(r), sets, ns);
}

/* pselect6(nfds, readfds, writefds, exceptfds, timespec, {sigmask, size}) */
CUBI_SYS(pselect6)
{
	const uintptr_t sets[3] = { A1(r), A2(r), A3(r) };
	uint64_t sig[2];
	int64_t ns;
	int rc = get_timeout(A4(r), false, &ns);

	if (rc)
		return rc;
	if (A5(r) && cubi_copy_in(sig, A5(r), sizeof(sig)))
		return -CUB_EFAULT;
	if (A5(r) && sig[0] && sig[1] != 8)
		return -CUB_EINVAL;
	return do_select((int)A0(r), sets, ns);
}
