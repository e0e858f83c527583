/*
 * pipe.c - pipe and pipe2: an in-memory byte ring shared by two files,
 * the read end and the write end (Go's runtime wakes its poller through
 * one; programs use them between threads).
 *
 * The ring holds up to the pipe's capacity, 16 KiB until F_SETPIPE_SZ
 * changes it (pipe_ring.c, which also keeps its memory); splice, tee and
 * vmsplice move bytes in and out of it (pipe_splice.c, pipe_vmsplice.c).
 *
 * Linux semantics: a read returns what is there (at most n), blocks while
 * the pipe is empty and a writer exists, and returns 0 (end of file) once
 * every writer closed; a write of at most PIPE_BUF bytes goes in whole or
 * waits, a longer one may go in pieces; writing with no reader left fails
 * with -EPIPE and raises SIGPIPE on the writing thread (fd_rw.c's transfer,
 * through cubi_signal_epipe: a write that got some bytes in first returns
 * their count, and the next one fails and raises it).
 *
 * The readable ends peek (sendfile's source, fs_xfer.c): while any end
 * of the pipe is held, reads through every end wait (or fail -EAGAIN)
 * and poll reports nothing readable, as if the sendfile had taken the
 * bytes; what it did not send reads again after, and pipe_changed (the
 * ops' changed hook) wakes the readers of every end.
 *
 * Opening /proc/self/fd/N of either end (or /dev/stdout on a pipe)
 * makes a new open file description of the pipe with the new open's
 * access mode (cubi_pipe_reopen), as Linux's fifo_open does for a pipe:
 * read, write or both, never waiting for a partner; it counts as a
 * reader and/or a writer like the first two ends, so end of file and
 * EPIPE come once the last of them closed. Opened with O_PATH it is a
 * path end: a file that only names the pipe (fstat; reads and writes
 * -EBADF, fd.c), counted neither as a reader nor as a writer, through
 * whose /proc/self/fd/N the pipe opens again. Every file of a pipe
 * stats as one inode (its st_ino is the pipe's), as on Linux.
 *
 * Named pipes (mkfifo) are pipes too, whose ends are opened by name:
 * pipe_fifo.c. The structures, their invariants and the locking rule
 * (the fd layer's critical section, interrupts disabled, around every
 * op and every change) are pipe_impl.h's.
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/string.h>

#include "pipe_impl.h"

#define PIPE_BUF 4096u		/* writes up to this size are atomic */
#define S_IFIFO 0010000u

static const struct cubi_file_ops rd_ops, wr_ops, path_end_ops;
static struct pipe *pipe_of(struct cubi_file *f);

struct pipe *cubi_pipe_of(struct cubi_file *f)
{
	if (f->ops == &rd_ops || f->ops == &wr_ops || f->ops == &cubi_pipe_end_ops)
		return pipe_of(f);
	return NULL;
}

static struct pipe *pipe_of(struct cubi_file *f)
{
	if (f->ops == &rd_ops)
		return cub_container_of(f, struct pipe, rd);
	if (f->ops == &wr_ops)
		return cub_container_of(f, struct pipe, wr);
	return cubi_pipe_end_of(f)->pipe;
}

/* Every end's readiness changed (pipe_impl.h). */
void cubi_pipe_wake(struct pipe *p)
{
	cubi_file_changed(&p->rd);
	cubi_file_changed(&p->wr);
	for (struct pend *e = p->more; e; e = e->next)
		cubi_file_changed(&e->file);
	cubi_io_changed();
}

/* A sendfile holds one of its ends (fd.h's `held`): it owns the
 * front, whichever end it reads through. */
bool cubi_pipe_held(const struct pipe *p)
{
	if (p->rd.held || p->wr.held)
		return true;
	for (const struct pend *e = p->more; e; e = e->next)
		if (e->file.held)
			return true;
	return false;
}

/* The ops' changed hook: wakes the waiters of every end. */
static void pipe_changed(struct cubi_file *f)
{
	cubi_pipe_wake(pipe_of(f));
}

/* Copies the first k bytes (0 < k <= len) into buf and, unless peek,
 * takes them out. */
static __attribute__((noinline)) long take(struct pipe *p, void *buf, size_t k,
						 bool peek)
{
	cubi_pipe_copy_out(p, 0, buf, k);
	if (!peek)
		cubi_pipe_drop(p, k);
	return (long)k;
}

/* Copies up to n bytes from the front into buf and, unless peek, takes
 * them out. A held pipe (a sendfile owns its front) reads as empty. The
 * checks come first and copy nothing, so that a read that finds the
 * pipe empty (then waits) costs little. */
