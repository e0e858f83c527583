/*
 * fd_rw.c - read, write, pread and pwrite on descriptors, and how a call
 * waits for a file to change (the descriptor table itself: fd.c).
 *
 * A file without an io op (pipes, sockets through read/write, eventfd,
 * signalfd, timerfd) is read and written by its ops inside the fd layer's
 * critical section (interrupts disabled, see fd.c). A read or write on
 * one is a single critical section from the descriptor's lookup to the
 * result: the lookup, the check of the program's buffer, the op, and
 * when the op would block, the wait and every retry after it. No
 * reference is taken unless the call waits (nothing can close the
 * descriptor while interrupts stay disabled); one that waits takes one
 * first, so the file and its word outlive the wait even if another
 * thread closes the descriptor (the call goes on waiting, as on Linux).
 * The buffer is checked before every op, where nothing can unmap it
 * until the op is done: after a wait, another thread may have unmapped
 * it (-EFAULT, never a fault in cubrt).
 *
 * Waiting: a blocked read or write sleeps on its file's gen word
 * (file_wakes), which cubi_file_changed bumps and whose sleepers alone it
 * wakes (nobody when none sleep). Waiting on the file alone matters: with
 * one word for all files every change woke every blocked thread, and 16
 * threads idle in read made a busy pipe pair 3.7 times slower. Calls
 * that wait for any of several files (poll, epoll_wait) and files without
 * file_wakes sleep on io_seq, which cubi_io_changed bumps. A caller
 * outside the critical section samples the word inside it
 * (cubi_file_seq) and sleeps with cubi_file_wait: the futex compares the
 * word atomically with its enqueue, so a change between the two is never
 * lost. Every wait is a futex wait, so a signal ends it (EINTR, or a
 * restart with SA_RESTART: signal.c).
 */
#include <cubrt/arch.h>
#include <cubrt/panic.h>
#include <cubrt/time.h>

#include "../sched/park.h"
#include "shim_impl.h"

#define MAX_RW (0x7ffff000ul)	/* Linux's MAX_RW_COUNT */
/* The read and write paths are inlined into cubi_fd_read and
 * cubi_fd_write, each made for its direction. */
#define INLINE static inline __attribute__((always_inline))

static uint32_t io_seq;
static unsigned io_sleepers;	/* threads waiting on io_seq (irq off) */

uint32_t cubi_io_seq(void)
{
	return io_seq;
}

void cubi_io_changed(void)
{
	/* The wake-up below walks a waiter list that a timeout interrupt
	 * also edits: called with interrupts on, it can ready a coroutine
	 * twice (timerfd's wall step did: see timerfd.c). */
	if (CUB_UNLIKELY(cub_arch_irq_enabled()))
		cub_panic("cubi_io_changed: called with interrupts enabled");
	io_seq++;
	if (io_sleepers)
		cubi_futex_wake_locked((uintptr_t)&io_seq, 0x7fffffff, ~0u);
}

