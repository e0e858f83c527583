/*
 * pipe.c - pipe and pipe2: an in-memory byte ring shared by two files,
 * the read end and the write end (Go's runtime wakes its poller through
 * one; programs use them between threads).
 *
 * Linux semantics: a read returns what is there (at most n), blocks while
 * the pipe is empty and a writer exists, and returns 0 (end of file) once
 * every writer closed; a write of at most PIPE_BUF bytes goes in whole or
 * waits, a longer one may go in pieces; writing with no reader left fails
 * with -EPIPE and raises SIGPIPE on the writing thread (fd.c's transfer,
 * through cubi_signal_epipe: a write that got some bytes in first returns
 * their count, and the next one fails and raises it).
 *
 * The read end peeks (sendfile's source, fs_xfer.c): while its file is
 * held, reads wait (or fail -EAGAIN) and poll reports nothing, as if the
 * sendfile had taken the bytes; what it did not send reads again after.
 *
 * Invariants: 0 <= len <= PIPE_CAP; the bytes start at head (mod
 * PIPE_CAP); rd_open/wr_open say which ends still have a descriptor; the
 * pipe is freed when both are closed; only a read takes bytes from the
 * front, a write only appends (what a peek saw stays until a read). Locking: the fd layer's critical
 * section (interrupts disabled) around every op, see fd.c.
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/string.h>

#include "shim_impl.h"

#define PIPE_CAP (16u * 1024)	/* Linux gives 64 KiB; 16 is plenty here */
#define PIPE_BUF 4096u		/* writes up to this size are atomic */
#define S_IFIFO 0010000u

struct pipe {
	struct cubi_file rd, wr;
	bool rd_open, wr_open;
	size_t head, len;
	unsigned char buf[PIPE_CAP];
};

static struct pipe *of_rd(struct cubi_file *f)
{
	return cub_container_of(f, struct pipe, rd);
}

static struct pipe *of_wr(struct cubi_file *f)
{
	return cub_container_of(f, struct pipe, wr);
}

/* Both ends' readiness changed. */
static void changed(struct pipe *p)
{
	cubi_file_changed(&p->rd);
	cubi_file_changed(&p->wr);
	cubi_io_changed();
}

/* Copies up to n bytes from the front into buf and, unless peek, takes
 * them out. A held pipe (a sendfile owns its front) reads as empty. */
static long pipe_get(struct cubi_file *f, void *buf, size_t n, bool peek)
{
	struct pipe *p = of_rd(f);
	size_t k = n < p->len ? n : p->len;
	size_t first = CUB_MIN(k, PIPE_CAP - p->head);

	if (n == 0)
		return 0;
	if (f->held)
		return -CUB_EAGAIN;
	if (p->len == 0)
		return p->wr_open ? -CUB_EAGAIN : 0;
	cub_memcpy(buf, p->buf + p->head, first);
	cub_memcpy((unsigned char *)buf + first, p->buf, k - first);
	if (peek)
		return (long)k;
	p->head = (p->head + k) % PIPE_CAP;
	p->len -= k;
	changed(p);
	return (long)k;
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
	struct pipe *p = of_wr(f);
	size_t k = CUB_MIN(n, PIPE_CAP - p->len);
	size_t tail = (p->head + p->len) % PIPE_CAP;
	size_t first = CUB_MIN(k, PIPE_CAP - tail);

	if (!p->rd_open)
		return -CUB_EPIPE;
	if (n == 0)
		return 0;
	if (k == 0 || (n <= PIPE_BUF && k < n))
		return -CUB_EAGAIN;
	cub_memcpy(p->buf + tail, buf, first);
	cub_memcpy(p->buf, (const unsigned char *)buf + first, k - first);
	p->len += k;
	changed(p);
	return (long)k;
}

static uint32_t rd_poll(struct cubi_file *f)
{
	struct pipe *p = of_rd(f);
	uint32_t ev = p->len ? CUBI_EPOLLIN | CUBI_EPOLLRDNORM : 0;

	if (f->held)		/* until the sendfile is done with it */
		return 0;
	return p->wr_open ? ev : ev | CUBI_EPOLLHUP | CUBI_EPOLLRDHUP;
}

static uint32_t wr_poll(struct cubi_file *f)
{
	struct pipe *p = of_wr(f);

	if (!p->rd_open)
		return CUBI_EPOLLERR;
	return p->len < PIPE_CAP ? CUBI_EPOLLOUT | CUBI_EPOLLWRNORM : 0;
}

/* Closing an end: the pipe goes once neither end is open. */
static void *rd_release(struct cubi_file *f)
{
	struct pipe *p = of_rd(f);

	p->rd_open = false;
	changed(p);
	return p->wr_open ? NULL : p;
}

static void *wr_release(struct cubi_file *f)
{
	struct pipe *p = of_wr(f);

	p->wr_open = false;
	changed(p);
	return p->rd_open ? NULL : p;
}

static const struct cubi_file_ops rd_ops = {
	.read = pipe_read, .peek = pipe_peek, .poll = rd_poll, .release = rd_release,
	.mode = S_IFIFO | 0600, .file_wakes = true,
};
static const struct cubi_file_ops wr_ops = {
	.write = pipe_write, .poll = wr_poll, .release = wr_release, .mode = S_IFIFO | 0600,
	.file_wakes = true,
};

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
	p->rd_open = p->wr_open = true;
	p->head = p->len = 0;
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
