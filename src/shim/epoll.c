/*
 * epoll.c - epoll_create/create1, epoll_ctl, epoll_wait/pwait over the
 * fd layer's files with a poll op (pipes, sockets, eventfd, timerfd,
 * signalfd; Go's runtime parks its idle threads in epoll_pwait with its
 * timer deadline as the timeout).
 *
 * Level-triggered by default; EPOLLET reports a file again only after its
 * readiness may have changed (its gen moved since the last report: a
 * superset of Linux's edges, which edge-triggered callers tolerate since
 * they read until -EAGAIN anyway); EPOLLONESHOT disarms an entry after it
 * fired until EPOLL_CTL_MOD. The console, regular files and directories
 * (no poll op) and epoll instances cannot be watched (-EPERM, -EINVAL).
 *
 * A waiter sleeps on its own instance (the instance's file word, as a
 * read sleeps on its file's, fd_rw.c): every entry is on its file's chain of
 * watchers, and cubi_file_changed of a watched file wakes just the
 * instances watching it (cubi_epoll_notify). So threads waiting in
 * separate instances (an event loop per thread) do not wake each other.
 * A wait looks only at the entries on its instance's ready list: those
 * whose file changed since they were last looked at (notify queues them),
 * new or modified ones, and level-triggered ones it reported last time
 * (they go to the back: each gets its turn when max is small).
 *
 * Entries are keyed as Linux keys them, by the pair (open file,
 * descriptor number): a file's dup'd descriptors are separate entries,
 * each with its own events and data, and epoll_ctl names the pair of the
 * descriptor it is given and the file that descriptor has now. A pair
 * outlives its descriptor: closing fd 5 while a dup keeps the file open
 * leaves (file, 5) registered and reporting (Linux's classic gotcha),
 * though epoll_ctl can no longer name it (-EBADF, or -ENOENT once 5 names
 * another file); a reused number makes a new pair. All the pairs of a
 * file go when the file does (its last close, cubi_epoll_forget).
 *
 * An entry lives in a slot of its instance. EPOLL_CTL_ADD takes a free
 * slot, or one it allocated before the critical section (nothing
 * allocates inside it); slots are freed only with the instance, which has
 * at most MAX_SLOTS (-ENOSPC beyond, Linux's answer at max_user_watches;
 * -ENOMEM when the heap has no room for another).
 *
 * Invariants: an instance holds at most one entry per (file, fd) pair
 * and only files that are open; every slot is on its instance's `slots`
 * list (linked through `all`) and belongs to that instance for good; a
 * slot is in use iff its file is set, and then it is on that file's
 * `watchers` chain (linked through `next`), else on its instance's free
 * list (linked through `next` too); `queued` iff it is on its instance's
 * ready list (linked through `rnext`), where a free slot may linger until
 * the next wait drops it (or an ADD reuses it, still listed); a used
 * entry off the list is not ready, or edge-triggered and unchanged since
 * reported, or a spent one-shot. Locking: the fd layer's critical section
 * (interrupts disabled), see fd.c; the slots' memory is freed after it
 * (ep_free).
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "shim_impl.h"

#define EPOLL_CTL_ADD 1
#define EPOLL_CTL_DEL 2
#define EPOLL_CTL_MOD 3
#define EPOLLEXCLUSIVE (1u << 28)
#define EPOLLWAKEUP (1u << 29)
#define EPOLLONESHOT (1u << 30)
#define EPOLLET (1u << 31)
#define EPOLL_KNOWN (0x3fffu | EPOLLEXCLUSIVE | EPOLLWAKEUP | EPOLLONESHOT | EPOLLET)
#define EVENT_SIZE 12		/* struct epoll_event is packed on x86-64 */
#define MAX_EVENTS (0x7fffffff / EVENT_SIZE)
#define MAX_SLOTS (4 * CUBI_FD_MAX)	/* the entries an instance holds */

struct epoll;

