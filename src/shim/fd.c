/*
 * fd.c - the descriptor table (0-255) and the generic calls on it: read,
 * write, close, dup, fcntl, fstat, lseek, ioctl, and how a call waits.
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
 * critical section; a read or write that must wait samples its file's
 * gen inside it and then sleeps on that word as a futex, so a change
 * between the two (cubi_file_changed bumps gen and wakes that file's
 * waiters) is never lost: the futex compares the word atomically with
 * its enqueue. A blocked call holds a reference, so the word outlives
 * the wait even if another thread closes the descriptor (the call goes
 * on waiting, as on Linux). Waiting on the file alone matters: with one
 * word for all files every change woke every blocked thread, and 16
 * threads idle in read made a busy pipe pair 3.7 times slower.
 * Calls that wait for any of several files (poll, epoll_wait) and files
 * without file_wakes sleep on io_seq, which cubi_io_changed bumps.
 * The io/seek/stat/free ops instead run with interrupts enabled on a
 * file the caller holds a reference to (they lock or wait on their own).
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
#define MAX_RW (0x7ffff000ul)	/* Linux's MAX_RW_COUNT */

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
static uint32_t io_seq;
static unsigned io_sleepers;	/* threads waiting on io_seq (irq off) */

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

/* Drops a reference (irq off); the last one releases the file and
 * returns what cubi_file_free_after must free, else NULL. */
static void *put_locked(struct cubi_file *f)
{
	if (--f->refs)
		return NULL;
	cubi_epoll_forget(f);
	cubi_flock_forget(f);
	cubi_io_changed();	/* waiters on it must look again */
	return f->ops->release(f);
}

void cubi_file_put(struct cubi_file *f)
{
	const struct cubi_file_ops *ops = f->ops;
	unsigned long irq = cub_arch_irq_save();
	void *mem = put_locked(f);

	cub_arch_irq_restore(irq);
	if (mem && ops->free)
		ops->free(mem);
	else if (mem)
		cub_free(mem);
}

uint32_t cubi_io_seq(void)
{
	return io_seq;
}

/*
 * Sleeping on a word: the count of sleepers goes up before the futex
 * wait and a waker skips the wake while it is 0. No wake is lost: a
 * change between the caller's sample of the word and the count's
 * increment has moved the word, so the futex wait returns at once.
 */
static int sleep_on(uint32_t *word, unsigned *sleepers, uint32_t seq,
		    uint64_t deadline, const char *what)
{
	unsigned long irq = cub_arch_irq_save();
	long rc;

	++*sleepers;
	cub_arch_irq_restore(irq);
	rc = cubi_futex_wait((uintptr_t)word, seq, deadline, ~0u, what);
	irq = cub_arch_irq_save();
	--*sleepers;
	cub_arch_irq_restore(irq);
	return rc == -CUB_ETIMEDOUT || rc == -CUB_EINTR ? (int)rc : 0;
}

void cubi_io_changed(void)
{
	io_seq++;
	if (io_sleepers)
		cubi_futex_wake((uintptr_t)&io_seq, 0x7fffffff, ~0u);
}

/* The futex word is gen's low half: x86 is little-endian. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "gen's low word");

void cubi_file_changed(struct cubi_file *f)
{
	f->gen++;
	if (f->sleepers)
		cubi_futex_wake((uintptr_t)&f->gen, 0x7fffffff, ~0u);
	if (f->watchers)
		cubi_epoll_notify(f);
}

/* The word a call blocked on f sleeps on. */
static uint32_t *wait_word(struct cubi_file *f)
{
	return f->ops->file_wakes ? (uint32_t *)&f->gen : &io_seq;
}

uint32_t cubi_file_seq(struct cubi_file *f)
{
	return *wait_word(f);
}

int cubi_file_wait(struct cubi_file *f, uint32_t seq, uint64_t deadline,
		   const char *what)
{
	uint32_t *word = wait_word(f);

	return sleep_on(word, word == &io_seq ? &io_sleepers : &f->sleepers,
			seq, deadline, what);
}

int cubi_io_wait(uint32_t seq, uint64_t deadline, const char *what)
{
	return sleep_on(&io_seq, &io_sleepers, seq, deadline, what);
}

/* The file at fd checked for reading or writing (irq off): NULL with
 * *err = -EBADF (not open, not open for that, or an O_PATH file) or
 * -EINVAL (a file that cannot be read or written, like an epoll
 * instance). */
