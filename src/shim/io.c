/*
 * io.c - the serial console as a file (descriptors 0, 1 and 2 at boot),
 * and the descriptor calls that only pass through to the fd layer
 * (fd.c): read, write, readv, writev, close, fcntl, lseek (ioctl is
 * ioctl.c's; fcntl's seal commands go to memfd.c, its record locks to
 * reclock.c).
 *
 * Console writes go out through cub_arch_console_putc; reads come from
 * the interrupt-driven console input. The console is not reported as a
 * terminal (TIOCGWINSZ and TCGETS give -ENOTTY), so a libc fully buffers
 * stdout and flushes at exit.
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/irq.h>
#include <cubrt/string.h>

#include "shim_impl.h"

#define IOV_MAX 1024
#define MAX_RW (0x7ffff000ul)	/* Linux's MAX_RW_COUNT */

struct iovec_user {
	uint64_t base, len;
};

#define CONSOLE_CHUNK 256	/* bytes one console read returns at most */

/*
 * Blocks until at least one byte arrived, then returns what is waiting (up
 * to n, at most CONSOLE_CHUNK), through the interrupt-driven console
 * (cub_console_read: the UART's receive interrupt wakes the parked
 * reader). A signal with a handler for the reading thread ends the wait
 * with -EINTR. The bytes go through a buffer of the shim's own and a
 * checked copy: while the reader waited, another thread may have
 * unmapped the program's buffer.
 */
static long console_read(void *buf, size_t n)
{
	char chunk[CONSOLE_CHUNK];
	struct cubi_thread *t;
	unsigned long irq;
	long rc;

	if (n == 0)
		return 0;
	if (n > sizeof(chunk))
		n = sizeof(chunk);
	t = cubi_thread_self();
	irq = cub_arch_irq_save();
	if (cubi_signal_deliverable(t)) {
		cub_arch_irq_restore(irq);
		return -CUB_EINTR;	/* a handler is due: do not block */
	}
	t->console_wait = true;		/* signal.c may interrupt the read */
	cub_arch_irq_restore(irq);
	rc = cub_console_read(chunk, n);
	t->console_wait = false;
	if (rc > 0 && cubi_copy_out((uintptr_t)buf, chunk, (size_t)rc))
		return -CUB_EFAULT;
	return rc;
}

/* The fd layer checked the buffer and holds a reference; the console has
 * no position, so off is ignored. */
static long console_io(struct cubi_file *f, void *buf, size_t n, int64_t off,
		       bool out)
{
	(void)f;
	(void)off;
	if (!out)
		return console_read(buf, n);
	for (size_t i = 0; i < n; i++)
		cub_arch_console_putc(((const char *)buf)[i]);
	return (long)n;
}

/* Never released: the object is static (closing 0-2 only drops refs). */
static void *console_release(struct cubi_file *f)
{
	(void)f;
	return NULL;
}

static const struct cubi_file_ops console_ops = {
	.io = console_io, .release = console_release,
	.mode = CUBI_S_IFCHR | 0620,
};

/* Three references: descriptors 0, 1 and 2 (fd.c's initial table). */
struct cubi_file cubi_console_file = {
	.ops = &console_ops, .flags = CUBI_O_RDWR, .refs = 3,
};

CUBI_SYS(write)
{
	return cubi_fd_write(A0(r), A1(r), A2(r));
}

CUBI_SYS(read)
{
	return cubi_fd_read(A0(r), A1(r), A2(r));
}

/* Entry i of a checked iovec array (which need not be aligned). */
static struct iovec_user iov_at(uintptr_t uiov, uint64_t i)
{
	struct iovec_user e;

	cub_memcpy(&e, (const void *)(uiov + i * sizeof(e)), sizeof(e));
	return e;
}

/*
 * Validates an iovec array in place (it must stay readable: handlers run
 * on the caller's CPU with nothing else unmapping it); returns the total.
 */
