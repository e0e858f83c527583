/*
 * pipe_impl.h - what the two halves of the shim's pipes share: the pipe
 * (a byte ring and the count of its ends) and the ends opened after
 * pipe() made its first two. pipe.c has the ring, every end's
 * operations, reopens through /proc/self/fd and pipe/pipe2; pipe_fifo.c
 * has named pipes (mkfifo nodes: which pipe an open of one gets, and
 * what a blocking open waits for). vfs.h is the contract for the rest
 * of the shim; only pipe*.c include this header.
 *
 * Invariants:
 *  - 0 <= len <= PIPE_CAP; the bytes start at head (mod PIPE_CAP); only
 *    a read takes bytes from the front, a write only appends (what a
 *    peek saw stays until a read).
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

#define PIPE_CAP (16u * 1024)	/* Linux gives 64 KiB; 16 is plenty here */

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
	size_t head, len;
	unsigned char buf[PIPE_CAP];
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

/* pipe.c: every end's readiness changed; wakes their waiters (irq off). */
void cubi_pipe_wake(struct pipe *p);

/* pipe_fifo.c: the named pipe p lost its last file: off the list, so
 * that the next open of its node starts an empty pipe (irq off). */
void cubi_fifo_forget(struct pipe *p);

#endif
