/*
 * ioctl.c - the ioctl call: the generic requests Linux answers for any
 * file (do_vfs_ioctl), and the hand-off of the rest to the file's kind.
 *
 * What it answers (Linux's numbers and semantics):
 *  - FIONBIO (0x5421, int *): nonzero sets O_NONBLOCK on the open file,
 *    0 clears it (as fcntl F_SETFL; waiters look again). Any file.
 *  - FIOCLEX (0x5451) / FIONCLEX (0x5450): set / clear the descriptor's
 *    close-on-exec flag (as fcntl F_SETFD). Any file; no argument.
 *  - FIOASYNC (0x5452, int *): 0 is accepted (O_ASYNC is never set);
 *    nonzero fails -EINVAL for every file: cubrt delivers no SIGIO, so
 *    it refuses rather than record a mode it would not honour.
 *  - FIONREAD = TIOCINQ = SIOCINQ (0x541B, int *): the file kind's inq op
 *    (pipes: bytes a read would get now; stream sockets: bytes queued;
 *    message sockets: the next message's payload; socket.h); regular
 *    files: size - position as an int (Linux's file_ioctl, negative past
 *    the end); anything else -ENOTTY (the console is no terminal,
 *    eventfd, timerfd, epoll, signalfd, directories, devices, netlink:
 *    as on Linux, which has no FIONREAD for them).
 *  - On block devices (/dev/vda): BLKGETSIZE64, BLKSSZGET and friends
 *    (blkdev.c, cubi_blkdev_ioctl).
 *  - On sockets: SIOCOUTQ and the interface requests (SIOCGIF* and
 *    SIOCSIF*)
 *    (socket_ioctl.c, cubi_sock_ioctl).
 *  - Everything else -ENOTTY, the terminal requests (TCGETS, TIOCGWINSZ)
 *    included: the console is not a tty (so libc buffers stdout).
 * A descriptor that is not open, or an O_PATH one, is -EBADF first; a
 * bad argument pointer -EFAULT (FIONREAD's after its count is known).
 *
 * Locking: the call holds a reference to the file (cubi_fd_get); the
 * flags and the inq op are used inside the fd layer's critical section
 * (interrupts disabled, fd.c); stat and seek of regular files run with
 * interrupts enabled, as their ops require (fd.h). Contexts: task.
 */
#include <cubrt/arch.h>

#include "blkdev.h"
#include "shim_impl.h"
#include "socket.h"

#define SEEK_CUR 1
#define F_SETFD 2
#define FIONREAD 0x541bu
#define FIONBIO 0x5421u
#define FIONCLEX 0x5450u
#define FIOCLEX 0x5451u
#define FIOASYNC 0x5452u

static long int_in(uintptr_t arg, int *v)
{
	return cubi_copy_in(v, arg, sizeof(*v));
}

long cubi_ioctl_int_out(uintptr_t arg, int v)
{
	return cubi_copy_out(arg, &v, sizeof(v));
}

static long fionbio(struct cubi_file *f, uintptr_t arg)
{
	unsigned long irq;
	int on;

	if (int_in(arg, &on))
		return -CUB_EFAULT;
	irq = cub_arch_irq_save();
	if (on)
		f->flags |= CUBI_O_NONBLOCK;
	else
		f->flags &= ~CUBI_O_NONBLOCK;
	cubi_file_changed(f);	/* a waiter may now have to return */
	cubi_io_changed();
	cub_arch_irq_restore(irq);
	return 0;
}

static long fioasync(uintptr_t arg)
{
	int on;

	if (int_in(arg, &on))
		return -CUB_EFAULT;
	return on ? -CUB_EINVAL : 0;
}

/* A regular file's FIONREAD: size - position (interrupts enabled). */
static long reg_inq(struct cubi_file *f, uintptr_t arg)
{
	struct cubi_rstat st;
	long pos;
	int r;

	if (!f->ops->seek)
		return -CUB_ENOTTY;
	r = cubi_file_stat(f, &st);
	if (r < 0)
		return r;
	if ((st.mode & CUBI_S_IFMT) != CUBI_S_IFREG)
		return -CUB_ENOTTY;
	pos = f->ops->seek(f, 0, SEEK_CUR);
	if (pos < 0)
		return pos;
	return cubi_ioctl_int_out(arg, (int)(st.size - (uint64_t)pos));
}

static long fionread(struct cubi_file *f, uintptr_t arg)
{
	unsigned long irq;
	long n;

	if (!f->ops->inq)
		return reg_inq(f, arg);
	irq = cub_arch_irq_save();
	n = f->ops->inq(f);
	cub_arch_irq_restore(irq);
	if (n < 0)
		return n;
	return cubi_ioctl_int_out(arg, (int)n);
}

static long dispatch(struct cubi_file *f, uint64_t fd, unsigned cmd, uintptr_t arg)
{
	switch (cmd) {
	case FIONBIO:
		return fionbio(f, arg);
	case FIOCLEX:
	case FIONCLEX:
		return cubi_fd_fcntl(fd, F_SETFD, cmd == FIOCLEX);
	case FIOASYNC:
		return fioasync(arg);
	case FIONREAD:
		return fionread(f, arg);
	}
	if ((f->ops->mode & CUBI_S_IFMT) == CUBI_S_IFSOCK)
		return cubi_sock_ioctl(f, cmd, arg);
	if ((f->ops->mode & CUBI_S_IFMT) == CUBI_S_IFBLK)
		return cubi_blkdev_ioctl(f, cmd, arg);	/* BLKGETSIZE64 ... */
	return -CUB_ENOTTY;
}

long cubi_fd_ioctl(uint64_t fd, unsigned cmd, uintptr_t arg)
{
	struct cubi_file *f = cubi_fd_get(fd);
	long r;

	if (!f)
		return -CUB_EBADF;
	r = f->flags & CUBI_O_PATH ? -CUB_EBADF : dispatch(f, fd, cmd, arg);
	cubi_file_put(f);
	return r;
}

CUBI_SYS(ioctl)
{
	return cubi_fd_ioctl(A0(r), (unsigned)A1(r), (uintptr_t)A2(r));
}
