/*
 * pipe_splice.c - splice, tee and vmsplice: moving bytes into, out of
 * and between pipes with Linux's semantics (man 2 splice, tee, vmsplice)
 * and a copy underneath (no page is ever shared).
 *
 * splice(fd_in, off_in, fd_out, off_out, len, flags), by its ends:
 *  - pipe to pipe (two different pipes): up to len bytes, at most what
 *    the source holds and the destination has room for, move ring to
 *    ring in one critical section. Like Linux it first waits for bytes
 *    (none and no writer: 0), then checks the destination's readers
 *    (none: -EPIPE and SIGPIPE), then waits for room.
 *  - pipe to anything else with a write or io op (sockets, regular
 *    files, devices, the console): fs_xfer.c's stream copy, as sendfile
 *    from a pipe: what the destination does not take stays in the pipe;
 *    off_out writes a seekable file there (and advances *off_out).
 *  - a stream socket (a file with a peek op) into a pipe: the same copy,
 *    peeking no more than the pipe has room for.
 *  - a seekable file (regular, /proc, devices) into a pipe: read at
 *    *off_in (advanced) or at the file position, at most the pipe's room,
 *    then appended; bytes the pipe no longer had room for are given back
 *    (the position winds back), as sendfile does.
 *  - a message socket (UDP, AF_UNIX SOCK_DGRAM and SOCK_SEQPACKET,
 *    netlink) into a pipe: one message per call, cut to len and the
 *    pipe's room, the rest dropped (dgram_to_pipe), as Linux.
 *  - the console (a tty) into a pipe: what input waits, as a read
 *    (pipe_splice_tty.c).
 *  - Other sources (eventfd, timerfd, signalfd) into a pipe: -EINVAL
 *    (their reads cannot be given back; Linux refuses them too).
 * The pipe's side never blocks with SPLICE_F_NONBLOCK or its own
 * O_NONBLOCK (-EAGAIN), as since Linux 5.x; the other side blocks by its
 * own O_NONBLOCK, as the man page says. A signal ends a wait with the
 * count or -EINTR. SPLICE_F_MOVE, MORE and GIFT are accepted and change
 * nothing. Errors in Linux's order: len 0 returns 0 before anything is
 * looked at; unknown flags -EINVAL; a descriptor not open -EBADF; an
 * offset for a pipe -ESPIPE; an unreadable offset pointer -EFAULT; an
 * end not readable (in) or not writable (out) -EBADF; no pipe among the
 * ends, then a negative offset, the same pipe on both, an offset for
 * an end that cannot seek, an O_APPEND destination -EINVAL.
 *
 * tee(fd_in, fd_out, len, flags): copies up to len bytes from the front
 * of one pipe to the back of another without taking them; both must be
 * pipes (-EINVAL) and different (-EINVAL); waits as pipe-to-pipe splice.
 *
 * vmsplice is pipe_vmsplice.c's.
 *
 * Locking: pipes change only in the fd layer's critical section
 * (pipe_impl.h); waits sample the file's word inside it and sleep
 * outside. The calls hold references to both files throughout.
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>

#include "pipe_impl.h"
#include "xfer.h"

#define SPLICE_F_NONBLOCK 2u
#define SPLICE_F_ALL 0xfu	/* MOVE, NONBLOCK, MORE, GIFT */
#define MAX_RW 0x7ffff000ul	/* Linux's MAX_RW_COUNT */
#define CHUNK (64u * 1024)	/* a file-to-pipe round's buffer at most */
#define MSG_MAX (256u * 1024)	/* above any message a socket queues (UDP
				 * 65507, AF_UNIX CUBI_UMSG_MAX) */
#define O_APPEND 02000u
#define SEEK_CUR 1

static bool readable(const struct cubi_file *f)
{
	return (f->flags & CUBI_O_ACCMODE) != CUBI_O_WRONLY && !(f->flags & CUBI_O_PATH);
}

static bool writable(const struct cubi_file *f)
{
	unsigned acc = f->flags & CUBI_O_ACCMODE;

	return (acc == CUBI_O_WRONLY || acc == CUBI_O_RDWR) && !(f->flags & CUBI_O_PATH);
}

/* The pipe side of a call is non-blocking. */
static bool pipe_nb(const struct cubi_file *f, unsigned flags)
{
	return (flags & SPLICE_F_NONBLOCK) || (f->flags & CUBI_O_NONBLOCK);
}

