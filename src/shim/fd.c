/*
 * fd.c - the descriptor table (0-4095) and the generic calls on it: close,
 * dup, fcntl, fstat, lseek; references to files (ioctl is ioctl.c's). Reads, writes and
 * how a call waits for a file are fd_rw.c's.
 *
 * Files are the console (io.c: fds 0-2 at boot), pipe ends (pipe.c),
 * epoll instances (epoll.c), and regular files and directories
 * (file.c). Descriptors share files: dup gives a second descriptor for
 * the same open file (its position and flags), so a file counts its
 * references (descriptors, plus calls in progress on it outside the
 * table's critical section) and is released when the last one goes.
 *
 * Locking: the table, every file's refs and flags, and everything the
 * read/write/poll/release ops touch are protected by disabling
 * interrupts (one CPU; a preemption tick or a device interrupt can switch
 * threads at any other point). Those ops never block inside that
 * critical section. A call that finds a file in the table and is done
 * with it before that critical section ends needs no reference: nothing
 * can close the descriptor meanwhile; one that leaves it (to wait, or to
 * run an op with interrupts enabled) takes one first. The io/seek/stat/
 * free ops run with interrupts enabled on a file the caller holds a
 * reference to (they lock or wait on their own).
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/sched.h>

#include "shim_impl.h"

#define F_DUPFD 0
#define F_GETFD 1
#define F_SETFD 2
#define F_GETFL 3
#define F_SETFL 4
#define F_DUPFD_CLOEXEC 1030
#define FD_CLOEXEC 1
#define O_APPEND 02000u

/* Invariant: file != NULL <=> the descriptor is open; each open
 * descriptor holds one of its file's refs. 0-2 start as the console. */
static struct {
	struct cubi_file *file;
	bool cloexec;
} table[CUBI_FD_MAX] = {
	[0] = { &cubi_console_file, false },
	[1] = { &cubi_console_file, false },
	[2] = { &cubi_console_file, false },
};

/* The lowest free descriptor >= min, or -CUB_EMFILE (irq off). */
static long lowest_free(long min)
{
	for (long fd = min; fd < CUBI_FD_MAX; fd++)
		if (!table[fd].file)
			return fd;
	return -CUB_EMFILE;
}

long cubi_fd_install(struct cubi_file *f, bool cloexec)
{
	long fd = lowest_free(0);

	if (fd >= 0) {
		table[fd].file = f;
		table[fd].cloexec = cloexec;
		f->refs++;
	}
	return fd;
}

void cubi_fd_uninstall(long fd)
{
	table[fd].file->refs--;
	table[fd].file = NULL;
}

struct cubi_file *cubi_fd_file(uint64_t fd)
{
	return fd < CUBI_FD_MAX ? table[fd].file : NULL;
}

bool cubi_fd_valid(uint64_t fd)
{
	unsigned long irq = cub_arch_irq_save();
	bool open = cubi_fd_file(fd) != NULL;

	cub_arch_irq_restore(irq);
	return open;
}

struct cubi_file *cubi_fd_get(uint64_t fd)
{
	unsigned long irq = cub_arch_irq_save();
	struct cubi_file *f = cubi_fd_file(fd);

	if (f)
		f->refs++;
	cub_arch_irq_restore(irq);
	return f;
}

void *cubi_file_put_locked(struct cubi_file *f)
{
	if (--f->refs)
		return NULL;
	cubi_epoll_forget(f);
	cubi_flock_forget(f);
	cubi_io_changed();	/* waiters on it must look again */
	return f->ops->release(f);
}

void cubi_file_free(const struct cubi_file_ops *ops, void *mem)
{
	if (ops->free)
		ops->free(mem);
	else
		cub_free(mem);
}

void cubi_file_put(struct cubi_file *f)
{
	const struct cubi_file_ops *ops = f->ops;
	unsigned long irq = cub_arch_irq_save();
	void *mem = cubi_file_put_locked(f);

	cub_arch_irq_restore(irq);
	if (mem)
		cubi_file_free(ops, mem);
}

/* Puts the file a descriptor held, then runs its ops' closed hook. */
static void close_put(struct cubi_file *f)
{
	void (*closed)(void) = f->ops->closed;

	cubi_file_put(f);
	if (closed)
		closed();
}

long cubi_fd_close(uint64_t fd)
{
	unsigned long irq = cub_arch_irq_save();
	struct cubi_file *f = cubi_fd_file(fd);

	if (f)
		table[fd].file = NULL;	/* its ref passes to the put below */
	cub_arch_irq_restore(irq);
	if (!f)
		return -CUB_EBADF;
	close_put(f);
	return 0;
}