/* The futex word is gen's low half: x86 is little-endian. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "gen's low word");

/* cubi_file_changed (fd.h) for a file with sleepers or watchers. */
void cubi_file_wake(struct cubi_file *f)
{
	if (f->sleepers)
		cubi_futex_wake_locked((uintptr_t)&f->gen, 0x7fffffff, ~0u);
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

/*
 * Sleeping on a word inside the caller's critical section (irq off): the
 * count of sleepers is up while it waits, and a waker skips the wake
 * while it is 0. 0 (woken, or the word moved since seq), -CUB_ETIMEDOUT
 * or -CUB_EINTR.
 */
static int sleep_locked(uint32_t *word, unsigned *sleepers, uint32_t seq,
			uint64_t deadline, const char *what)
{
	long rc;

	++*sleepers;
	rc = cubi_futex_wait_locked((uintptr_t)word, seq, deadline, ~0u, what);
	--*sleepers;
	return rc == -CUB_ETIMEDOUT || rc == -CUB_EINTR ? (int)rc : 0;
}

static int sleep_on(uint32_t *word, unsigned *sleepers, uint32_t seq,
		    uint64_t deadline, const char *what)
{
	unsigned long irq;
	int rc;

	cubi_sched_assert_can_block(what);
	irq = cub_arch_irq_save();
	rc = sleep_locked(word, sleepers, seq, deadline, what);
	cub_arch_irq_restore(irq);
	return rc;
}

/* The sleepers count that goes with f's word. */
static unsigned *sleepers_of(struct cubi_file *f, uint32_t *word)
{
	return word == &io_seq ? &io_sleepers : &f->sleepers;
}

int cubi_file_wait(struct cubi_file *f, uint32_t seq, uint64_t deadline,
		   const char *what)
{
	uint32_t *word = wait_word(f);

	return sleep_on(word, sleepers_of(f, word), seq, deadline, what);
}

/* Sleeps until f changes, inside the critical section that found the
 * call must wait (so the word is still the one it saw), until deadline
 * (0 = none): 0, -CUB_ETIMEDOUT or -CUB_EINTR. */
static int file_sleep_locked(struct cubi_file *f, uint64_t deadline, const char *what)
{
	uint32_t *word = wait_word(f);

	return sleep_locked(word, sleepers_of(f, word), *word, deadline, what);
}

/* The deadline of a call on f that begins to wait now: its ops' timeo
 * (SO_RCVTIMEO / SO_SNDTIMEO) from now, or 0 (none). Irq off. */
static uint64_t wait_deadline(const struct cubi_file *f, bool out)
{
	uint64_t t = f->ops->timeo ? f->ops->timeo(f, out) : 0;

	return t ? cub_time_now() + t : 0;
}

int cubi_file_wait_put(struct cubi_file *f, uint32_t seq, const char *what)
{
	int rc = cubi_file_wait(f, seq, 0, what);

	cubi_file_put(f);
	return rc;
}

int cubi_io_wait(uint32_t seq, uint64_t deadline, const char *what)
{
	return sleep_on(&io_seq, &io_sleepers, seq, deadline, what);
}

/* Whether f (the file at a descriptor, or NULL) may be read or written
 * (irq off): 0, -EBADF (not open, not open for that, or an O_PATH file)
 * or -EINVAL (a file that cannot be read or written, like an epoll
 * instance). */
INLINE long rw_allowed(const struct cubi_file *f, bool out)
{
	unsigned acc;

	if (!f)
		return -CUB_EBADF;
	acc = f->flags & CUBI_O_ACCMODE;
	if (acc == (out ? 0u : CUBI_O_WRONLY) || acc == 3 || (f->flags & CUBI_O_PATH))
		return -CUB_EBADF;
	if (f->ops->io || (out ? f->ops->write != NULL : f->ops->read != NULL))
		return 0;
	return -CUB_EINVAL;
}

/* The program's buffer of a write (read by it) or a read (written). */
INLINE bool user_ok(uintptr_t buf, size_t n, bool out)
{
	return out ? cubi_user_readable(buf, n) : cubi_user_writable(buf, n);
}

/* A file with an io op (console, regular file, directory): the op does
 * the whole call, with interrupts enabled and a reference held (dropped
 * here). off < 0: at the file position. */
static long direct_io(struct cubi_file *f, uintptr_t buf, size_t n,
		      int64_t off, bool out)
{
	long r = user_ok(buf, n, out) ? f->ops->io(f, (void *)buf, n, off, out)
				       : -CUB_EFAULT;

	cubi_file_put(f);
	return r;
}

/* One read or write op on the program's buffer (irq off), which is
 * checked first: only then can nothing unmap it before the op is done. */
INLINE long rw_op(struct cubi_file *f, uintptr_t buf, size_t n, bool out)
{
	if (!user_ok(buf, n, out))
		return -CUB_EFAULT;
	return out ? f->ops->write(f, (const void *)buf, n)
		   : f->ops->read(f, (void *)buf, n);
}

/* The end of a read or write: the critical section's, then SIGPIPE for a
 * write that failed with EPIPE. */
INLINE long rw_end(long r, bool out, unsigned long irq)
{
	cub_arch_irq_restore(irq);
	if (out && r == -CUB_EPIPE)
		cubi_signal_epipe(r, false);
	return r;
}

/*
 * The rest of a blocking read or write whose first op returned r (on a
 * read -EAGAIN; on a write -EAGAIN or the bytes it put in, fewer than n),
 * inside the critical section of the call (irq off, restored to irq at
 * the end). It waits while the op would block unless the file is (made)
 * non-blocking; a write goes on until all n bytes are in (pipe.c keeps
 * writes of up to PIPE_BUF bytes atomic), and an error after some bytes
 * went through returns their count, as on Linux. A socket's SO_RCVTIMEO
 * or SO_SNDTIMEO bounds the wait (ops->timeo). The file is held
 * meanwhile: another thread may close the descriptor.
 */
static __attribute__((noinline)) long
rw_wait(struct cubi_file *f, uintptr_t buf, size_t n, bool out, long r,
	unsigned long irq)
{
	const struct cubi_file_ops *ops = f->ops;
	uint64_t deadline = wait_deadline(f, out);
	size_t done = 0;
	void *mem;
	int slept;

	f->refs++;
	for (;;) {
		bool nonblock = f->flags & CUBI_O_NONBLOCK;

		if (r >= 0 && !out)
			break;
		if (r >= 0) {
			done += (size_t)r;
			if (done == n || nonblock || ops->one_write) {
				r = (long)done;
				break;
			}
		} else if (r != -CUB_EAGAIN || nonblock) {
			r = done ? (long)done : r;
			break;
		} else if ((slept = file_sleep_locked(f, deadline, out ? "write" : "read"))) {
			/* a signal; or the socket's timeout: -EAGAIN, as Linux */
			r = done ? (long)done : slept == -CUB_EINTR ? -CUB_EINTR : -CUB_EAGAIN;
			break;
		}
		r = rw_op(f, buf + done, n - done, out);
	}
	mem = cubi_file_put_locked(f);
	r = rw_end(r, out, irq);
	if (mem)	/* the descriptor was closed while the call waited */
		cubi_file_free(ops, mem);
	return r;
}

/* read or write on fd (n clamped already): one critical section from the
 * lookup to the result, unless the file has an io op. */
INLINE long transfer(uint64_t fd, uintptr_t buf, size_t n, bool out)
{
	unsigned long irq = cub_arch_irq_save();
	struct cubi_file *f = cubi_fd_file(fd);
	long r = rw_allowed(f, out);

	if (r == 0 && f->ops->io) {
		f->refs++;
		cub_arch_irq_restore(irq);
		return direct_io(f, buf, n, -1, out);
	}
	if (r == 0)
		r = rw_op(f, buf, n, out);
	if (r == -CUB_EAGAIN && !(f->flags & CUBI_O_NONBLOCK))
		return rw_wait(f, buf, n, out, r, irq);
	if (out && r >= 0 && (size_t)r < n && !(f->flags & CUBI_O_NONBLOCK) &&
	    !f->ops->one_write)
		return rw_wait(f, buf, n, out, r, irq);	/* the rest */
	return rw_end(r, out, irq);
}

long cubi_fd_read(uint64_t fd, uintptr_t buf, size_t n)
{
	return transfer(fd, buf, n > MAX_RW ? MAX_RW : n, false);
}

long cubi_fd_write(uint64_t fd, uintptr_t buf, size_t n)
{
	return transfer(fd, buf, n > MAX_RW ? MAX_RW : n, true);
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
	irq = cub_arch_irq_save();
	f = cubi_fd_file(fd);
	r = rw_allowed(f, out);
	if (r == 0 && !f->ops->seek)
		r = -CUB_ESPIPE;
	if (r)
		f = NULL;
	if (f)
		f->refs++;
	cub_arch_irq_restore(irq);
	return f ? direct_io(f, buf, n, off, out) : r;
}