/* Waits for f to change after seq: 0 (look again) or -EINTR. */
long cubi_pipe_wait_on(struct cubi_file *f, uint32_t seq)
{
	return cubi_file_wait(f, seq, 0, "splice") == -CUB_EINTR ? -CUB_EINTR : 0;
}

/* Appends k bytes from ip's front, skipping none, to op (irq off). */
static void ring_to_ring(struct pipe *ip, struct pipe *op, size_t k)
{
	for (size_t done = 0; done < k;) {
		size_t at = (ip->head + done) & (ip->size - 1);
		size_t seg = CUB_MIN(k - done, ip->size - at);

		cubi_pipe_append(op, ip->buf + at, seg);
		done += seg;
	}
}

/* One look at both pipes (irq off): the bytes moved (copied, and taken
 * unless tee), 0 at end of file, -errno, or 1 with *wait set to the file
 * to wait on (its word in *seq). */
static long pipes_step(struct cubi_file *in, struct cubi_file *out, size_t len,
		       unsigned flags, bool consume, struct cubi_file **wait,
		       uint32_t *seq)
{
	struct pipe *ip = cubi_pipe_of(in), *op = cubi_pipe_of(out);
	size_t k;

	*wait = NULL;
	if (ip->len == 0 || cubi_pipe_held(ip)) {
		if (!ip->writers && !cubi_pipe_held(ip))
			return 0;
		if (pipe_nb(in, flags))
			return -CUB_EAGAIN;
		*wait = in;
	} else if (!op->readers) {
		return -CUB_EPIPE;
	} else if (op->len == op->cap) {
		if (pipe_nb(out, flags))
			return -CUB_EAGAIN;
		*wait = out;
	}
	if (*wait) {
		*seq = cubi_file_seq(*wait);
		return 1;
	}
	k = CUB_MIN(len, CUB_MIN(ip->len, op->cap - op->len));
	if (!(k = cubi_pipe_reserve(op, k)))
		return -CUB_ENOMEM;
	ring_to_ring(ip, op, k);
	if (consume)
		cubi_pipe_drop(ip, k);
	return (long)k;
}

/* Pipe to pipe: splice (consume) or tee. */
static long pipes_move(struct cubi_file *in, struct cubi_file *out, size_t len,
		       unsigned flags, bool consume)
{
	for (;;) {
		struct cubi_file *w;
		uint32_t seq;
		unsigned long irq = cub_arch_irq_save();
		long rc = pipes_step(in, out, len, flags, consume, &w, &seq);

		cub_arch_irq_restore(irq);
		if (!w)
			return rc == -CUB_EPIPE ? cubi_signal_epipe(rc, false) : rc;
		if ((rc = cubi_pipe_wait_on(w, seq)) < 0)
			return rc;
	}
}

/* How many bytes the pipe out takes now (xfer's room; irq off). */
static size_t pipe_room(struct cubi_file *out)
{
	struct pipe *p = cubi_pipe_of(out);

	return p->cap - p->len;
}

long cubi_pipe_await_room(struct cubi_file *out, bool nb)
{
	for (;;) {
		unsigned long irq = cub_arch_irq_save();
		struct pipe *p = cubi_pipe_of(out);
		long rc = p->readers ? (long)(p->cap - p->len) : -CUB_EPIPE;
		uint32_t seq = cubi_file_seq(out);

		cub_arch_irq_restore(irq);
		if (rc == -CUB_EPIPE)
			return cubi_signal_epipe(rc, false);
		if (rc > 0)
			return rc;
		if (nb)
			return -CUB_EAGAIN;
		if ((rc = cubi_pipe_wait_on(out, seq)) < 0)
			return rc;
	}
}

long cubi_pipe_append_some(struct cubi_file *out, const void *buf, long got)
{
	unsigned long irq = cub_arch_irq_save();
	struct pipe *p = cubi_pipe_of(out);
	long put = CUB_MIN(got, (long)(p->cap - p->len));

	if (!p->readers)
		put = -CUB_EPIPE;
	else if (put > 0 && !(put = (long)cubi_pipe_reserve(p, (size_t)put)))
		put = -CUB_ENOMEM;
	else if (put > 0)
		cubi_pipe_append(p, buf, (size_t)put);
	cub_arch_irq_restore(irq);
	return put;
}

/* A seekable file into a pipe: one round of at most the pipe's room, at
 * *off (off != NULL, advanced) or at in's position (wound back by what
 * the pipe did not take). */