struct entry {
	struct cubi_file *file;	/* NULL: free slot */
	int fd;			/* the pair's descriptor number */
	struct entry *next;	/* the file's next watcher, or the next free slot */
	struct entry *all;	/* the instance's next slot */
	struct epoll *ep;	/* the instance it belongs to */
	struct entry *rnext;	/* next on the ready list */
	bool queued;		/* on the ready list */
	uint32_t events;
	uint64_t data;
	uint64_t seen;		/* file->gen at the last EPOLLET report */
	bool armed;		/* false after an EPOLLONESHOT report */
};

struct epoll {
	struct cubi_file file;		/* its gen: what waiters sleep on */
	struct entry *rhead, *rtail;	/* the ready list */
	struct entry *slots;		/* every slot (through `all`) */
	struct entry *free;		/* the free slots (through `next`) */
	unsigned nslots;		/* at most MAX_SLOTS */
};

static struct epoll *of_file(struct cubi_file *f)
{
	return cub_container_of(f, struct epoll, file);
}

/* Puts e (file set) on its file's chain of watchers. */
static void watch(struct entry *e)
{
	e->next = e->file->watchers;
	e->file->watchers = e;
}

/* Puts e (off any watcher chain) on its instance's free list. */
static void free_slot(struct entry *e)
{
	e->file = NULL;
	e->next = e->ep->free;
	e->ep->free = e;
}

/* Takes e off its file's chain and frees the slot. */
static void unwatch(struct entry *e)
{
	struct entry **pp = (struct entry **)&e->file->watchers;

	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	free_slot(e);
}

static void *ep_release(struct cubi_file *f)
{
	struct epoll *ep = of_file(f);

	for (struct entry *e = ep->slots; e; e = e->all)
		if (e->file)
			unwatch(e);
	return ep;
}

/* After the release (interrupts enabled): the slots, then the instance. */
static void ep_free(void *mem)
{
	struct epoll *ep = mem;
	struct entry *e = ep->slots, *all;

	for (; e; e = all) {
		all = e->all;
		cub_free(e);
	}
	cub_free(ep);
}

/* No read, write or poll: an instance cannot be watched (see ctl). */
static const struct cubi_file_ops ep_ops = {
	.release = ep_release, .free = ep_free, .mode = 0600,
	.name = "anon_inode:[eventpoll]",
	.file_wakes = true,	/* epoll_wait sleeps on the instance */
};

void cubi_epoll_forget(struct cubi_file *f)
{
	struct entry *e = f->watchers, *next;

	f->watchers = NULL;
	for (; e; e = next) {
		next = e->next;
		free_slot(e);
	}
}

/* Puts e at the back of its instance's ready list, unless it is on it. */
static void queue(struct entry *e)
{
	struct epoll *ep = e->ep;

	if (e->queued)
		return;
	e->queued = true;
	e->rnext = NULL;
	if (ep->rtail)
		ep->rtail->rnext = e;
	else
		ep->rhead = e;
	ep->rtail = e;
}

void cubi_epoll_notify(struct cubi_file *f)
{
	for (struct entry *e = f->watchers; e; e = e->next) {
		queue(e);
		cubi_file_changed(&e->ep->file);	/* no watchers: no loop */
	}
}

static long create(unsigned flags)
{
	struct epoll *ep = cub_calloc(1, sizeof(*ep));
	unsigned long irq;
	long fd;

	if (!ep)
		return -CUB_ENOMEM;
	ep->file = (struct cubi_file){ .ops = &ep_ops, .flags = CUBI_O_RDWR };
	irq = cub_arch_irq_save();
	fd = cubi_fd_install(&ep->file, flags & CUBI_O_CLOEXEC);
	cub_arch_irq_restore(irq);
	if (fd < 0)
		cub_free(ep);
	return fd;
}

CUBI_SYS(epoll_create)
{
	return (int)A0(r) <= 0 ? -CUB_EINVAL : create(0);
}

