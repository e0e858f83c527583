/*
 * fs_xfer.c - copying between descriptors in the kernel: sendfile and
 * copy_file_range, and the copy from a pipe or stream socket that
 * splice shares (cubi_xfer_stream, xfer.h: with an output offset, a
 * pipe side made non-blocking by SPLICE_F_NONBLOCK, and a destination
 * pipe's room as the most to peek; pipe_splice.c).
 *
 * Both move bytes through a 64 KiB bounce buffer and block where read
 * and write would. sendfile returns the bytes written to out_fd, and what
 * the destination did not take stays in the source, as on Linux. How,
 * by the kind of source:
 *  - Seekable (regular files, /proc files, devices): read with the fd
 *    layer's reads (fd.c); with an offset pointer positionally (*offset
 *    advances by the bytes written, the position stays), else at the file
 *    position, which a short write winds back. /dev/zero, /dev/urandom
 *    and /dev/null make their bytes afresh: none to lose.
 *  - Pipes and stream sockets (TCP, AF_UNIX SOCK_STREAM: the files with a
 *    peek op, fd.h): peek, write, then read exactly the bytes the
 *    destination took; the rest stay, in order. Into a destination with a
 *    write op (pipes, stream sockets, eventfd) the three run in one
 *    critical section: no other reader can come between. A destination
 *    with an io op (regular files, the console, devices, datagram
 *    sockets) writes with interrupts enabled and may wait: the source's
 *    file is held from the peek to the read, so its other readers wait
 *    (non-blocking ones get -EAGAIN, poll says not readable) as they would
 *    for a sendfile that had taken the bytes, and are woken after; a second
 *    sendfile waits the same way. Linux's splice from a pipe holds the
 *    pipe's lock the same way. A call moves at most one buffer's worth: a
 *    peek of up to min(count, 64 KiB); an empty source waits as read
 *    would (O_NONBLOCK: -EAGAIN), a full destination as write would
 *    (O_NONBLOCK: the count so far, or -EAGAIN); a signal in a wait ends
 *    the call with the count or -EINTR; a destination pipe or connection
 *    that is broken raises SIGPIPE as write does.
 *  - Datagram sockets (UDP, AF_UNIX datagram and seqpacket, netlink) and
 *    the console, into a pipe: the splice of those into a pipe
 *    (cubi_sendfile_splice, pipe_splice.c), as Linux's sendfile is one
 *    there: a message cut to len and the pipe's room, the rest of it
 *    dropped; the console's waiting input, the rest left for the next
 *    call. The pipe's O_NONBLOCK is the splice's SPLICE_F_NONBLOCK.
 *  - Any other source (eventfd, timerfd, signalfd), and a datagram
 *    socket or the console into anything but a pipe: -EINVAL before a
 *    byte moves. Their reads consume a counter, a message or typed
 *    input, which could not be given back if the destination took less.
 * Linux: in_fd must be seekable (splice_direct_to_actor refuses others
 * with -EINVAL, "as we don't want to randomly drop data"), except since
 * 5.12 when out_fd is a pipe: then sendfile is a splice into it, which
 * works from sockets and ttys but not from a pipe (no splice_read), an
 * eventfd, timerfd or signalfd. So cubrt accepts more than Linux (pipes
 * and stream sockets into pipes, regular files, the console and devices,
 * keeping Linux's guarantee) and, like Linux, splices the tty and
 * datagram sockets into a pipe.
 * Into a socket it refuses every source that is not seekable, as Linux
 * does: programs rely on that -EINVAL to copy with read and write
 * instead. Go's TCPConn.ReadFrom(*os.File) tries sendfile first and took
 * an empty non-blocking pipe's -EAGAIN for a full socket, waiting for an
 * EPOLLOUT edge that never came (net's TestCopyPipeIntoTCP hung).
 * copy_file_range keeps Linux's rule: regular files only.
 *
 * Locking: the peek-write-read rounds run in the fd layer's critical
 * section (interrupts disabled), and `held` (struct cubi_file) is read
 * and written only there; waits happen outside it on the word sampled
 * inside (fd.c). The call holds a reference to both files throughout.
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/panic.h>
#include <cubrt/string.h>

#include "shim_impl.h"
#include "xfer.h"

#define CHUNK (64 * 1024)
#define MAX_RW 0x7ffff000ul	/* Linux's MAX_RW_COUNT */
#define O_APPEND 02000u
#define SEEK_CUR 1

