/*
 * eventfd.c - eventfd and eventfd2: a 64-bit counter behind a descriptor,
 * the wake-up channel of event loops (newer Go runtimes wake their
 * poller through one; libuv, ...).
 *
 * Linux semantics: a write of an 8-byte value adds it to the counter,
 * waiting while the sum would pass 2^64 - 2 (-EAGAIN with O_NONBLOCK);
 * a read of at least 8 bytes returns the counter and zeroes it, or with
 * EFD_SEMAPHORE returns 1 and decrements it, waiting while it is 0.
 * Shorter buffers and the value 2^64 - 1: -EINVAL. Readable while the
 * counter is above 0, writable while it is below 2^64 - 2.
 *
 * Locking: the fd layer's critical section (interrupts disabled) around
 * every op, as for pipes (fd.c, fd_rw.c); the fd layer does the waiting.
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/string.h>

#include "shim_impl.h"

#define EFD_SEMAPHORE 1u
#define COUNT_MAX 0xfffffffffffffffeull

struct eventfd {
	struct cubi_file file;
	uint64_t count;
	bool semaphore;
};

static struct eventfd *of_file(struct cubi_file *f)
{
	return cub_container_of(f, struct eventfd, file);
}

static void changed(struct eventfd *e)
{
	cubi_file_changed(&e->file);
	cubi_io_changed();
}

static long efd_read(struct cubi_file *f, void *buf, size_t n)
{
	struct eventfd *e = of_file(f);
	uint64_t v;

	if (n < 8)
		return -CUB_EINVAL;
	if (e->count == 0)
		return -CUB_EAGAIN;
	v = e->semaphore ? 1 : e->count;
	e->count -= v;
	cub_memcpy(buf, &v, 8);
	changed(e);
	return 8;
}

static long efd_write(struct cubi_file *f, const void *buf, size_t n)
{
	struct eventfd *e = of_file(f);
	uint64_t v;

	if (n < 8)
		return -CUB_EINVAL;
	cub_memcpy(&v, buf, 8);
	if (v == UINT64_MAX)
		return -CUB_EINVAL;
	if (v > COUNT_MAX - e->count)
		return -CUB_EAGAIN;
	e->count += v;
	if (v)
		changed(e);
	return 8;
}

static uint32_t efd_poll(struct cubi_file *f)
{
	struct eventfd *e = of_file(f);

	return (e->count ? CUBI_EPOLLIN | CUBI_EPOLLRDNORM : 0) |
	       (e->count < COUNT_MAX ? CUBI_EPOLLOUT | CUBI_EPOLLWRNORM : 0);
}

static void *efd_release(struct cubi_file *f)
{
	return of_file(f);
}

static const struct cubi_file_ops efd_ops = {
	.read = efd_read, .write = efd_write, .poll = efd_poll,
	.release = efd_release, .mode = 0600,	/* Linux: an anonymous inode */
	.name = "anon_inode:[eventfd]",
	.one_write = true,			/* 8 bytes of a longer write */
	.file_wakes = true,
};

static long make(uint64_t initval, uint64_t flags)
{
	struct eventfd *e;
	unsigned long irq;
	long fd;

	if (flags & ~(uint64_t)(EFD_SEMAPHORE | CUBI_O_NONBLOCK | CUBI_O_CLOEXEC))
		return -CUB_EINVAL;
	if (!(e = cub_malloc(sizeof(*e))))
		return -CUB_ENOMEM;
	*e = (struct eventfd){
		.file = { .ops = &efd_ops,
			  .flags = CUBI_O_RDWR | ((unsigned)flags & CUBI_O_NONBLOCK) },
		.count = (uint32_t)initval,	/* an unsigned int in the ABI */
		.semaphore = flags & EFD_SEMAPHORE,
	};
	irq = cub_arch_irq_save();
	fd = cubi_fd_install(&e->file, flags & CUBI_O_CLOEXEC);
	cub_arch_irq_restore(irq);
	if (fd < 0)
		cub_free(e);
	return fd;
}

CUBI_SYS(eventfd)
{
	return make(A0(r), 0);
}

CUBI_SYS(eventfd2)
{
	return make(A0(r), A1(r));
}
