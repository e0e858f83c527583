/*
 * fd.c - file descriptors 3 and up: the table, the generic read, write,
 * close, fcntl, fstat and ioctl paths, and how a call waits.
 *
 * Files are pipe ends (pipe.c) and epoll instances (epoll.c); 0-2 stay
 * the console (io.c). A descriptor owns its file (there is no dup), so
 * closing it releases the file.
 *
 * Locking: the table, every file and everything their ops touch are
 * protected by disabling interrupts (one CPU; a preemption tick or a
 * device interrupt can switch threads at any other point). Ops never
 * block inside that critical section; a call that must wait samples
 * io_seq inside it and then sleeps on io_seq as a futex word, so a change
 * between the two (cubi_io_changed bumps io_seq and wakes every waiter)
 * is never lost: the futex compares the word atomically with its enqueue.
 * One word for all files means waiters re-check after unrelated changes;
 * with a handful of threads that is cheaper than per-file wait queues.
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/sched.h>

#include "shim_impl.h"

#define F_GETFD 1
#define F_SETFD 2
#define F_GETFL 3
#define F_SETFL 4
#define FD_CLOEXEC 1
#define MAX_RW (0x7ffff000ul)	/* Linux's MAX_RW_COUNT */

static struct {
	struct cubi_file *file;
	bool cloexec;
} table[CUBI_FD_MAX];
static uint32_t io_seq;

long cubi_fd_install(struct cubi_file *f, bool cloexec)
{
	for (int fd = 3; fd < CUBI_FD_MAX; fd++) {
		if (!table[fd].file) {
			table[fd].file = f;
			table[fd].cloexec = cloexec;
			return fd;
		}
	}
	return -CUB_EMFILE;
}

void cubi_fd_uninstall(long fd)
{
	table[fd].file = NULL;
}

struct cubi_file *cubi_fd_file(uint64_t fd)
{
	return fd >= 3 && fd < CUBI_FD_MAX ? table[fd].file : NULL;
}

bool cubi_fd_valid(uint64_t fd)
{
	unsigned long irq = cub_arch_irq_save();
	bool open = cubi_fd_file(fd) != NULL;

	cub_arch_irq_restore(irq);
	return open;
}

uint32_t cubi_io_seq(void)
{
	return io_seq;
}

void cubi_io_changed(void)
{
	io_seq++;
	cubi_futex_wake((uintptr_t)&io_seq, 0x7fffffff, ~0u);
}

int cubi_io_wait(uint32_t seq, uint64_t deadline, const char *what)
{
	long rc = cubi_futex_wait((uintptr_t)&io_seq, seq, deadline, ~0u, what);

	return rc == -CUB_ETIMEDOUT || rc == -CUB_EINTR ? (int)rc : 0;
}

/* The file at fd checked for reading or writing (irq off): NULL with
 * *err = -EBADF (not open, or the wrong end of a pipe) or -EINVAL (a file
 * that cannot be read or written, like an epoll instance). */
static struct cubi_file *rw_file(uint64_t fd, bool out, long *err)
{
	struct cubi_file *f = cubi_fd_file(fd);
	unsigned acc = f ? f->flags & CUBI_O_ACCMODE : 0;

	*err = -CUB_EBADF;
	if (!f || acc == (out ? 0u : CUBI_O_WRONLY))
		return NULL;
	*err = -CUB_EINVAL;
	return (out ? f->ops->write != NULL : f->ops->read != NULL) ? f : NULL;
}

/*
 * Runs a read or write op, waiting while it would block unless the file
 * is non-blocking. A blocking write goes on until all n bytes are in
 * (pipe.c keeps writes of up to PIPE_BUF bytes atomic); an error after
 * some bytes went through returns their count, as on Linux.
 */
