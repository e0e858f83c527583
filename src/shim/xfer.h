/*
 * xfer.h - moving bytes between two open files inside the shim: what
 * sendfile (fs_xfer.c) and splice (pipe_splice.c) share.
 */
#ifndef CUBRT_SHIM_XFER_H
#define CUBRT_SHIM_XFER_H

#include "shim_impl.h"

/* How one copy goes: out_off >= 0 writes a destination with an io op
 * there (advanced by the bytes written), < 0 at its position; in_nb and
 * out_nb make that side non-blocking whatever its O_NONBLOCK
 * (SPLICE_F_NONBLOCK on the pipe's side); room, if set, tells how many
 * bytes the destination's write op takes whole now (irq off), so that
 * no more are peeked. */
struct cubi_xfer {
	int64_t out_off;
	bool in_nb, out_nb;
	size_t (*room)(struct cubi_file *out);
};

/* fs_xfer.c: copies up to count bytes (at most 64 KiB) from in, which has
 * a peek op, to out (a write or an io op): the bytes written, or -errno
 * before any. The bytes out did not take stay in in, in order; it waits
 * where read and write would (x's non-blocking sides: -EAGAIN), a signal
 * ends a wait (the count or -EINTR), EPIPE from a write op raises SIGPIPE.
 * fs_xfer.c's header has the rules. Interrupts enabled; the caller holds
 * references to both files. */
long cubi_xfer_stream(struct cubi_file *in, struct cubi_file *out, size_t count,
		      struct cubi_xfer *x);

/* pipe_splice.c: sendfile from a source without a peek op: a datagram
 * socket (one message, cut to count and the pipe's room) or the console
 * (its waiting input) into a pipe, as splice with the pipe's O_NONBLOCK
 * for SPLICE_F_NONBLOCK (Linux 5.12+ makes that sendfile a splice);
 * -EINVAL for anything else. Same contexts as cubi_xfer_stream. */
long cubi_sendfile_splice(struct cubi_file *in, struct cubi_file *out, size_t len);

#endif
