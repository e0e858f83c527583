/*
 * io.c - the descriptor calls: fds 0, 1 and 2 are the serial console,
 * higher ones go to the fd layer (fd.c: pipes and epoll instances).
 *
 * cubrt has no file system: fds 0-2 exist from boot (all three are the
 * console; writes go out through cub_arch_console_putc, reads come from
 * the console input) and opening a path is -ENOENT. The console is not reported as a terminal (TIOCGWINSZ and
 * TCGETS give -ENOTTY), so a libc fully buffers stdout and flushes at exit.
 */
#include <cubrt/arch.h>
#include <cubrt/irq.h>
#include <cubrt/string.h>

#include "shim_impl.h"

#define MAX_RW (0x7ffff000ul)	/* Linux's MAX_RW_COUNT */
#define IOV_MAX 1024
#define TIOCGWINSZ 0x5413
#define F_GETFD 1
#define F_SETFD 2
#define F_GETFL 3
#define F_SETFL 4
#define O_RDWR 2
#define S_IFCHR 0020000

struct iovec_user {
	uint64_t base, len;
};

static bool is_console(uint64_t fd)
{
	return fd <= 2;
}

static long console_write(uintptr_t buf, size_t n)
{
	if (n > MAX_RW)
		n = MAX_RW;
	if (!cubi_user_readable(buf, n))
		return -CUB_EFAULT;
	for (size_t i = 0; i < n; i++)
		cub_arch_console_putc(((const char *)buf)[i]);
	return (long)n;
}

/*
 * Blocks until at least one byte arrived, then returns what is waiting (up
 * to n), through the interrupt-driven console (cub_console_read: the
 * UART's receive interrupt wakes the parked reader). A signal with a
 * handler for the reading thread ends the wait with -EINTR.
 */
static long console_read(uintptr_t buf, size_t n)
{
	struct cubi_thread *t;
	unsigned long irq;
	long rc;

	if (n == 0)
		return 0;
	if (n > MAX_RW)
		n = MAX_RW;
	if (!cubi_user_writable(buf, n))
		return -CUB_EFAULT;
	t = cubi_thread_self();
	irq = cub_arch_irq_save();
	if (cubi_signal_deliverable(t)) {
		cub_arch_irq_restore(irq);
		return -CUB_EINTR;	/* a handler is due: do not block */
	}
	t->console_wait = true;		/* signal.c may interrupt the read */
	cub_arch_irq_restore(irq);
	rc = cub_console_read((void *)buf, n);
	t->console_wait = false;
	return rc;
}

CUBI_SYS(write)
{
	if (!is_console(A0(r)))
		return cubi_fd_write(A0(r), A1(r), A2(r));
	return console_write(A1(r), A2(r));
}

CUBI_SYS(read)
{
	if (!is_console(A0(r)))
		return cubi_fd_read(A0(r), A1(r), A2(r));
	return console_read(A1(r), A2(r));
}

/* One iovec segment through read or write, on any descriptor. */
static long segment_io(uint64_t fd, struct iovec_user e, bool out)
{
	if (is_console(fd))
		return out ? console_write(e.base, e.len) : console_read(e.base, e.len);
	return out ? cubi_fd_write(fd, e.base, e.len) : cubi_fd_read(fd, e.base, e.len);
}

/*
 * Validates an iovec array in place (it must stay readable: handlers run
 * on the caller's CPU with nothing else unmapping it); returns the total.
 */
/* Entry i of a checked iovec array (which need not be aligned). */
static struct iovec_user iov_at(uintptr_t uiov, uint64_t i)
{
	struct iovec_user e;

	cub_memcpy(&e, (const void *)(uiov + i * sizeof(e)), sizeof(e));
	return e;
}

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

static long do_iov(struct cub_shim_regs *r, bool out)
{
	long total, done = 0;

	if (!is_console(A0(r)) && !cubi_fd_valid(A0(r)))
		return -CUB_EBADF;
	total = check_iov(A1(r), A2(r));
	if (total < 0)
		return total;
	for (uint64_t i = 0; i < A2(r); i++) {
		struct iovec_user e = iov_at(A1(r), i);
		long n;

		if (!e.len)
			continue;
		if (!out)	/* readv: one read into the first buffer */
			return segment_io(A0(r), e, false);
		n = segment_io(A0(r), e, true);
		if (n < 0)
			return done ? done : n;
		done += n;
		if ((uint64_t)n < e.len)
			break;	/* a short write (non-blocking pipe) */
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

CUBI_SYS(ioctl)
{
	if (!is_console(A0(r)))
		return cubi_fd_ioctl(A0(r));
	return -CUB_ENOTTY;	/* TIOCGWINSZ, TCGETS, ...: not a terminal */
}

CUBI_SYS(close)
{
	return is_console(A0(r)) ? 0 : cubi_fd_close(A0(r));
}

CUBI_SYS(fcntl)
{
	if (!is_console(A0(r)))
		return cubi_fd_fcntl(A0(r), (unsigned)A1(r), A2(r));
	switch (A1(r)) {
	case F_GETFD:
	case F_SETFD:
	case F_SETFL:
		return 0;
	case F_GETFL:
		return O_RDWR;
	default:
		return -CUB_EINVAL;
	}
}

static long no_files(uintptr_t path)
{
	char buf[256];
	int rc = cubi_copy_str_in(buf, path, sizeof(buf));

	return rc == -CUB_EFAULT ? rc : -CUB_ENOENT;
}

CUBI_SYS(openat)
{
	return no_files(A1(r));
}

CUBI_SYS(open)
{
	return no_files(A0(r));
}

CUBI_SYS(lseek)
{
	return is_console(A0(r)) || cubi_fd_valid(A0(r)) ? -CUB_ESPIPE : -CUB_EBADF;
}

/* struct stat (x86-64): st_mode at offset 24, 144 bytes in all. */
CUBI_SYS(fstat)
{
	uint8_t st[144] = { 0 };
	uint32_t mode = S_IFCHR | 0620;

	if (!is_console(A0(r)) && cubi_fd_fstat(A0(r), &mode))
		return -CUB_EBADF;
	cub_memcpy(st + 24, &mode, sizeof(mode));
	return cubi_copy_out(A1(r), st, sizeof(st));
}
