/*
 * pipe_fifo.c - named pipes (mkfifo: a ramfs node of type S_IFIFO
 * carrying an id, fs_attr.c): which pipe an open of the node gets, and
 * what a blocking open waits for. The pipe itself is pipe.c's.
 *
 * Opening the node (cubi_fifo_open, fs_open.c) finds the live pipe of
 * its id, or makes one, and adds an end like a reopen through
 * /proc/self/fd does; the pipe goes when its last end closes
 * (cubi_fifo_forget), and the next open starts an empty one, as on
 * Linux. An open for reading only waits until a writer is there or has
 * come since (cubi_fifo_wait, outside the fs lock), and one for writing
 * only until a reader; O_NONBLOCK: a reader never waits, a writer with
 * no reader fails with -ENXIO; O_RDWR never waits. A signal ends the
 * wait with -EINTR; open(2) then releases the end, and under
 * SA_RESTART signal.c runs the whole open again after the handler, as
 * Linux restarts fifo_open.
 *
 * Invariants: `fifos` lists exactly the named pipes with an end open
 * (fifo_id != 0), one per id; an end's `partner` is the pipe's opens[]
 * of the other kind when it opened, so "a partner has come since" is
 * opens[other] != partner, which stays true once true (opens[] only
 * grow) even if that partner closed again.
 * Locking: interrupts disabled around `fifos`, fifo_ids and every
 * change of a pipe (pipe_impl.h).
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>

#include "pipe_impl.h"

static struct pipe *fifos;		/* the named pipes with an end open */
static uint32_t fifo_ids;		/* the last id handed out */

uint32_t cubi_fifo_new_id(void)
{
	unsigned long irq = cub_arch_irq_save();
	uint32_t id = ++fifo_ids ? fifo_ids : ++fifo_ids;	/* never 0 */

	cub_arch_irq_restore(irq);
	return id;
}

/* The live pipe of id, else fresh made it (irq off; *fresh NULL then). */
static struct pipe *fifo_of(uint32_t id, struct pipe **fresh)
{
	struct pipe *p = fifos;

	while (p && p->fifo_id != id)
		p = p->fifo_next;
	if (p)
		return p;
	p = *fresh;
	*fresh = NULL;
	*p = (struct pipe){ .fifo_id = id, .fifo_next = fifos };
	cubi_pipe_ring_init(p);
	fifos = p;
	return p;
}

/* Adds end e with flags (access mode 0..2) to the named pipe p (irq off). */
static void fifo_add(struct pipe *p, struct pend *e, unsigned flags)
{
	unsigned acc = flags & CUBI_O_ACCMODE;

	*e = (struct pend){ .file = { .ops = &cubi_pipe_end_ops, .flags = flags },
			    .pipe = p, .next = p->more,
			    .partner = p->opens[acc == 0 ? 1 : 0] };
	p->more = e;
	p->files++;
	p->readers += acc != CUBI_O_WRONLY;
	p->writers += acc != 0;
	p->opens[0] += acc != CUBI_O_WRONLY;
	p->opens[1] += acc != 0;
	cubi_pipe_wake(p);
}

struct cubi_file *cubi_fifo_open(uint32_t id, unsigned flags, long *err)
{
	unsigned acc = flags & CUBI_O_ACCMODE;
	struct pipe *fresh = NULL, *p;
	struct pend *e = NULL;
	unsigned long irq;

	*err = -CUB_EINVAL;
	if (acc == 3)
		return NULL;
	*err = -CUB_ENOMEM;
	if (!(e = cub_malloc(sizeof(*e))) || !(fresh = cub_malloc(sizeof(*fresh))))
		goto out;
	irq = cub_arch_irq_save();
	p = fifo_of(id, &fresh);
	if (acc == CUBI_O_WRONLY && (flags & CUBI_O_NONBLOCK) && !p->readers) {
		*err = -CUB_ENXIO;	/* no reader to wait for */
		if (!fresh && !p->files) {	/* made for nothing: undone */
			fifos = p->fifo_next;
			fresh = p;
		}
	} else {
		fifo_add(p, e, flags);
		*err = 0;
	}
	cub_arch_irq_restore(irq);
out:
	cub_free(fresh);
	if (*err == 0)
		return &e->file;
	cub_free(e);
	return NULL;
}

long cubi_fifo_wait(struct cubi_file *f)
{
	unsigned acc = f->flags & CUBI_O_ACCMODE;
	unsigned long irq;
	uint32_t seq;
	long rc;

	if (f->ops != &cubi_pipe_end_ops || !cubi_pipe_end_of(f)->pipe->fifo_id ||
	    (f->flags & CUBI_O_NONBLOCK) || acc == CUBI_O_RDWR)
		return 0;
	for (;;) {
		struct pend *e = cubi_pipe_end_of(f);
		struct pipe *p = e->pipe;

		irq = cub_arch_irq_save();
		if ((acc == 0 ? p->writers : p->readers) ||
		    p->opens[acc == 0 ? 1 : 0] != e->partner) {
			cub_arch_irq_restore(irq);
			return 0;
		}
		seq = cubi_file_seq(f);
		cub_arch_irq_restore(irq);
		rc = cubi_file_wait(f, seq, 0, "fifo open");
		if (rc)
			return rc;
	}
}

void cubi_fifo_forget(struct pipe *p)
{
	struct pipe **q = &fifos;

	while (*q != p)
		q = &(*q)->fifo_next;
	*q = p->fifo_next;
}
