/*
 * pipe_splice_tty.c - splice from the console (the shim's terminal:
 * descriptors 0-2 at boot, /dev/console) into a pipe.
 *
 * Linux splices a tty as a read (copy_splice_read; measured on Linux
 * 6.18 with a pty: what a read would return, at most len, the rest
 * staying for the next call; an empty tty waits unless the tty's own
 * O_NONBLOCK (-EAGAIN), SPLICE_F_NONBLOCK does not stop that wait; a
 * handler with SA_RESTART restarts it). The console is raw (no line
 * discipline: io.c), so a call takes what input waits, up to len, the
 * pipe's room and CONSOLE_CHUNK.
 *
 * No console byte is ever lost: the bytes are taken from the console
 * and appended to the pipe in one critical section, after the room was
 * reserved, and only once input is known to wait (cub_console_input_ready
 * keeps the byte it saw, so the read there returns at once). Waits: for
 * room on the pipe's word, -EAGAIN instead by the pipe's rule (nb); for
 * input on the shim's io word, which the console's input hook bumps
 * (the same hook poll.c sets), looking again every millisecond where
 * input raises no interrupt (the host). A signal ends either wait
 * (-EINTR; restarted under SA_RESTART, signal.c).
 */
#include <cubrt/arch.h>
#include <cubrt/irq.h>
#include <cubrt/time.h>

#include "pipe_impl.h"

#define CONSOLE_CHUNK 256u		/* a console read's bytes at most (io.c) */
#define RECHECK_NS (1000u * 1000)	/* no input interrupt: look again */

/* The console's input arrived (irq context): waiters on the io word. */
static void console_input(void)
{
	unsigned long irq = cub_arch_irq_save();

	cubi_io_changed();
	cub_arch_irq_restore(irq);
}

/* What one look found (irq off). */
enum look { MOVED, NO_ROOM, NO_INPUT };

/* One look (irq off): moves what input waits into out's pipe (*n the
 * count, or -errno), or says what to wait for. */
static enum look look(struct cubi_file *out, unsigned char *buf, size_t len, long *n)
{
	struct pipe *p = cubi_pipe_of(out);
	size_t k = CUB_MIN(len, CUB_MIN(p->cap - p->len, (size_t)CONSOLE_CHUNK));

	*n = 0;
	if (!p->readers) {
		*n = -CUB_EPIPE;
		return MOVED;
	}
	if (!k)
		return NO_ROOM;
	if (!cub_console_input_ready())
		return NO_INPUT;
	if (!(k = cubi_pipe_reserve(p, k))) {
		*n = -CUB_ENOMEM;
		return MOVED;
	}
	*n = cub_console_read(buf, k);	/* at once: a byte waits */
	if (*n > 0)
		cubi_pipe_append(p, buf, (size_t)*n);
	return MOVED;
}

long cubi_splice_console(struct cubi_file *in, struct cubi_file *out, size_t len, bool nb)
{
	unsigned char buf[CONSOLE_CHUNK];

	cub_console_set_input_hook(console_input);
	for (;;) {
		unsigned long irq = cub_arch_irq_save();
		uint32_t pseq = cubi_file_seq(out), iseq = cubi_io_seq();
		bool in_nb = in->flags & CUBI_O_NONBLOCK;
		long n;
		enum look l = look(out, buf, len, &n);
		uint64_t until;

		cub_arch_irq_restore(irq);
		if (l == MOVED)
			return n == -CUB_EPIPE ? cubi_signal_epipe(n, false) : n;
		if (l == NO_ROOM && nb)
			return -CUB_EAGAIN;
		if (l == NO_ROOM) {
			if (cubi_pipe_wait_on(out, pseq) < 0)
				return -CUB_EINTR;
			continue;
		}
		if (in_nb)
			return -CUB_EAGAIN;
		until = cub_console_irq_driven() ? 0 : cub_time_now() + RECHECK_NS;
		if (cubi_io_wait(iseq, until, "splice") == -CUB_EINTR)
			return -CUB_EINTR;
	}
}
