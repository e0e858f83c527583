/*
 * timerfd.c - timerfd_create, timerfd_settime, timerfd_gettime: a timer
 * behind a descriptor, which event loops (libuv, libevent, ...) wait for
 * with epoll.
 *
 * Linux semantics: settime arms the timer for a first expiry (relative,
 * or absolute with TFD_TIMER_ABSTIME on the timer's clock) and an
 * optional interval; a zero first expiry disarms it. A read of at least
 * 8 bytes returns the number of expirations since the last read or
 * settime and zeroes it, waiting while it is 0 (-EAGAIN with
 * TFD_NONBLOCK); shorter buffers: -EINVAL. Readable while that number is
 * above 0; never writable. gettime reports the time left to the next
 * expiry and the interval. Clocks: REALTIME, MONOTONIC, BOOTTIME and the
 * two _ALARM ones (no suspend here, so they are REALTIME and BOOTTIME).
 * When the wall clock is set (clock_settime, settimeofday: time.c), a
 * timer armed with TFD_TIMER_ABSTIME on a REALTIME clock moves its
 * expiry by the step, as on Linux, and one also armed with
 * TFD_TIMER_CANCEL_ON_SET is cancelled: its next read fails with
 * -ECANCELED (it is readable until then) and it stays armed.
 *
 * Like Linux, the timer fires once and is moved on by the read that
 * collects it: an expired periodic timer nobody reads costs nothing, and
 * the read counts the periods that went by meanwhile (overruns).
 *
 * Invariants: next is the monotonic time of the pending or last expiry,
 * 0 when disarmed; ticks > 0 only after the timer fired (then the timer
 * is idle until a read moves a periodic one on); a timerfd is on
 * wall_timers exactly while it is armed with an absolute REALTIME
 * expiry (wall). Locking: the fd layer's critical section (interrupts
 * disabled) around the ops; the syscalls, the wall steps and the expiry
 * (irq context) disable interrupts themselves; wall_timers is changed
 * and walked with interrupts off.
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "shim_impl.h"

#define TFD_TIMER_ABSTIME 1u
#define TFD_TIMER_CANCEL_ON_SET 2u
#define CLOCK_REALTIME_ALARM 8
#define CLOCK_BOOTTIME_ALARM 9

struct timerfd {
	struct cubi_file file;
	struct cub_timer timer;
	bool realtime;		/* an absolute expiry is wall-clock time */
	uint64_t next;		/* monotonic ns; 0: disarmed */
	uint64_t interval;	/* ns; 0: one-shot */
	uint64_t ticks;		/* expirations not yet read */
	struct cub_list wall_link;	/* on wall_timers while wall */
	bool wall;		/* armed for an absolute wall time */
	bool cancel_on_set;	/* ... with TFD_TIMER_CANCEL_ON_SET */
	bool canceled;		/* the clock was set: the next read fails */
};

static struct cub_list wall_timers = CUB_LIST_INIT(wall_timers);

static struct timerfd *of_file(struct cubi_file *f)
{
	return cub_container_of(f, struct timerfd, file);
}

/* The expiry, in irq context: one more tick, and readers woken. */
static void expired(struct cub_timer *t, void *arg)
{
	struct timerfd *tf = arg;

	(void)t;
	tf->ticks++;
	cubi_file_changed(&tf->file);
	cubi_io_changed();
}

/* A fired periodic timer moved past now: the periods that ended since
 * `next` count as ticks, and the timer is armed for the one after. */
static void move_on(struct timerfd *tf, uint64_t now)
{
	uint64_t over;

	if (!tf->interval) {
		tf->next = 0;
		return;
	}
	over = now > tf->next ? (now - tf->next) / tf->interval : 0;
	tf->ticks += over;
	tf->next += (over + 1) * tf->interval;
	cub_timer_start(&tf->timer, tf->next);
}

static long tfd_read(struct cubi_file *f, void *buf, size_t n)
{
	struct timerfd *tf = of_file(f);
	uint64_t ticks;

	if (n < 8)
		return -CUB_EINVAL;
	if (tf->canceled) {
		tf->canceled = false;
		cubi_file_changed(f);
		return -CUB_ECANCELED;
	}
	if (!tf->ticks)
		return -CUB_EAGAIN;
	move_on(tf, cub_time_now());
	ticks = tf->ticks;
	tf->ticks = 0;
	cub_memcpy(buf, &ticks, 8);
	cubi_file_changed(f);
	return 8;
}

static uint32_t tfd_poll(struct cubi_file *f)
{
	return of_file(f)->ticks || of_file(f)->canceled ? CUBI_EPOLLIN | CUBI_EPOLLRDNORM : 0;
}

static void *tfd_release(struct cubi_file *f)
{
	unsigned long irq = cub_arch_irq_save();

	cub_timer_stop(&of_file(f)->timer);
	if (of_file(f)->wall)
		cub_list_del(&of_file(f)->wall_link);
	cub_arch_irq_restore(irq);
	return of_file(f);
}

static const struct cubi_file_ops tfd_ops = {
	.read = tfd_read, .poll = tfd_poll, .release = tfd_release,
	.mode = 0600,		/* Linux: an anonymous inode */
	.name = "anon_inode:[timerfd]",
	.file_wakes = true,
};