static struct cubi_file *rw_file(uint64_t fd, bool out, long *err)
{
	struct cubi_file *f = cubi_fd_file(fd);
	unsigned acc = f ? f->flags & CUBI_O_ACCMODE : 0;

	*err = -CUB_EBADF;
	if (!f || acc == (out ? 0u : CUBI_O_WRONLY) || acc == 3 ||
	    (f->flags & CUBI_O_PATH))
		return NULL;
	*err = -CUB_EINVAL;
	if (f->ops->io)
		return f;
	return (out ? f->ops->write != NULL : f->ops->read != NULL) ? f : NULL;
}

/* A file with an io op (console, regular file, directory): the op does
 * the whole call, with interrupts enabled and a reference held. off < 0:
 * at the file position. */
static long direct_io(struct cubi_file *f, uintptr_t buf, size_t n,
		      int64_t off, bool out)
{
	long r = f->ops->io(f, (void *)buf, n, off, out);

	cubi_file_put(f);
	return r;
}
/*
 * Runs f's read or write op, waiting while it would block unless the file
 * is non-blocking. A blocking write goes on until all n bytes are in
 * (pipe.c keeps writes of up to PIPE_BUF bytes atomic); an error after
 * some bytes went through returns their count, as on Linux. The caller
 * holds a reference to f.
 */
static long blocking_rw(struct cubi_file *f, uintptr_t buf, size_t n, bool out)
{
	size_t done = 0;
	bool waited = false;

	for (;;) {
		unsigned long irq = cub_arch_irq_save();
		uint32_t seq = cubi_file_seq(f);
		bool nonblock = f->flags & CUBI_O_NONBLOCK;
		long r;

		/* After a wait another thread may have unmapped the buffer:
		 * check it again where nothing can change it any more. */
		if (waited && !(out ? cubi_user_readable(buf + done, n - done)
				    : cubi_user_writable(buf, n)))
			r = -CUB_EFAULT;
		else
			r = out ? f->ops->write(f, (const void *)(buf + done), n - done)
				: f->ops->read(f, (void *)buf, n);
		cub_arch_irq_restore(irq);
		if (r >= 0 && !out)
			return r;
		if (r >= 0)
			done += (size_t)r;
		if (r >= 0 && (done == n || nonblock || f->ops->one_write))
			return (long)done;
		if (r < 0 && (r != -CUB_EAGAIN || nonblock))	/* EPIPE: SIGPIPE */
			return done ? (long)done : out ? cubi_signal_epipe(r, false) : r;
		if (cubi_file_wait(f, seq, 0, out ? "write" : "read") == -CUB_EINTR)
			return done ? (long)done : -CUB_EINTR;
		waited = true;
	}
}

int cubi_file_wait_put(struct cubi_file *f, uint32_t seq, const char *what)
{
	int rc = cubi_file_wait(f, seq, 0, what);

	cubi_file_put(f);
	return rc;
}

/* read or write on fd: the file looked up and held for the call. */
static long transfer(uint64_t fd, uintptr_t buf, size_t n, bool out)
{
	unsigned long irq = cub_arch_irq_save();
	long r;
	struct cubi_file *f = rw_file(fd, out, &r);

	if (f)
		f->refs++;
	cub_arch_irq_restore(irq);
	if (!f)
		return r;
	if (f->ops->io)
		return direct_io(f, buf, n, -1, out);
	r = blocking_rw(f, buf, n, out);
	cubi_file_put(f);
	return r;
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

/* pread64/pwrite64: at offset off, the file position untouched. */
long cubi_fd_pio(uint64_t fd, uintptr_t buf, size_t n, int64_t off, bool out)
{
	unsigned long irq;
	struct cubi_file *f;
	long r;

	if (off < 0)
		return -CUB_EINVAL;
	if (n > MAX_RW)
		n = MAX_RW;
	if (n && !(out ? cubi_user_readable(buf, n) : cubi_user_writable(buf, n)))
		return cubi_fd_valid(fd) ? -CUB_EFAULT : -CUB_EBADF;
	irq = cub_arch_irq_save();
	f = rw_file(fd, out, &r);
	if (f && !f->ops->seek) {
		f = NULL;
		r = -CUB_ESPIPE;
	}
	if (f)
		f->refs++;
	cub_arch_irq_restore(irq);
	return f ? direct_io(f, buf, n, off, out) : r;
}

/* No ioctl applies to any file cubrt has (the console is no terminal). */
long cubi_fd_ioctl(uint64_t fd)
{
	return cubi_fd_valid(fd) ? -CUB_ENOTTY : -CUB_EBADF;
}