static long file_to_pipe(struct cubi_file *in, int64_t *off, struct cubi_file *out,
			 size_t len, unsigned flags)
{
	long room, got, put;
	unsigned char *buf;

	for (;;) {
		if ((room = cubi_pipe_await_room(out, pipe_nb(out, flags))) < 0)
			return room;
		len = CUB_MIN(len, CUB_MIN((size_t)room, (size_t)CHUNK));
		if (!(buf = cub_malloc(len)))
			return -CUB_ENOMEM;
		got = in->ops->io(in, buf, len, off ? *off : -1, false);
		put = got > 0 ? cubi_pipe_append_some(out, buf, got) : 0;
		cub_free(buf);
		if (got > 0 && !off && put < got)	/* give the rest back */
			in->ops->seek(in, put > 0 ? put - got : -got, SEEK_CUR);
		if (got <= 0)
			return got;
		if (put < 0)
			return put == -CUB_EPIPE ? cubi_signal_epipe(put, false) : put;
		if (off)
			*off += put;
		if (put > 0)
			return put;
	}				/* the room went meanwhile: again */
}

/* A message socket (UDP, AF_UNIX SOCK_DGRAM and SOCK_SEQPACKET, netlink:
 * ops->datagram) into a pipe, as Linux's copy_splice_read does it (facts
 * measured on Linux 6.18): one message per call, cut to len and to the
 * pipe's room, the rest of it dropped as a short read drops it; an
 * empty message or end of file (SHUT_RD): 0. First the pipe's room (no
 * room: -EAGAIN by the pipe's rule, else wait), then the receive, which
 * waits by the socket's own O_NONBLOCK (SPLICE_F_NONBLOCK does not make
 * it -EAGAIN) and SO_RCVTIMEO. Linux counts room in pages (a pipe page
 * partly full gives less); here it is bytes. The receive may wait: a
 * writer that took all the room meanwhile makes the message wait for
 * room again (the pipe's rule: -EAGAIN or -EINTR drop it), one that took
 * part of it cuts the message there. */
static long dgram_to_pipe(struct cubi_file *in, struct cubi_file *out, size_t len,
			  unsigned flags)
{
	long room = cubi_pipe_await_room(out, pipe_nb(out, flags)), got, put = 0;
	unsigned char *buf;

	if (room < 0)
		return room;
	len = CUB_MIN(len, CUB_MIN((size_t)room, (size_t)MSG_MAX));
	if (!(buf = cub_malloc(len)))
		return -CUB_ENOMEM;
	got = in->ops->io(in, buf, len, -1, false);
	while (got > 0 && put == 0) {
		put = cubi_pipe_append_some(out, buf, got);
		if (put == 0 && (room = cubi_pipe_await_room(out, pipe_nb(out, flags))) < 0)
			put = room;
	}
	cub_free(buf);
	if (got <= 0)
		return got;
	return put == -CUB_EPIPE ? cubi_signal_epipe(put, false) : put;
}

/* The ends of a splice after the checks: in and out referenced, off_in
 * and off_out the offsets (NULL: none). */
static long splice_ends(struct cubi_file *in, int64_t *off_in, struct cubi_file *out,
			int64_t *off_out, size_t len, unsigned flags)
{
	bool ip = cubi_pipe_of(in), op = cubi_pipe_of(out);
	struct cubi_xfer x = { .out_off = off_out ? *off_out : -1 };
	long rc;

	if (ip && op)
		return cubi_pipe_of(in) == cubi_pipe_of(out) ? -CUB_EINVAL
			: pipes_move(in, out, len, flags, true);
	if (op) {
		if (in->ops->seek && in->ops->io)
			return file_to_pipe(in, off_in, out, len, flags);
		if (in->ops->datagram && in->ops->io && !off_in)
			return dgram_to_pipe(in, out, len, flags);
		if (in == &cubi_console_file && !off_in)
			return cubi_splice_console(in, out, len, pipe_nb(out, flags));
		if (!in->ops->peek || off_in)
			return -CUB_EINVAL;
		x.out_nb = pipe_nb(out, flags);
		x.room = pipe_room;
		return cubi_xfer_stream(in, out, len, &x);
	}
	if ((out->flags & O_APPEND) || (!out->ops->io && !out->ops->write))
		return -CUB_EINVAL;
	if (off_out && !(out->ops->seek && out->ops->io))
		return -CUB_EINVAL;
	x.in_nb = pipe_nb(in, flags);
	rc = cubi_xfer_stream(in, out, len, &x);
	if (off_out && rc > 0)
		*off_out = x.out_off;
	return rc;
}

