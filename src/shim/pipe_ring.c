/*
 * pipe_ring.c - a pipe's byte ring and its memory: copying in and out,
 * growing the block as bytes arrive, and fcntl's F_GETPIPE_SZ and
 * F_SETPIPE_SZ (the rest of the pipe is pipe.c's; the invariants and
 * the locking rule are pipe_impl.h's).
 *
 * A pipe's capacity (cap, what F_GETPIPE_SZ says and writes are held
 * to) and its memory (size, the block the ring lives in) differ: every
 * pipe starts in the 16 KiB ring0 inside it, and a block of its own is
 * only allocated when its bytes outgrow that, a power of two big enough
 * for them (never above cap), copied over with the head at 0; once the
 * pipe is empty again the block goes and ring0 serves again. So
 * F_SETPIPE_SZ costs nothing by itself, as on Linux, where a pipe's
 * pages come and go with its bytes: Go sizes every pipe of its splice
 * pool to 1 MiB, which allocated up front would take 64 MiB of a 128 MiB
 * guest for TestSplicePipePool's 64 pipes. The heap is called with
 * interrupts disabled, which its own locking allows (task context).
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/panic.h>
#include <cubrt/string.h>

#include "pipe_impl.h"

void cubi_pipe_copy_out(const struct pipe *p, size_t skip, void *buf, size_t k)
{
	size_t at = (p->head + skip) & (p->size - 1);
	size_t first = CUB_MIN(k, p->size - at);

	cub_memcpy(buf, p->buf + at, first);
	if (k > first)		/* wrapped around the ring's end */
		cub_memcpy((unsigned char *)buf + first, p->buf, k - first);
}

/* Moves the bytes into block nb of size bytes (ring0 when nb is NULL),
 * head 0, and frees the old block if it was the heap's (irq off). */
static void move_to(struct pipe *p, unsigned char *nb, size_t size)
{
	unsigned char *old = p->buf;

	if (!nb) {
		nb = p->ring0;
		size = PIPE_CAP;
	}
	if (nb == old)
		return;
	cubi_pipe_copy_out(p, 0, nb, p->len);
	p->buf = nb;
	p->size = size;
	p->head = 0;
	if (old != p->ring0)
		cub_free(old);
}

void cubi_pipe_drop(struct pipe *p, size_t k)
{
	p->head = (p->head + k) & (p->size - 1);
	p->len -= k;
	if (p->len == 0 && p->buf != p->ring0)	/* empty: its block goes */
		move_to(p, NULL, PIPE_CAP);
	cubi_pipe_wake(p);
}

size_t cubi_pipe_reserve(struct pipe *p, size_t k)
{
	size_t need = p->len + k, size = p->size;
	unsigned char *nb;

	if (need <= size)
		return k;
	while (size < need)
		size <<= 1;
	if (!(nb = cub_malloc(size)))
		return p->size - p->len;
	move_to(p, nb, size);
	return k;
}

void cubi_pipe_append(struct pipe *p, const void *buf, size_t k)
{
	size_t tail = (p->head + p->len) & (p->size - 1);
	size_t first = CUB_MIN(k, p->size - tail);

	CUB_ASSERT(p->len + k <= p->size && p->len + k <= p->cap);
	cub_memcpy(p->buf + tail, buf, first);
	if (k > first)
		cub_memcpy(p->buf, (const unsigned char *)buf + first, k - first);
	p->len += k;
	cubi_pipe_wake(p);
}

void cubi_pipe_free(struct pipe *p)
{
	if (p->buf != p->ring0)
		cub_free(p->buf);
	cub_free(p);
}

unsigned cubi_pipe_max_size(void)
{
	return PIPE_MAX_CAP;
}

/* F_SETPIPE_SZ: the capacity changes; the bytes stay where they are
 * unless the block is bigger than the new capacity (a shrink), when
 * they move into ring0 or a block just big enough. */
static long resize(struct pipe *p, unsigned want)
{
	size_t cap = PIPE_MIN_CAP, size = PIPE_CAP;
	unsigned char *nb = NULL;
	unsigned long irq;
	long rc;

	if (want > PIPE_MAX_CAP)
		return -CUB_EINVAL;
	while (cap < want)
		cap <<= 1;
	irq = cub_arch_irq_save();
	rc = (long)cap;
	while (size < p->len)
		size <<= 1;
	if (p->len > cap)
		rc = -CUB_EBUSY;
	else if (p->size > CUB_MAX(cap, (size_t)PIPE_CAP) &&
		 size > PIPE_CAP && !(nb = cub_malloc(size)))
		rc = -CUB_ENOMEM;
	if (rc > 0) {
		if (p->size > CUB_MAX(cap, (size_t)PIPE_CAP))
			move_to(p, nb, size);
		p->cap = cap;
		cubi_pipe_wake(p);	/* writers may fit now */
	}
	cub_arch_irq_restore(irq);
	return rc;
}

long cubi_pipe_fcntl(uint64_t fd, unsigned cmd, uint64_t arg)
{
	struct cubi_file *f = cubi_fd_get(fd);
	struct pipe *p = f ? cubi_pipe_of(f) : NULL;
	long rc = -CUB_EBADF;

	if (p && cmd == CUBI_F_GETPIPE_SZ)
		rc = (long)p->cap;
	else if (p)
		rc = resize(p, (unsigned)arg);
	if (f)
		cubi_file_put(f);
	return rc;
}