/* One end of a copy: a descriptor and its offset (pos: at the file
 * position instead). */
struct end {
	uint64_t fd;
	bool pos;
	int64_t off;
};

static long end_io(struct end *e, char *buf, size_t n, bool out)
{
	if (e->pos)
		return out ? cubi_fd_write(e->fd, (uintptr_t)buf, n)
			   : cubi_fd_read(e->fd, (uintptr_t)buf, n);
	return cubi_fd_pio(e->fd, (uintptr_t)buf, n, e->off, out);
}

/* Copies up to count bytes from a seekable source: the count, or -errno
 * before any byte. A short read (the end of the file) ends it. */
static long copy(struct end *in, struct end *out, size_t count)
{
	char *buf = count ? cub_malloc(CHUNK) : NULL;
	size_t done = 0;
	long got = 0, put = 0;

	if (count && !buf)
		return -CUB_ENOMEM;
	while (done < count) {
		size_t n = count - done < CHUNK ? count - done : CHUNK;

		if ((got = end_io(in, buf, n, false)) <= 0)
			break;
		put = end_io(out, buf, (size_t)got, true);
		if (put > 0) {
			done += (size_t)put;
			in->off += put;
			out->off += put;
		}
		if (put < got) {
			if (in->pos)	/* give back */
				cubi_fd_seek(in->fd, put > 0 ? put - got : -got, SEEK_CUR);
			break;
		}
		if ((size_t)got < n)
			break;
	}
	cub_free(buf);
	if (done)
		return (long)done;
	return got < 0 ? got : put < 0 ? put : 0;
}

/* The open flags of fd, or -EBADF. */
static long fd_flags(uint64_t fd)
{
	struct cubi_file *f = cubi_fd_get(fd);
	long flags;

	if (!f)
		return -CUB_EBADF;
	flags = f->flags;
	cubi_file_put(f);
	return flags;
}

static bool readable(long flags)
{
	return (flags & CUBI_O_ACCMODE) != CUBI_O_WRONLY;
}

static bool writable(long flags)
{
	return (flags & CUBI_O_ACCMODE) == CUBI_O_WRONLY ||
	       (flags & CUBI_O_ACCMODE) == CUBI_O_RDWR;
}

/* ------------------------------------------------ from a pipe or socket */

/* One round of a copy from a file with a peek op: got is the peek's
 * result (bytes, 0 at end of file, -errno), put the destination's (bytes
 * or -errno; 0 when it was not tried); then the files' words to wait on
 * and their O_NONBLOCK, sampled at the end of the round. */
struct round {
	long got, put;
	uint32_t in_seq, out_seq;
	bool in_nb, out_nb;
};

/* Reads out the k bytes the destination took (irq off; none for k <= 0):
 * exactly the ones peek copied, since no other read came between. */
static void take(struct cubi_file *in, char *buf, long k)
{
	long r = k > 0 ? in->ops->read(in, buf, (size_t)k) : 0;

	CUB_ASSERT(r == (k > 0 ? k : 0));
}

static void sample(struct cubi_file *in, struct cubi_file *out, struct round *rd,
		   const struct cubi_xfer *x)
{
	rd->in_seq = cubi_file_seq(in);
	rd->out_seq = cubi_file_seq(out);
	rd->in_nb = (in->flags & CUBI_O_NONBLOCK) || x->in_nb;
	rd->out_nb = (out->flags & CUBI_O_NONBLOCK) || x->out_nb;
}

/* Into a destination with a write op (which never waits): peek, write
 * and read in one critical section. With x->room, at most what the
 * destination takes whole now is peeked (at least one byte, which a
 * full one refuses with -EAGAIN). */
static void round_locked(struct cubi_file *in, struct cubi_file *out, char *buf, size_t n,
			 struct round *rd, struct cubi_xfer *x)
{
	unsigned long irq = cub_arch_irq_save();