/* sendfile from a source without a peek op (fs_xfer.c): a datagram
 * socket or the console into a pipe is Linux's splice (5.12+), with the
 * pipe's O_NONBLOCK (pipe_nb) as SPLICE_F_NONBLOCK; anything else
 * -EINVAL. Both referenced; interrupts enabled. */
long cubi_sendfile_splice(struct cubi_file *in, struct cubi_file *out, size_t len)
{
	if (!cubi_pipe_of(out) || cubi_pipe_of(in))
		return -CUB_EINVAL;
	if ((in->ops->datagram && in->ops->io) || in == &cubi_console_file)
		return splice_ends(in, NULL, out, NULL, len, 0);
	return -CUB_EINVAL;
}

/* An offset argument: none (0), or copied into *off: 0 or -errno (a
 * negative one is the caller's to refuse, after the access checks, as
 * Linux's rw_verify_area comes after them). */
static long get_off(uintptr_t uoff, struct cubi_file *f, int64_t *off)
{
	if (!uoff)
		return 0;
	if (cubi_pipe_of(f))
		return -CUB_ESPIPE;
	return cubi_copy_in(off, uoff, sizeof(*off)) ? -CUB_EFAULT : 0;
}

/* Linux's order: a pipe's offset -ESPIPE and an unreadable offset
 * -EFAULT (__do_splice), then the access modes -EBADF, no pipe -EINVAL,
 * then the ends' own checks (do_splice). */
static long do_splice(struct cubi_file *in, uintptr_t uoff_in, struct cubi_file *out,
		      uintptr_t uoff_out, size_t len, unsigned flags)
{
	int64_t off_in = 0, off_out = 0;
	long rc;

	if ((rc = get_off(uoff_in, in, &off_in)) || (rc = get_off(uoff_out, out, &off_out)))
		return rc;
	if (!readable(in) || !writable(out))
		return -CUB_EBADF;
	if (!cubi_pipe_of(in) && !cubi_pipe_of(out))
		return -CUB_EINVAL;
	if (off_in < 0 || off_out < 0)
		return -CUB_EINVAL;
	rc = splice_ends(in, uoff_in ? &off_in : NULL, out, uoff_out ? &off_out : NULL,
			 len, flags);
	if (rc > 0 && uoff_in && cubi_copy_out(uoff_in, &off_in, sizeof(off_in)))
		return -CUB_EFAULT;
	if (rc > 0 && uoff_out && cubi_copy_out(uoff_out, &off_out, sizeof(off_out)))
		return -CUB_EFAULT;
	return rc;
}

/* Runs fn on the files of two descriptors, referenced meanwhile. */
static long with_files(uint64_t a, uint64_t b,
		       long (*fn)(struct cubi_file *, struct cubi_file *, const uint64_t *),
		       const uint64_t *args)
{
	struct cubi_file *fa = cubi_fd_get(a), *fb = fa ? cubi_fd_get(b) : NULL;
	long rc = fa && fb ? fn(fa, fb, args) : -CUB_EBADF;

	if (fa)
		cubi_file_put(fa);
	if (fb)
		cubi_file_put(fb);
	return rc;
}

static long splice_files(struct cubi_file *in, struct cubi_file *out, const uint64_t *a)
{
	return do_splice(in, a[1], out, a[3], CUB_MIN(a[4], MAX_RW), (unsigned)a[5]);
}

CUBI_SYS(splice)
{
	uint64_t a[6] = { A0(r), A1(r), A2(r), A3(r), A4(r), A5(r) };

	if (!a[4])
		return 0;
	if ((unsigned)a[5] & ~SPLICE_F_ALL)
		return -CUB_EINVAL;
	return with_files(a[0], a[2], splice_files, a);
}

static long tee_files(struct cubi_file *in, struct cubi_file *out, const uint64_t *a)
{
	if (!readable(in) || !writable(out))
		return -CUB_EBADF;
	if (!cubi_pipe_of(in) || !cubi_pipe_of(out) || cubi_pipe_of(in) == cubi_pipe_of(out))
		return -CUB_EINVAL;
	return pipes_move(in, out, CUB_MIN(a[2], MAX_RW), (unsigned)a[3], false);
}

CUBI_SYS(tee)
{
	uint64_t a[4] = { A0(r), A1(r), A2(r), A3(r) };

	if ((unsigned)a[3] & ~SPLICE_F_ALL)
		return -CUB_EINVAL;
	if (!a[2])
		return 0;
	return with_files(a[0], a[1], tee_files, a);
}