static long transfer(uint64_t fd, uintptr_t buf, size_t n, bool out)
{
	size_t done = 0;

	for (;;) {
		unsigned long irq = cub_arch_irq_save();
		uint32_t seq = io_seq;
		long r;
		struct cubi_file *f = rw_file(fd, out, &r);
		bool nonblock = f && (f->flags & CUBI_O_NONBLOCK);

		if (f)
			r = out ? f->ops->write(f, (const char *)buf + done, n - done)
				: f->ops->read(f, (char *)buf, n);
		cub_arch_irq_restore(irq);
		if (r >= 0 && !out)
			return r;
		if (r >= 0)
			done += (size_t)r;
		if (r >= 0 && (done == n || nonblock))
			return (long)done;
		if (r < 0 && (r != -CUB_EAGAIN || nonblock))
			return done ? (long)done : r;
		if (r == -CUB_EAGAIN &&
		    cubi_io_wait(seq, 0, out ? "pipe write" : "pipe read") == -CUB_EINTR)
			return done ? (long)done : -CUB_EINTR;
	}
}

/* read and write: the count clamped as Linux does, the buffer checked. */
static long checked_transfer(uint64_t fd, uintptr_t buf, size_t n, bool out)
{
	if (n > MAX_RW)
		n = MAX_RW;
	if (n && !(out ? cubi_user_readable(buf, n) : cubi_user_writable(buf, n)))
		return cubi_fd_valid(fd) ? -CUB_EFAULT : -CUB_EBADF;
	return transfer(fd, buf, n, out);
}

long cubi_fd_read(uint64_t fd, uintptr_t buf, size_t n)
{
	return checked_transfer(fd, buf, n, false);
}

long cubi_fd_write(uint64_t fd, uintptr_t buf, size_t n)
{
	return checked_transfer(fd, buf, n, true);
}

long cubi_fd_close(uint64_t fd)
{
	unsigned long irq = cub_arch_irq_save();
	struct cubi_file *f = cubi_fd_file(fd);
	void *mem;

	if (!f) {
		cub_arch_irq_restore(irq);
		return -CUB_EBADF;
	}
	table[fd].file = NULL;
	cubi_epoll_forget(f);
	mem = f->ops->release(f);
	cubi_io_changed();
	cub_arch_irq_restore(irq);
	cub_free(mem);
	return 0;
}

long cubi_fd_fcntl(uint64_t fd, unsigned cmd, uint64_t arg)
{
	unsigned long irq = cub_arch_irq_save();
	struct cubi_file *f = cubi_fd_file(fd);
	long r = 0;

	if (!f)
		r = -CUB_EBADF;
	else if (cmd == F_GETFD)
		r = table[fd].cloexec ? FD_CLOEXEC : 0;
	else if (cmd == F_SETFD)
		table[fd].cloexec = arg & FD_CLOEXEC;
	else if (cmd == F_GETFL)
		r = f->flags;
	else if (cmd == F_SETFL)	/* only O_NONBLOCK can change, as on Linux */
		f->flags = (f->flags & ~CUBI_O_NONBLOCK) | (arg & CUBI_O_NONBLOCK);
	else	/* F_DUPFD and the rest: descriptors are never shared */
		r = -CUB_EINVAL;
	if (cmd == F_SETFL && f)
		cubi_io_changed();	/* a waiter may now have to return */
	cub_arch_irq_restore(irq);
	return r;
}

long cubi_fd_fstat(uint64_t fd, uint32_t *mode)
{
	unsigned long irq = cub_arch_irq_save();
	struct cubi_file *f = cubi_fd_file(fd);

	if (f)
		*mode = f->ops->mode;
	cub_arch_irq_restore(irq);
	return f ? 0 : -CUB_EBADF;
}

/* No ioctl applies to pipes or epoll instances. */
long cubi_fd_ioctl(uint64_t fd)
{
	unsigned long irq = cub_arch_irq_save();
	struct cubi_file *f = cubi_fd_file(fd);

	cub_arch_irq_restore(irq);
	return f ? -CUB_ENOTTY : -CUB_EBADF;
}