/*
 * Makes newfd (>= 0) a second descriptor of oldfd's file (irq off). exact:
 * newfd itself, closing what it had (returned in *old for the caller to
 * put); else the lowest free descriptor >= newfd.
 */
static long dup_locked(uint64_t oldfd, long newfd, bool exact, bool cloexec,
		       struct cubi_file **old)
{
	struct cubi_file *f = cubi_fd_file(oldfd);

	*old = NULL;
	if (!f)
		return -CUB_EBADF;
	if (newfd < 0 || newfd >= CUBI_FD_MAX)
		return exact ? -CUB_EBADF : -CUB_EINVAL;
	if (!exact && (newfd = lowest_free(newfd)) < 0)
		return newfd;
	*old = table[newfd].file;
	table[newfd].file = f;
	table[newfd].cloexec = cloexec;
	f->refs++;
	return newfd;
}

static long dup_to(uint64_t oldfd, long newfd, bool exact, bool cloexec)
{
	struct cubi_file *old;
	unsigned long irq = cub_arch_irq_save();
	long r = dup_locked(oldfd, newfd, exact, cloexec, &old);

	cub_arch_irq_restore(irq);
	if (old)
		close_put(old);
	return r;
}

CUBI_SYS(dup)
{
	return dup_to(A0(r), 0, false, false);
}

/* dup2(fd, fd) checks fd and changes nothing; dup3 refuses it. */
CUBI_SYS(dup2)
{
	if (A0(r) == A1(r))
		return cubi_fd_valid(A0(r)) ? (long)A0(r) : -CUB_EBADF;
	return dup_to(A0(r), (long)(int)A1(r), true, false);
}

CUBI_SYS(dup3)
{
	if (A2(r) & ~(uint64_t)CUBI_O_CLOEXEC)
		return -CUB_EINVAL;
	if (A0(r) == A1(r))
		return -CUB_EINVAL;
	return dup_to(A0(r), (long)(int)A1(r), true, A2(r) != 0);
}

long cubi_fd_fcntl(uint64_t fd, unsigned cmd, uint64_t arg)
{
	unsigned long irq;
	struct cubi_file *f;
	long r = 0;

	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		return dup_to(fd, (long)(int)arg, false, cmd == F_DUPFD_CLOEXEC);
	irq = cub_arch_irq_save();
	f = cubi_fd_file(fd);
	if (!f)
		r = -CUB_EBADF;
	else if (cmd == F_GETFD)
		r = table[fd].cloexec ? FD_CLOEXEC : 0;
	else if (cmd == F_SETFD)
		table[fd].cloexec = arg & FD_CLOEXEC;
	else if (cmd == F_GETFL)
		r = f->flags;
	else if (cmd == F_SETFL)	/* only these can change, as on Linux */
		f->flags = (f->flags & ~(CUBI_O_NONBLOCK | O_APPEND)) |
			   (arg & (CUBI_O_NONBLOCK | O_APPEND));
	else
		r = -CUB_EINVAL;
	if (cmd == F_SETFL && f) {	/* a waiter may now have to return */
		cubi_file_changed(f);
		cubi_io_changed();
	}
	cub_arch_irq_restore(irq);
	return r;
}

int cubi_file_stat(struct cubi_file *f, struct cubi_rstat *st)
{
	if (f->ops->stat)
		return f->ops->stat(f, st);
	*st = (struct cubi_rstat){ .mode = f->ops->mode, .nlink = 1,
		.ino = (uintptr_t)f / 16 };
	return 0;
}

int cubi_fd_stat(uint64_t fd, struct cubi_rstat *st)
{
	struct cubi_file *f = cubi_fd_get(fd);
	int r;

	if (!f)
		return -CUB_EBADF;
	r = cubi_file_stat(f, st);
	cubi_file_put(f);
	return r;
}

long cubi_fd_seek(uint64_t fd, int64_t off, int whence)
{
	struct cubi_file *f = cubi_fd_get(fd);
	long r;

	if (!f)
		return -CUB_EBADF;
	r = f->ops->seek ? f->ops->seek(f, off, whence) : -CUB_ESPIPE;
	cubi_file_put(f);
	return r;
}

bool cubi_fd_seekable(uint64_t fd)
{
	struct cubi_file *f = cubi_fd_get(fd);
	bool seekable = f && f->ops->seek;

	if (f)
		cubi_file_put(f);
	return seekable;
}

bool cubi_fd_datagram(uint64_t fd)
{
	struct cubi_file *f = cubi_fd_get(fd);
	bool datagram = f && f->ops->datagram;

	if (f)
		cubi_file_put(f);
	return datagram;
}