CUBI_SYS(epoll_create1)
{
	return A0(r) & ~(uint64_t)CUBI_O_CLOEXEC ? -CUB_EINVAL : create(CUBI_O_CLOEXEC & A0(r));
}

/* ep's entry for the pair (f, fd), or NULL: one of f's watchers. */
static struct entry *find(struct epoll *ep, struct cubi_file *f, int fd)
{
	for (struct entry *e = f->watchers; e; e = e->next)
		if (e->ep == ep && e->fd == fd)
			return e;
	return NULL;
}

/* A free slot of ep (its queued and rnext stay: it may be listed), else
 * *spare (allocated for this ADD; taken), or NULL with *err. */
static struct entry *take_slot(struct epoll *ep, struct entry **spare, long *err)
{
	struct entry *e = ep->free;

	if (e) {
		ep->free = e->next;
		return e;
	}
	*err = ep->nslots == MAX_SLOTS ? -CUB_ENOSPC : -CUB_ENOMEM;
	if (ep->nslots == MAX_SLOTS || !*spare)
		return NULL;
	e = *spare;
	*spare = NULL;
	*e = (struct entry){ .ep = ep, .all = ep->slots };
	ep->slots = e;
	ep->nslots++;
	return e;
}

/* Sets e's events and data (ADD, MOD) and lists it for the next wait. */
static void arm(struct entry *e, uint32_t events, uint64_t data)
{
	e->events = events;
	e->data = data;
	e->seen = e->file->gen - 1;
	e->armed = true;
	queue(e);
	cubi_file_changed(&e->ep->file);	/* a waiter may have a new ready entry */
}

/* One epoll_ctl operation; interrupts disabled. */
static long ctl_locked(uint64_t epfd, int op, uint64_t fd, uint32_t events,
		       uint64_t data, struct entry **spare)
{
	struct cubi_file *ef = cubi_fd_file(epfd), *f = cubi_fd_file(fd);
	struct entry *e;
	long err;

	if (!ef || !f)
		return -CUB_EBADF;
	if (ef->ops != &ep_ops || fd == epfd || f->ops == &ep_ops)
		return -CUB_EINVAL;
	if (!f->ops->poll)
		return -CUB_EPERM;	/* console, regular files: as on Linux */
	if (op == EPOLL_CTL_MOD && (events & EPOLLEXCLUSIVE))
		return -CUB_EINVAL;	/* before the lookup, as Linux */
	e = find(of_file(ef), f, (int)fd);
	if (op == EPOLL_CTL_ADD && e)
		return -CUB_EEXIST;
	if (op != EPOLL_CTL_ADD && !e)
		return -CUB_ENOENT;
	if (op == EPOLL_CTL_DEL) {
		unwatch(e);
		return 0;
	}
	if (op == EPOLL_CTL_ADD) {
		if (!(e = take_slot(of_file(ef), spare, &err)))
			return err;
		e->file = f;
		e->fd = (int)fd;
		watch(e);
	}
	arm(e, events, data);
	return 0;
}

CUBI_SYS(epoll_ctl)
{
	int op = (int)A1(r);
	uint8_t ev[EVENT_SIZE] = { 0 };
	uint32_t events;
	uint64_t data;
	struct entry *spare = NULL;
	unsigned long irq;
	long rc;

	if (op != EPOLL_CTL_ADD && op != EPOLL_CTL_MOD && op != EPOLL_CTL_DEL)
		return -CUB_EINVAL;
	if (op != EPOLL_CTL_DEL && cubi_copy_in(ev, A3(r), sizeof(ev)))
		return -CUB_EFAULT;
	cub_memcpy(&events, ev, 4);
	cub_memcpy(&data, ev + 4, 8);
	if (op != EPOLL_CTL_DEL && (events & ~EPOLL_KNOWN))
		return -CUB_EINVAL;
	if (op == EPOLL_CTL_ADD)	/* a slot, in case no free one is left */
		spare = cub_malloc(sizeof(*spare));
	irq = cub_arch_irq_save();
	rc = ctl_locked(A0(r), op, A2(r), events, data, &spare);
	cub_arch_irq_restore(irq);
	cub_free(spare);	/* not needed */
	return rc;
}

