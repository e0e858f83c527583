/*
 * pipe_vmsplice.c - vmsplice(fd, iov, nr_segs, flags) with Linux's
 * semantics (man 2 vmsplice) and a copy underneath, which Linux itself
 * does for a vmsplice without SPLICE_F_GIFT's page gifting (the flag is
 * accepted and changes nothing).
 *
 * fd open for writing (O_WRONLY or O_RDWR): the iovecs' bytes go into
 * the pipe, at most what it has room for (not atomic: Linux fills what
 * fits); it waits for room and a reader as splice does (no reader: -EPIPE
 * and SIGPIPE). fd open only for reading: bytes come out of the pipe into
 * the iovecs as readv would (at most 64 KiB a call; 0 at end of file).
 * Either waits unless SPLICE_F_NONBLOCK or the pipe file's O_NONBLOCK
 * (-EAGAIN); a signal ends a wait with -EINTR. Errors: unknown flags
 * -EINVAL; a descriptor that is not open, not a pipe's, or an O_PATH one
 * -EBADF; more than 1024 iovecs or lengths past SSIZE_MAX -EINVAL; an
 * unreadable iovec array or an unmapped buffer -EFAULT (checked before a
 * byte is taken out of the pipe). No bytes at all: 0.
 *
 * Locking: pipe_impl.h's; the user copies happen with interrupts
 * enabled, through a bounce buffer.
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>

#include "pipe_impl.h"

#define SPLICE_F_NONBLOCK 2u
#define SPLICE_F_ALL 0xfu
#define IOV_MAX 1024u
#define CHUNK (64u * 1024)

struct kiov {
	uint64_t base, len;
};

/* The iovec array of n entries at uiov into a new *iov, and the bytes
 * they cover (at most CHUNK counted): 0 or -errno. */
static long load(uintptr_t uiov, uint64_t n, struct kiov **iov, size_t *total)
{
	uint64_t sum = 0;

	*iov = NULL;
	*total = 0;
	if (n > IOV_MAX)
		return -CUB_EINVAL;
	if (n == 0)
		return 0;
	if (!(*iov = cub_malloc(n * sizeof(**iov))))
		return -CUB_ENOMEM;
	if (cubi_copy_in(*iov, uiov, n * sizeof(**iov)))
		return -CUB_EFAULT;
	for (uint64_t i = 0; i < n; i++) {
		if ((int64_t)(*iov)[i].len < 0 || (sum += (*iov)[i].len) > INT64_MAX)
			return -CUB_EINVAL;
	}
	*total = (size_t)CUB_MIN(sum, (uint64_t)CHUNK);
	return 0;
}

/* Copies k bytes between buf and the iovecs, in order (out: into
 * them): 0 or -EFAULT. */
static long scatter(const struct kiov *iov, char *buf, size_t k, bool out)
{
	for (size_t done = 0; done < k; iov++) {
		size_t seg = (size_t)CUB_MIN(iov->len, (uint64_t)(k - done));

		if (seg && (out ? cubi_copy_out(iov->base, buf + done, seg)
				: cubi_copy_in(buf + done, iov->base, seg)))
			return -CUB_EFAULT;
		done += seg;
	}
	return 0;
}

static long to_pipe(struct cubi_file *f, const struct kiov *iov, size_t total, bool nb,
		    char *buf)
{
	long room, put;

	for (;;) {
		if ((room = cubi_pipe_await_room(f, nb)) < 0)
			return room;
		room = (long)CUB_MIN(total, (size_t)room);
		if (scatter(iov, buf, (size_t)room, false))
			return -CUB_EFAULT;
		put = cubi_pipe_append_some(f, buf, room);
		if (put == -CUB_EPIPE)
			return cubi_signal_epipe(put, false);
		if (put != 0)
			return put;
	}			/* the room went meanwhile: again */
}

/* Takes up to total bytes from the pipe into buf (irq off): the count, 0
 * at end of file, -EAGAIN, or 1 with *seq set to wait on. */
static long take(struct cubi_file *f, char *buf, size_t total, bool nb, uint32_t *seq,
		 bool *wait)
{
	struct pipe *p = cubi_pipe_of(f);
	size_t k = CUB_MIN(total, p->len);

	*wait = false;
	if (k && !cubi_pipe_held(p)) {
		cubi_pipe_copy_out(p, 0, buf, k);
		cubi_pipe_drop(p, k);
		return (long)k;
	}
	if (!p->writers && !cubi_pipe_held(p))
		return 0;
	if (nb)
		return -CUB_EAGAIN;
	*seq = cubi_file_seq(f);
	*wait = true;
	return 1;
}

static long to_user(struct cubi_file *f, const struct kiov *iov, uint64_t n, size_t total,
		    bool nb, char *buf)
{
	for (uint64_t i = 0; i < n; i++)
		if (iov[i].len && !cubi_user_writable(iov[i].base, iov[i].len))
			return -CUB_EFAULT;
	for (;;) {
		bool wait;
		uint32_t seq;
		unsigned long irq = cub_arch_irq_save();
		long rc = take(f, buf, total, nb, &seq, &wait);

		cub_arch_irq_restore(irq);
		if (!wait)
			return rc > 0 && scatter(iov, buf, (size_t)rc, true) ? -CUB_EFAULT : rc;
		if ((rc = cubi_pipe_wait_on(f, seq)) < 0)
			return rc;
	}
}

static long vmsplice_file(struct cubi_file *f, uintptr_t uiov, uint64_t n, unsigned flags)
{
	unsigned acc = f->flags & CUBI_O_ACCMODE;
	bool nb = (flags & SPLICE_F_NONBLOCK) || (f->flags & CUBI_O_NONBLOCK);
	struct kiov *iov;
	size_t total;
	char *buf = NULL;
	long rc;

	if (!cubi_pipe_of(f) || (f->flags & CUBI_O_PATH))
		return -CUB_EBADF;
	rc = load(uiov, n, &iov, &total);
	if (!rc && total && !(buf = cub_malloc(total)))
		rc = -CUB_ENOMEM;
	if (!rc && total)
		rc = acc == CUBI_O_WRONLY || acc == CUBI_O_RDWR
			? to_pipe(f, iov, total, nb, buf)
			: to_user(f, iov, n, total, nb, buf);
	cub_free(buf);
	cub_free(iov);
	return rc;
}

CUBI_SYS(vmsplice)
{
	struct cubi_file *f;
	long rc;

	if ((unsigned)A3(r) & ~SPLICE_F_ALL)
		return -CUB_EINVAL;
	if (!(f = cubi_fd_get(A0(r))))
		return -CUB_EBADF;
	rc = vmsplice_file(f, A1(r), A2(r), (unsigned)A3(r));
	cubi_file_put(f);
	return rc;
}