static long check_iov(uintptr_t uiov, uint64_t cnt)
{
	uint64_t total = 0;

	if ((int64_t)cnt < 0 || cnt > IOV_MAX)
		return -CUB_EINVAL;
	if (!cubi_user_readable(uiov, cnt * sizeof(struct iovec_user)))
		return -CUB_EFAULT;
	for (uint64_t i = 0; i < cnt; i++) {
		struct iovec_user e = iov_at(uiov, i);

		if ((int64_t)e.len < 0 || total + e.len < total)
			return -CUB_EINVAL;
		total += e.len;
	}
	return total > MAX_RW ? -CUB_EINVAL : (long)total;
}

/*
 * A datagram socket: the segments are one message, gathered into a
 * buffer of the shim's and written once, or read once and scattered.
 */
static long datagram_iov(struct cub_shim_regs *r, size_t total, bool out)
{
	char *msg = cub_malloc(total ? total : 1);
	long n, done = 0;

	if (!msg)
		return -CUB_ENOMEM;
	for (uint64_t i = 0; out && i < A2(r); i++) {
		struct iovec_user e = iov_at(A1(r), i);

		if (cubi_copy_in(msg + done, e.base, e.len)) {
			cub_free(msg);
			return -CUB_EFAULT;
		}
		done += (long)e.len;
	}
	n = out ? cubi_fd_write(A0(r), (uintptr_t)msg, total)
		: cubi_fd_read(A0(r), (uintptr_t)msg, total);
	for (uint64_t i = 0, at = 0; !out && n > 0 && i < A2(r) && at < (uint64_t)n; i++) {
		struct iovec_user e = iov_at(A1(r), i);
		uint64_t k = CUB_MIN(e.len, (uint64_t)n - at);

		if (cubi_copy_out(e.base, msg + at, k)) {
			n = -CUB_EFAULT;
			break;
		}
		at += k;
	}
	cub_free(msg);
	return n;
}

/*
 * Segment by segment until one comes back short. A stream (pipe,
 * console) is read only once: a second read could wait although data
 * already arrived; a regular file's reads never wait.
 */
static long do_iov(struct cub_shim_regs *r, bool out)
{
	long total, done = 0;
	bool stream;

	if (!cubi_fd_valid(A0(r)))
		return -CUB_EBADF;
	total = check_iov(A1(r), A2(r));
	if (total < 0)
		return total;
	if (cubi_fd_datagram(A0(r)))
		return datagram_iov(r, (size_t)total, out);
	stream = !out && !cubi_fd_seekable(A0(r));
	for (uint64_t i = 0; i < A2(r); i++) {
		struct iovec_user e = iov_at(A1(r), i);
		long n;

		if (!e.len)
			continue;
		n = out ? cubi_fd_write(A0(r), e.base, e.len)
			: cubi_fd_read(A0(r), e.base, e.len);
		if (n < 0)
			return done ? done : n;
		done += n;
		if ((uint64_t)n < e.len || stream)
			break;
	}
	return done;
}

CUBI_SYS(writev)
{
	return do_iov(r, true);
}

CUBI_SYS(readv)
{
	return do_iov(r, false);
}

CUBI_SYS(close)
{
	return cubi_fd_close(A0(r));
}

CUBI_SYS(fcntl)
{
	unsigned cmd = (unsigned)A1(r);

	if (cmd == CUBI_F_ADD_SEALS || cmd == CUBI_F_GET_SEALS)	/* memfd.c */
		return cubi_memfd_fcntl(A0(r), cmd, A2(r));
	if (cmd == CUBI_F_GETLK || cmd == CUBI_F_SETLK || cmd == CUBI_F_SETLKW)
		return cubi_reclock_fcntl(A0(r), cmd, A2(r));	/* reclock.c */
	if (cmd == CUBI_F_SETPIPE_SZ || cmd == CUBI_F_GETPIPE_SZ)
		return cubi_pipe_fcntl(A0(r), cmd, A2(r));	/* pipe.c */
	return cubi_fd_fcntl(A0(r), cmd, A2(r));
}

CUBI_SYS(lseek)
{
	return cubi_fd_seek(A0(r), (int64_t)A1(r), (int)A2(r));
}