static long pipe_get(struct cubi_file *f, void *buf, size_t n, bool peek)
{
	struct pipe *p = pipe_of(f);

	if (n == 0)
		return 0;
	if (cubi_pipe_held(p))
		return -CUB_EAGAIN;
	if (p->len == 0)
		return p->writers ? -CUB_EAGAIN : 0;
	return take(p, buf, CUB_MIN(n, p->len), peek);
}

static long pipe_read(struct cubi_file *f, void *buf, size_t n)
{
	return pipe_get(f, buf, n, false);
}

static long pipe_peek(struct cubi_file *f, void *buf, size_t n)
{
	return pipe_get(f, buf, n, true);
}

static long pipe_write(struct cubi_file *f, const void *buf, size_t n)
{
	struct pipe *p = pipe_of(f);
	size_t k = CUB_MIN(n, p->cap - p->len), fit;

	if (!p->readers)
		return -CUB_EPIPE;
	if (n == 0)
		return 0;
	if (k == 0 || (n <= PIPE_BUF && k < n))
		return -CUB_EAGAIN;
	fit = cubi_pipe_reserve(p, k);
	if (fit == 0 || (n <= PIPE_BUF && fit < n))
		return -CUB_ENOMEM;	/* the heap is out */
	cubi_pipe_append(p, buf, fit);
	return (long)fit;
}

static uint32_t read_events(struct pipe *p)
{
	uint32_t ev = p->len ? CUBI_EPOLLIN | CUBI_EPOLLRDNORM : 0;

	if (cubi_pipe_held(p))		/* until the sendfile is done with it */
		return 0;
	return p->writers ? ev : ev | CUBI_EPOLLHUP | CUBI_EPOLLRDHUP;
}

static uint32_t write_events(struct pipe *p)
{
	if (!p->readers)
		return CUBI_EPOLLERR;
	return p->len < p->cap ? CUBI_EPOLLOUT | CUBI_EPOLLWRNORM : 0;
}

/* FIONREAD on any end (Linux's pipe_ioctl): the bytes a read would get
 * now, none while held. */
static long pipe_inq(struct cubi_file *f)
{
	struct pipe *p = pipe_of(f);

	return cubi_pipe_held(p) ? 0 : (long)p->len;
}

static uint32_t rd_poll(struct cubi_file *f)
{
	return read_events(pipe_of(f));
}

static uint32_t wr_poll(struct cubi_file *f)
{
	return write_events(pipe_of(f));
}

static uint32_t more_poll(struct cubi_file *f)
{
	unsigned acc = f->flags & CUBI_O_ACCMODE;

	return (acc != CUBI_O_WRONLY ? read_events(pipe_of(f)) : 0) |
	       (acc != 0 ? write_events(pipe_of(f)) : 0);
}

/* Closing an end: the pipe goes with its last open file. */
static void *rd_release(struct cubi_file *f)
{
	struct pipe *p = pipe_of(f);

	p->readers--;
	cubi_pipe_wake(p);
	return --p->files ? NULL : p;
}

static void *wr_release(struct cubi_file *f)
{
	struct pipe *p = pipe_of(f);

	p->writers--;
	cubi_pipe_wake(p);
	return --p->files ? NULL : p;
}

static void *more_release(struct cubi_file *f)
{
	struct pend *e = cubi_pipe_end_of(f), **at;
	struct pipe *p = e->pipe;
	unsigned acc = f->flags & CUBI_O_ACCMODE;

	for (at = &p->more; *at != e; at = &(*at)->next)
		;
	*at = e->next;
	if (!(f->flags & CUBI_O_PATH)) {
		p->readers -= acc != CUBI_O_WRONLY;
		p->writers -= acc != 0;
	}
	cubi_pipe_wake(p);
	e->last = --p->files == 0;
	if (e->last && p->fifo_id)	/* a named pipe starts afresh */
		cubi_fifo_forget(p);
	return e;
}

/* The first two ends' free op: the pipe their release returned. */
static void pipe_free(void *mem)
{
	cubi_pipe_free(mem);
}

static void more_free(void *mem)
{
	struct pend *e = mem;

	if (e->last)
		cubi_pipe_free(e->pipe);
	cub_free(e);
}

/* Any file of the pipe: one inode, the pipe's (only reads f: any
 * context, procfs_fd.c calls it with interrupts disabled). */
static int pipe_stat(struct cubi_file *f, struct cubi_rstat *st)
{
	*st = (struct cubi_rstat){ .mode = S_IFIFO | 0600, .nlink = 1,
				   .ino = (uintptr_t)pipe_of(f) / 16 };
	return 0;
}