	if (x->room)
		n = CUB_MIN(n, CUB_MAX(x->room(out), (size_t)1));
	rd->put = 0;
	rd->got = in->ops->peek(in, buf, n);	/* -EAGAIN while held */
	if (rd->got > 0)
		rd->put = out->ops->write(out, buf, (size_t)rd->got);
	take(in, buf, rd->put);
	sample(in, out, rd, x);
	cub_arch_irq_restore(irq);
}

/* Into a destination with an io op, which writes with interrupts enabled
 * and may wait: in is held from the peek to the read, so no other read
 * takes the bytes meanwhile; its waiting readers are woken after. */
static void round_held(struct cubi_file *in, struct cubi_file *out, char *buf, size_t n,
		       struct round *rd, struct cubi_xfer *x)
{
	unsigned long irq = cub_arch_irq_save();

	rd->put = 0;
	rd->got = in->ops->peek(in, buf, n);	/* -EAGAIN while held */
	if (rd->got > 0)
		in->held = true;
	sample(in, out, rd, x);
	cub_arch_irq_restore(irq);
	if (rd->got <= 0)
		return;
	rd->put = out->ops->io(out, buf, (size_t)rd->got, x->out_off, true);
	if (rd->put > 0 && x->out_off >= 0)
		x->out_off += rd->put;
	irq = cub_arch_irq_save();
	in->held = false;
	take(in, buf, rd->put);
	if (in->ops->changed)
		in->ops->changed(in);	/* a pipe: the readers of every end */
	else
		cubi_file_changed(in);
	cubi_io_changed();
	sample(in, out, rd, x);
	cub_arch_irq_restore(irq);
}

/* Waits for f to change after seq: 1 (go on) or -EINTR. */
static long wait_on(struct cubi_file *f, uint32_t seq)
{
	return cubi_file_wait(f, seq, 0, "xfer") == -CUB_EINTR ? -CUB_EINTR : 1;
}

/* After a round, with done bytes written so far: 1 to go on (after a
 * wait, if the round must), 0 to stop, or -errno (the call's result if
 * nothing was written). waits_out: the destination's write op returns
 * -EAGAIN instead of waiting (the call waits for it). Once bytes went
 * out, an empty source ends the call, as a short read does. */
static long next(struct cubi_file *in, struct cubi_file *out, const struct round *rd,
		 size_t done, bool waits_out)
{
	if (rd->got == -CUB_EAGAIN && !done && !rd->in_nb)
		return wait_on(in, rd->in_seq);		/* empty: as read */
	if (rd->got <= 0)
		return done ? 0 : rd->got;
	if (rd->put == -CUB_EAGAIN && waits_out && !rd->out_nb)
		return wait_on(out, rd->out_seq);	/* full: as write */
	if (rd->put <= 0)
		return rd->put;
	if (rd->put < rd->got)		/* the rest waits for room, or stays */
		return waits_out && !rd->out_nb;
	return 0;			/* all that the source had, or count */
}

long cubi_xfer_stream(struct cubi_file *in, struct cubi_file *out, size_t count,
		      struct cubi_xfer *x)
{
	bool io = out->ops->io != NULL;
	char *buf = count ? cub_malloc(CHUNK) : NULL;
	size_t done = 0;
	long rc = 1;

	if (count && !buf)
		return -CUB_ENOMEM;
	count = CUB_MIN(count, (size_t)CHUNK);
	while (done < count && rc > 0) {
		struct round rd;

		(io ? round_held : round_locked)(in, out, buf, count - done, &rd, x);
		if (rd.put > 0)
			done += (size_t)rd.put;
		rc = next(in, out, &rd, done, !io);
	}
	cub_free(buf);
	if (done)
		return (long)done;
	if (rc == -CUB_EPIPE && !io)	/* a write op's: SIGPIPE, as write */
		return cubi_signal_epipe(rc, false);
	return rc < 0 ? rc : 0;
}

/* sendfile from a file that is not seekable: from a pipe or stream
 * socket into anything but a socket; a datagram socket or the console
 * into a pipe as a splice; else -EINVAL (see the top). */
