/*
 * pipe_impl.h - what the two halves of the shim's pipes share: the pipe
 * (a byte ring and the count of its ends) and the ends opened after
 * pipe() made its first two. pipe.c has the ring, every end's
 * operations, reopens through /proc/self/fd and pipe/pipe2; pipe_fifo.c
 * has named pipes (mkfifo nodes: which pipe an open of one gets, and
 * what a blocking open waits for); pipe_ring.c the ring's memory and
 * F_[GS]ETPIPE_SZ; pipe_splice.c has splice and tee (pipe_splice_tty.c
 * the console as a source), pipe_vmsplice.c vmsplice.
 * vfs.h is the contract for the rest of the shim; only pipe*.c include
 * this header.
 *
 * Invariants:
 *  - cap (the capacity, F_GETPIPE_SZ's) is a power of two of at least
 *    a page (PIPE_MIN_CAP..PIPE_MAX_CAP); 0 <= len <= cap. The bytes
 *    live in buf, of size bytes (a power of two, >= len): ring0
 *    (PIPE_CAP) or a heap block the pipe owns, allocated only while the
 *    bytes need it (pipe_ring.c), so size may exceed cap only in ring0.
 *    They start at head (mod size); only a read (or a splice out of the
 *    pipe) takes bytes from the front, a write only appends (what a
 *    peek or tee saw stays until a read).
 *  - readers and writers count the open file descriptions that read and
 *    write the pipe: rd, wr, and the ends on `more` (those opened for
 *    both count in both, path ends in neither); files counts all of
 *    them, path ends included, and the pipe is freed when the last goes.
 *  - fifo_id != 0 exactly for a named pipe; pipe_fifo.c's list holds
 *    exactly the named pipes with an end open, one per id. opens[]
 *    only grow while the pipe lives.
 * Locking: the fd layer's critical section (interrupts disabled) around
 * every op, see fd.c, and around every change of a pipe or of the list
 * of named pipes (cubi_pipe_reopen, cubi_fifo_open, cubi_fifo_forget).
 */
#ifndef CUBRT_SHIM_PIPE_IMPL_H
#define CUBRT_SHIM_PIPE_IMPL_H

#include "shim_impl.h"

#define PIPE_CAP (16u * 1024)	/* the start capacity: Linux gives 64 KiB;
				 * 16 is plenty here (F_SETPIPE_SZ grows it) */
#define PIPE_MIN_CAP 4096u	/* one page, as Linux's smallest */
#define PIPE_MAX_CAP (1024u * 1024)	/* Linux's pipe-max-size default */

struct pend;

struct pipe {
	struct cubi_file rd, wr;	/* the ends pipe() made */
	struct pend *more;		/* ends opened since, by a path */
	unsigned readers, writers, files;
	uint32_t fifo_id;		/* a named pipe's node id, else 0 */
	uint32_t opens[2];		/* a named pipe's opens for reading,
					 * for writing: what a waiting open
					 * waits to change */
	struct pipe *fifo_next;		/* on pipe_fifo.c's list */
	size_t head, len, cap, size;
	unsigned char *buf;		/* ring0, or a heap block of size bytes */
	unsigned char ring0[PIPE_CAP];
};

/* An end opened through /proc/self/fd or a named pipe's node (its
 * access mode and O_NONBLOCK, or CUBI_O_PATH for a path end, in
 * file.flags). */
struct pend {
	struct cubi_file file;
	struct pipe *pipe;
	struct pend *next;
	bool last;			/* released the pipe's last file */
	uint32_t partner;		/* a named pipe's opens of the other
					 * kind when this end opened */
};

/* pipe.c: the operations of an end on `more` opened to read, write or
 * both (never a path end). */
extern const struct cubi_file_ops cubi_pipe_end_ops;

static inline struct pend *cubi_pipe_end_of(struct cubi_file *f)
{
	return cub_container_of(f, struct pend, file);
}

/* A new pipe's ring: empty, its start capacity in ring0. */
static inline void cubi_pipe_ring_init(struct pipe *p)
{
	p->head = p->len = 0;
	p->cap = p->size = PIPE_CAP;
	p->buf = p->ring0;
}

/* pipe.c: the pipe of f, any file that reads or writes one (not a path
 * end), else NULL. Only reads f->ops: any context. */
struct pipe *cubi_pipe_of(struct cubi_file *f);

/* pipe_ring.c: frees p and its ring (interrupts enabled). */
void cubi_pipe_free(struct pipe *p);

/* pipe_ring.c: copies k bytes (k <= len) starting skip bytes behind the
 * front into buf, without taking them (irq off). */
void cubi_pipe_copy_out(const struct pipe *p, size_t skip, void *buf, size_t k);

/* pipe_ring.c: makes room in memory for k more bytes (k <= cap - len),
 * growing the block: k, or fewer (what fits now) when the heap is out
 * (irq off). */
size_t cubi_pipe_reserve(struct pipe *p, size_t k);

/* pipe_ring.c: appends k bytes (reserved: k <= size - len, and <= cap -
 * len) from buf, then wakes every end (irq off). */
void cubi_pipe_append(struct pipe *p, const void *buf, size_t k);

/* pipe_ring.c: takes k bytes (k <= len) from the front without copying
 * them, then wakes every end (irq off). */
void cubi_pipe_drop(struct pipe *p, size_t k);

/* pipe.c: a held pipe (a sendfile owns its front) reads as empty. */
bool cubi_pipe_held(const struct pipe *p);

/* pipe_splice.c, for splice and vmsplice (interrupts enabled, out a
 * referenced file of a pipe): cubi_pipe_await_room waits until out's
 * pipe has room and a reader: its room, or -errno (nb: -EAGAIN instead
 * of waiting; -EPIPE with SIGPIPE raised; -EINTR).
 * cubi_pipe_append_some appends up to got bytes of buf, what the pipe
 * has room for now: the count, or -EPIPE (no reader, no signal yet),
 * -ENOMEM. cubi_pipe_wait_on waits for f to change after seq (sampled
 * with irq off): 0, or -EINTR. */
long cubi_pipe_await_room(struct cubi_file *out, bool nb);
long cubi_pipe_append_some(struct cubi_file *out, const void *buf, long got);
long cubi_pipe_wait_on(struct cubi_file *f, uint32_t seq);

/* pipe_splice_tty.c: splice from the console in into out's pipe (both
 * referenced; interrupts enabled): up to len bytes of waiting input,
 * waiting for input (-EAGAIN instead under the console's O_NONBLOCK) and
 * for room (-EAGAIN instead when nb); the count, or -errno (-EPIPE with
 * SIGPIPE raised, -EINTR). */
long cubi_splice_console(struct cubi_file *in, struct cubi_file *out, size_t len, bool nb);

/* pipe.c: every end's readiness changed; wakes their waiters (irq off). */
void cubi_pipe_wake(struct pipe *p);

/* pipe_fifo.c: the named pipe p lost its last file: off the list, so
 * that the next open of its node starts an empty pipe (irq off). */
void cubi_fifo_forget(struct pipe *p);

#endif