static const struct cubi_file_ops rd_ops = {
	.read = pipe_read, .peek = pipe_peek, .poll = rd_poll, .inq = pipe_inq, .release = rd_release, .free = pipe_free,
	.changed = pipe_changed, .stat = pipe_stat, .mode = S_IFIFO | 0600,
	.file_wakes = true,
};
static const struct cubi_file_ops wr_ops = {
	.write = pipe_write, .poll = wr_poll, .inq = pipe_inq, .release = wr_release, .free = pipe_free, .mode = S_IFIFO | 0600,
	.changed = pipe_changed, .stat = pipe_stat, .file_wakes = true,
};
const struct cubi_file_ops cubi_pipe_end_ops = {
	.read = pipe_read, .peek = pipe_peek, .write = pipe_write, .poll = more_poll,
	.inq = pipe_inq,
	.release = more_release, .free = more_free, .changed = pipe_changed,
	.stat = pipe_stat, .mode = S_IFIFO | 0600, .file_wakes = true,
};
/* A path end: no bytes for it (fd.c refuses O_PATH files' reads and
 * writes), no readiness of its own. */
static const struct cubi_file_ops path_end_ops = {
	.release = more_release, .free = more_free, .stat = pipe_stat,
	.mode = S_IFIFO | 0600,
};

struct cubi_file *cubi_pipe_reopen(struct cubi_file *f, unsigned flags, long *err)
{
	unsigned acc = flags & CUBI_O_ACCMODE;
	bool path = flags & CUBI_O_PATH;
	struct pend *e;
	struct pipe *p;
	unsigned long irq;

	*err = -CUB_ENXIO;
	if (f->ops != &rd_ops && f->ops != &wr_ops && f->ops != &cubi_pipe_end_ops &&
	    f->ops != &path_end_ops)
		return NULL;
	*err = -CUB_EINVAL;	/* Linux: a fifo opened neither to read nor write */
	if (acc == 3 && !path)
		return NULL;
	*err = -CUB_ENOMEM;
	if (!(e = cub_malloc(sizeof(*e))))
		return NULL;
	irq = cub_arch_irq_save();
	p = pipe_of(f);
	*e = (struct pend){ .file = { .ops = path ? &path_end_ops : &cubi_pipe_end_ops,
				      .flags = path ? CUBI_O_PATH : flags },
			    .pipe = p, .next = p->more };
	p->more = e;
	p->files++;
	p->readers += !path && acc != CUBI_O_WRONLY;
	p->writers += !path && acc != 0;
	cubi_pipe_wake(p);
	cub_arch_irq_restore(irq);
	return &e->file;
}

/* pipe2(int fds[2], flags): O_NONBLOCK and O_CLOEXEC; others -EINVAL. */
static long make_pipe(uintptr_t ufds, uint64_t flags)
{
	struct pipe *p;
	unsigned long irq;
	int fds[2];

	if (flags & ~(uint64_t)(CUBI_O_NONBLOCK | CUBI_O_CLOEXEC))
		return -CUB_EINVAL;
	if (!cubi_user_writable(ufds, sizeof(fds)))
		return -CUB_EFAULT;
	p = cub_malloc(sizeof(*p));
	if (!p)
		return -CUB_ENOMEM;
	p->rd = (struct cubi_file){ .ops = &rd_ops, .flags = (unsigned)flags & CUBI_O_NONBLOCK };
	p->wr = (struct cubi_file){ .ops = &wr_ops,
				    .flags = CUBI_O_WRONLY | ((unsigned)flags & CUBI_O_NONBLOCK) };
	p->more = NULL;
	p->readers = p->writers = 1;
	p->files = 2;
	cubi_pipe_ring_init(p);
	p->fifo_id = 0;		/* anonymous: opens[] and fifo_next unused */
	irq = cub_arch_irq_save();
	fds[0] = (int)cubi_fd_install(&p->rd, flags & CUBI_O_CLOEXEC);
	fds[1] = fds[0] < 0 ? fds[0] : (int)cubi_fd_install(&p->wr, flags & CUBI_O_CLOEXEC);
	if (fds[1] < 0 && fds[0] >= 0)
		cubi_fd_uninstall(fds[0]);
	cub_arch_irq_restore(irq);
	if (fds[1] < 0) {
		cub_free(p);
		return fds[1];
	}
	if (cubi_copy_out(ufds, fds, sizeof(fds)) == 0)
		return 0;
	cubi_fd_close(fds[0]);	/* unmapped meanwhile: undo, like Linux */
	cubi_fd_close(fds[1]);
	return -CUB_EFAULT;
}

CUBI_SYS(pipe)
{
	return make_pipe(A0(r), 0);
}

CUBI_SYS(pipe2)
{
	return make_pipe(A0(r), A1(r));
}