/* Looks at e, just taken off the ready list: the events to report, or 0
 * (then it stays off the list until its file changes again). */
static uint32_t look(struct entry *e)
{
	uint32_t ready;

	if (!e->file || !e->armed)
		return 0;
	ready = e->file->ops->poll(e->file) & (e->events | CUBI_EPOLLERR | CUBI_EPOLLHUP);
	if (!ready || ((e->events & EPOLLET) && e->seen == e->file->gen))
		return 0;
	return ready;
}

/* Reports ready entries into the (checked) user array; irq disabled. */
static int collect(struct epoll *ep, uintptr_t uev, int max)
{
	struct entry *e = ep->rhead, *last = ep->rtail, *next;
	int n = 0;

	ep->rhead = ep->rtail = NULL;	/* this look starts a new list */
	for (; e && n < max; e = next) {
		uint32_t ready;

		next = e->rnext;
		e->queued = false;
		if (!(ready = look(e)))
			continue;
		e->seen = e->file->gen;
		e->armed = !(e->events & EPOLLONESHOT);
		cub_memcpy((void *)(uev + (size_t)n * EVENT_SIZE), &ready, 4);
		cub_memcpy((void *)(uev + (size_t)n * EVENT_SIZE + 4), &e->data, 8);
		n++;
		if (e->armed && !(e->events & EPOLLET))
			queue(e);	/* level-triggered: look again next time */
	}
	if (e) {	/* no room for these: they come first next time */
		last->rnext = ep->rhead;
		if (!ep->rhead)
			ep->rtail = last;
		ep->rhead = e;
	}
	return n;
}

/* epoll_wait(epfd, events, max, timeout_ms): blocks while nothing is
 * ready, at most timeout_ms (negative: no limit, 0: just look). */
static long wait_events(uint64_t epfd, uintptr_t uev, int max, int timeout)
{
	uint64_t deadline = 0;
	bool expired = false;

	if (max <= 0 || max > MAX_EVENTS)
		return -CUB_EINVAL;
	if (!cubi_user_writable(uev, (size_t)max * EVENT_SIZE))
		return -CUB_EFAULT;
	if (timeout > 0)
		deadline = cub_time_now() + (uint64_t)timeout * 1000000u;
	for (;;) {
		unsigned long irq = cub_arch_irq_save();
		struct cubi_file *f = cubi_fd_file(epfd);
		uint32_t seq = f ? cubi_file_seq(f) : 0;
		long n;

		if (!f || f->ops != &ep_ops)
			n = f ? -CUB_EINVAL : -CUB_EBADF;
		else
			n = collect(of_file(f), uev, max);
		if (n == 0 && timeout != 0 && !expired)
			f->refs++;	/* held while it waits on the instance */
		cub_arch_irq_restore(irq);
		if (n != 0 || timeout == 0 || expired)
			return n;
		n = cubi_file_wait(f, seq, deadline, "epoll wait");
		cubi_file_put(f);
		if (n == -CUB_EINTR)
			return n;	/* never restarted, as on Linux */
		expired = n == -CUB_ETIMEDOUT;
	}
}

CUBI_SYS(epoll_wait)
{
	return wait_events(A0(r), A1(r), (int)A2(r), (int)A3(r));
}

/* The signal mask is checked and ignored (signal.c delivers when the
 * call returns; a signal with a handler ends the wait with EINTR). */
CUBI_SYS(epoll_pwait)
{
	if (A4(r) && A5(r) != 8)
		return -CUB_EINVAL;
	return wait_events(A0(r), A1(r), (int)A2(r), (int)A3(r));
}