static long stream_sendfile(uint64_t ofd, uint64_t ifd, size_t count)
{
	struct cubi_file *in = cubi_fd_get(ifd), *out = cubi_fd_get(ofd);
	long rc = -CUB_EBADF;

	if (in && out && readable(in->flags) && writable(out->flags)) {
		rc = -CUB_EINVAL;
		if (!in->ops->peek)
			rc = cubi_sendfile_splice(in, out, count);
		else if (in->ops->peek && (out->ops->mode & CUBI_S_IFMT) != CUBI_S_IFSOCK &&
		    (out->ops->io || out->ops->write))
			rc = cubi_xfer_stream(in, out, count,
					      &(struct cubi_xfer){ .out_off = -1 });
	}
	if (in)
		cubi_file_put(in);
	if (out)
		cubi_file_put(out);
	return rc;
}

/* sendfile(out_fd, in_fd, offset, count): offset NULL reads at in_fd's
 * position; else at *offset (in_fd seekable), which is advanced by the
 * bytes sent while the position stays. */
CUBI_SYS(sendfile)
{
	struct end out = { A0(r), true, 0 }, in = { A1(r), !A2(r), 0 };
	long fin = fd_flags(in.fd), fout = fd_flags(out.fd), rc;
	size_t count = A3(r) > MAX_RW ? MAX_RW : A3(r);

	if (fin < 0 || fout < 0 || !readable(fin) || !writable(fout))
		return -CUB_EBADF;
	if (fout & O_APPEND)
		return -CUB_EINVAL;
	if (!in.pos) {
		if (cubi_copy_in(&in.off, A2(r), sizeof(in.off)))
			return -CUB_EFAULT;
		if (!cubi_fd_seekable(in.fd))
			return -CUB_ESPIPE;
		if (in.off < 0)
			return -CUB_EINVAL;
	} else if (!cubi_fd_seekable(in.fd)) {
		return stream_sendfile(out.fd, in.fd, count);
	}
	rc = copy(&in, &out, count);
	if (!in.pos && rc >= 0 && cubi_copy_out(A2(r), &in.off, sizeof(in.off)))
		return -CUB_EFAULT;
	return rc;
}

/* ---------------------------------------------------- copy_file_range */

/* An end of copy_file_range: a regular file (-EISDIR, -EINVAL), its
 * offset from uoff or, with uoff NULL, its position. */
static long cfr_end(struct end *e, uintptr_t uoff, struct cubi_rstat *st)
{
	long rc = cubi_fd_stat(e->fd, st);

	if (rc)
		return rc;
	if ((st->mode & CUBI_S_IFMT) == CUBI_S_IFDIR)
		return -CUB_EISDIR;
	if ((st->mode & CUBI_S_IFMT) != CUBI_S_IFREG)
		return -CUB_EINVAL;
	if (!uoff) {
		e->pos = true;
		e->off = cubi_fd_seek(e->fd, 0, SEEK_CUR);
		return e->off < 0 ? e->off : 0;
	}
	if (cubi_copy_in(&e->off, uoff, sizeof(e->off)))
		return -CUB_EFAULT;
	return e->off < 0 ? -CUB_EINVAL : 0;
}

/* copy_file_range(fd_in, off_in, fd_out, off_out, len, flags). */
CUBI_SYS(copy_file_range)
{
	struct end in = { A0(r), false, 0 }, out = { A2(r), false, 0 };
	long fin = fd_flags(in.fd), fout = fd_flags(out.fd), rc;
	size_t len = A4(r) > MAX_RW ? MAX_RW : A4(r);
	struct cubi_rstat sin, sout;

	if (A5(r))
		return -CUB_EINVAL;
	if (fin < 0 || fout < 0 || !readable(fin) || !writable(fout) || (fout & O_APPEND))
		return -CUB_EBADF;
	if ((rc = cfr_end(&in, A1(r), &sin)) || (rc = cfr_end(&out, A3(r), &sout)))
		return rc;
	if (sin.ino == sout.ino && (uint64_t)in.off < (uint64_t)out.off + len &&
	    (uint64_t)out.off < (uint64_t)in.off + len)
		return -CUB_EINVAL;	/* overlapping ranges of one file */
	rc = copy(&in, &out, len);
	if (rc >= 0 && A1(r) && cubi_copy_out(A1(r), &in.off, sizeof(in.off)))
		return -CUB_EFAULT;
	if (rc >= 0 && A3(r) && cubi_copy_out(A3(r), &out.off, sizeof(out.off)))
		return -CUB_EFAULT;
	return rc;
}
