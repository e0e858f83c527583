/*
 * signalfd.c - signalfd and signalfd4: the signals of a mask read from a
 * descriptor instead of run by handlers (event loops wait for them with
 * epoll next to their sockets and timers).
 *
 * Linux semantics: a read takes the signals of the file's mask that are
 * pending for the reading thread (its own, then the process's), as many
 * 128-byte struct signalfd_siginfo as fit, and waits while there is none
 * (-EAGAIN with SFD_NONBLOCK); a buffer under 128 bytes: -EINVAL. The
 * file is readable while such a signal is pending for the thread that
 * polls. The program blocks the signals it reads this way, or their
 * handlers may take them first. signalfd on an existing signalfd
 * replaces its mask; SIGKILL and SIGSTOP are dropped from masks.
 *
 * Every signal that becomes pending wakes the signalfds whose mask has it
 * (cubi_signalfd_notify, from signal_send.c, any context), so a blocked
 * read or an epoll_wait on one wakes for it alone.
 *
 * Invariants: every signalfd is on `all` until its last close. Locking:
 * the fd layer's critical section (interrupts disabled) around the ops
 * and the list.
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/list.h>
#include <cubrt/string.h>

#include "shim_impl.h"
#include "signal_impl.h"

#define SFD_INFO 128		/* sizeof(struct signalfd_siginfo) */

struct signalfd {
	struct cubi_file file;
	struct cub_list link;	/* all */
	uint64_t mask;		/* bit sig-1: read through this file */
};

/* Linux's struct signalfd_siginfo. */
struct sfd_info {
	uint32_t signo;
	int32_t err, code;
	uint32_t pid, uid;
	int32_t fd;
	uint32_t tid, band, overrun, trapno;
	int32_t status, int_;
	uint64_t ptr, utime, stime, addr;
	uint8_t pad[48];
};
_Static_assert(sizeof(struct sfd_info) == SFD_INFO, "signalfd_siginfo layout");

static struct cub_list all = CUB_LIST_INIT(all);

static struct signalfd *of_file(struct cubi_file *f)
{
	return cub_container_of(f, struct signalfd, file);
}

/* Takes sig for t and writes its signalfd_siginfo to out. */
static void take(struct cubi_thread *t, int sig, void *out)
{
	struct cubi_siginfo si;
	struct sfd_info i = { 0 };
	uint64_t value;

	cubi_signal_take(t, sig, &si);
	cub_memcpy(&value, si.rest, sizeof(value));
	i.signo = (uint32_t)si.signo;
	i.code = si.code;
	if (si.code == CUBI_SI_TIMER) {	/* pid, uid: the timer's fields */
		i.tid = (uint32_t)si.pid;
		i.overrun = (uint32_t)si.uid;
		i.int_ = (int32_t)value;
		i.ptr = value;
	} else {
		i.pid = (uint32_t)si.pid;
		i.uid = (uint32_t)si.uid;
	}
	cub_memcpy(out, &i, sizeof(i));
}

static long sfd_read(struct cubi_file *f, void *buf, size_t n)
{
	struct cubi_thread *t = cubi_thread_current();
	uint64_t mask = of_file(f)->mask;
	size_t done = 0;

	if (n < SFD_INFO)
		return -CUB_EINVAL;
	while (t && done + SFD_INFO <= n) {
		uint64_t ready = cubi_signal_pending_for(t) & mask;

		if (!ready)
			break;
		take(t, __builtin_ctzll(ready) + 1, (char *)buf + done);
		done += SFD_INFO;
	}
	return done ? (long)done : -CUB_EAGAIN;
}

static uint32_t sfd_poll(struct cubi_file *f)
{
	struct cubi_thread *t = cubi_thread_current();

	return t && (cubi_signal_pending_for(t) & of_file(f)->mask) ?
		CUBI_EPOLLIN | CUBI_EPOLLRDNORM : 0;
}

static void *sfd_release(struct cubi_file *f)
{
	cub_list_del(&of_file(f)->link);
	return of_file(f);
}

static const struct cubi_file_ops sfd_ops = {
	.read = sfd_read, .poll = sfd_poll, .release = sfd_release,
	.mode = 0600, .name = "anon_inode:[signalfd]",
	.file_wakes = true,
};

void cubi_signalfd_notify(uint64_t bit)
{
	struct cub_list *pos;

	cub_list_for_each(pos, &all) {
		struct signalfd *s = cub_container_of(pos, struct signalfd, link);

		if (s->mask & bit)
			cubi_file_changed(&s->file);
	}
}

/* A new signalfd with mask: its descriptor, or -errno. */
static long create(uint64_t mask, uint64_t flags)
{
	struct signalfd *s = cub_malloc(sizeof(*s));
	unsigned long irq;
	long fd;

	if (!s)
		return -CUB_ENOMEM;
	*s = (struct signalfd){
		.file = { .ops = &sfd_ops,
			  .flags = CUBI_O_RDWR | ((unsigned)flags & CUBI_O_NONBLOCK) },
		.mask = mask,
	};
	irq = cub_arch_irq_save();
	fd = cubi_fd_install(&s->file, flags & CUBI_O_CLOEXEC);
	if (fd >= 0)
		cub_list_push_back(&all, &s->link);
	cub_arch_irq_restore(irq);
	if (fd < 0)
		cub_free(s);
	return fd;
}

/* signalfd4(fd, mask, sizemask, flags): fd -1 makes one; else fd's mask
 * is replaced (flags then change nothing, as on Linux). */
static long do_signalfd(int64_t fd, uintptr_t umask, uint64_t size, uint64_t flags)
{
	uint64_t mask;
	unsigned long irq;
	struct cubi_file *f;
	long rc = 0;

	if (size != sizeof(mask) || (flags & ~(uint64_t)(CUBI_O_NONBLOCK | CUBI_O_CLOEXEC)))
		return -CUB_EINVAL;
	if (cubi_copy_in(&mask, umask, sizeof(mask)))
		return -CUB_EFAULT;
	mask &= ~UNBLOCKABLE;
	if (fd == -1)
		return create(mask, flags);
	irq = cub_arch_irq_save();
	f = fd < 0 ? NULL : cubi_fd_file((uint64_t)fd);
	if (!f)
		rc = -CUB_EBADF;
	else if (f->ops != &sfd_ops)
		rc = -CUB_EINVAL;
	else
		of_file(f)->mask = mask;
	if (f && !rc)
		cubi_file_changed(f);	/* readiness may differ now */
	cub_arch_irq_restore(irq);
	return rc ? rc : fd;
}

CUBI_SYS(signalfd)
{
	return do_signalfd((int)A0(r), A1(r), A2(r), 0);
}

CUBI_SYS(signalfd4)
{
	return do_signalfd((int)A0(r), A1(r), A2(r), A3(r));
}