CUBI_SYS(timerfd_create)
{
	uint64_t clk = A0(r), flags = A1(r);
	struct timerfd *tf;
	unsigned long irq;
	long fd;

	if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC && clk != CLOCK_BOOTTIME &&
	    clk != CLOCK_REALTIME_ALARM && clk != CLOCK_BOOTTIME_ALARM)
		return -CUB_EINVAL;
	if (flags & ~(uint64_t)(CUBI_O_NONBLOCK | CUBI_O_CLOEXEC))
		return -CUB_EINVAL;
	if (!(tf = cub_malloc(sizeof(*tf))))
		return -CUB_ENOMEM;
	*tf = (struct timerfd){
		.file = { .ops = &tfd_ops,
			  .flags = CUBI_O_RDWR | ((unsigned)flags & CUBI_O_NONBLOCK) },
		.realtime = clk == CLOCK_REALTIME || clk == CLOCK_REALTIME_ALARM,
	};
	cub_timer_init(&tf->timer, expired, tf);
	irq = cub_arch_irq_save();
	fd = cubi_fd_install(&tf->file, flags & CUBI_O_CLOEXEC);
	cub_arch_irq_restore(irq);
	if (fd < 0)
		cub_free(tf);
	return fd;
}

/* The timerfd at fd, held (cubi_file_put when done), or NULL with *err:
 * -EBADF, or -EINVAL for another kind of file. */
static struct timerfd *get(uint64_t fd, long *err)
{
	struct cubi_file *f = cubi_fd_get(fd);

	*err = f ? -CUB_EINVAL : -CUB_EBADF;
	if (f && f->ops != &tfd_ops) {
		cubi_file_put(f);
		return NULL;
	}
	return f ? of_file(f) : NULL;
}

/* The current setting (irq off): interval, and time left to the next
 * expiry (0 when disarmed or when a one-shot expiry has passed). */
static void current(struct timerfd *tf, uint64_t its[2])
{
	uint64_t now = cub_time_now(), next = tf->next;

	if (next && tf->ticks && tf->interval && now >= next)
		next += ((now - next) / tf->interval + 1) * tf->interval;
	its[0] = tf->interval;
	its[1] = next > now ? next - now : 0;
}

/* Puts tf on wall_timers or takes it off (irq off). */
static void set_wall(struct timerfd *tf, bool wall, bool cancel_on_set)
{
	if (tf->wall && !wall)
		cub_list_del(&tf->wall_link);
	else if (!tf->wall && wall)
		cub_list_push_back(&wall_timers, &tf->wall_link);
	tf->wall = wall;
	tf->cancel_on_set = wall && cancel_on_set;
}

void cubi_timerfd_wall_step(int64_t step)
{
	unsigned long irq = cub_arch_irq_save();
	struct cub_list *pos;

	cub_list_for_each(pos, &wall_timers) {
		struct timerfd *tf = cub_container_of(pos, struct timerfd, wall_link);
		bool pending = cub_timer_stop(&tf->timer);

		if (pending || tf->interval)	/* not a one-shot that fired */
			tf->next = cubi_timer_wall_step(tf->next, step);
		if (pending)
			cub_timer_start(&tf->timer, tf->next);
		if (tf->cancel_on_set) {
			tf->canceled = true;
			cubi_file_changed(&tf->file);
		}
	}
	/* Inside the critical section, as fd.h asks: outside it, a timeout
	 * interrupt could ready a poll waiter that this wake-up's walk then
	 * readies again (fuzz_syscalls: "coroutine ... is ready, not parked
	 * (its wait: poll)" from settimeofday, three seeds in two sessions). */
	cubi_io_changed();
	cub_arch_irq_restore(irq);
}

CUBI_SYS(timerfd_settime)
{
	uint64_t flags = A1(r), its[2], old[2];
	unsigned long irq;
	struct timerfd *tf;
	long rc;

	if (flags & ~(uint64_t)(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET))
		return -CUB_EINVAL;
	if ((rc = cubi_itimerspec_get(A2(r), its)) != 0)
		return rc;
	if (A3(r) && !cubi_user_writable(A3(r), 32))
		return -CUB_EFAULT;
	if (!(tf = get(A0(r), &rc)))
		return rc;
	irq = cub_arch_irq_save();
	current(tf, old);
	cub_timer_stop(&tf->timer);
	tf->ticks = 0;
	tf->canceled = false;
	tf->interval = its[1] ? its[0] : 0;
	tf->next = its[1] ? cubi_timer_deadline(its[1], flags & TFD_TIMER_ABSTIME,
						tf->realtime) : 0;
	set_wall(tf, tf->next && tf->realtime && (flags & TFD_TIMER_ABSTIME),
		 flags & TFD_TIMER_CANCEL_ON_SET);
	if (tf->next)
		cub_timer_start(&tf->timer, tf->next);
	cubi_file_changed(&tf->file);
	cub_arch_irq_restore(irq);
	cubi_file_put(&tf->file);
	return A3(r) ? cubi_itimerspec_put(A3(r), old) : 0;
}

CUBI_SYS(timerfd_gettime)
{
	uint64_t its[2];
	unsigned long irq;
	struct timerfd *tf;
	long rc;

	if (!(tf = get(A0(r), &rc)))
		return rc;
	irq = cub_arch_irq_save();
	current(tf, its);
	cub_arch_irq_restore(irq);
	cubi_file_put(&tf->file);
	return cubi_itimerspec_put(A1(r), its);
}
