/*
 * fd.h - the shim's fd layer as the rest of the shim sees it: struct
 * cubi_file and its ops (what each kind of file does, and the rules for
 * them), the open flags and epoll bits it uses, the descriptor table
 * (fd.c), reads, writes and blocking on files or on any I/O change
 * (fd_rw.c), the console's file (io.c), ioctl (ioctl.c), and the hooks a file's last
 * reference runs (epoll.c, flock.c).
 *
 * Locking: the fd layer's critical section (interrupts disabled with
 * cub_arch_irq_save, fd.c) protects the descriptor table, every file's
 * refs, gen, sleepers, watchers and held, and every file kind's own
 * state; functions marked "irq off" expect it held, the others take it
 * themselves (contexts: task). The ops read, peek, write, poll, release
 * and changed run inside it and must neither block nor allocate; io,
 * seek, stat, free and closed run with interrupts enabled (see
 * struct cubi_file_ops). A blocked call samples its wait word inside
 * the section that found it must wait, and sleeps outside it.
 */
#ifndef CUBRT_SHIM_FD_H
#define CUBRT_SHIM_FD_H

#include <cubrt/base.h>

#include "ramfs.h"

/* Linux open flags and epoll event bits the fd layer uses. */
#define CUBI_O_ACCMODE 3u
#define CUBI_O_WRONLY 1u
#define CUBI_O_RDWR 2u
#define CUBI_O_NONBLOCK 04000u
#define CUBI_O_CLOEXEC 02000000u
#define CUBI_O_PATH 010000000u	/* a file that only names its object:
				 * reads and writes -EBADF (fd.c) */
#define CUBI_EPOLLIN 0x001u
#define CUBI_EPOLLOUT 0x004u
#define CUBI_EPOLLERR 0x008u
#define CUBI_EPOLLHUP 0x010u
#define CUBI_EPOLLRDNORM 0x040u
#define CUBI_EPOLLWRNORM 0x100u
#define CUBI_EPOLLRDHUP 0x2000u

/* Descriptors 3 .. CUBI_FD_MAX - 1 (0-2 are the console, io.c): Linux's
 * default hard RLIMIT_NOFILE, which Go raises its soft limit to (Go's own
 * os tests open 1200 files; a server holds a descriptor per client). */
#define CUBI_FD_MAX 4096

struct cubi_file;

/*
 * What a kind of file does. read, write, poll and release run inside the
 * fd layer's critical section (interrupts disabled), so they must not
 * block or allocate: read and write return -CUB_EAGAIN when the call
 * would have to wait, and the fd layer (fd_rw.c) then waits for the file to
 * change (file_wakes) or for any cubi_io_changed(), or with O_NONBLOCK
 * returns -EAGAIN. Buffers are
 * already checked with the uaccess helpers. release runs when the last
 * reference goes and returns memory to free once the critical section is
 * over (or NULL): with `free`, or with cub_free when that is NULL.
 *
 * A file with an `io` op (the console, regular files, directories) does
 * its reads and writes itself instead, with interrupts enabled and a
 * reference held, and may lock or wait on its own: off >= 0 is the
 * offset (pread/pwrite), off < 0 means at the file position. seek (NULL:
 * -ESPIPE; not NULL also means "a regular file": reads never wait),
 * stat (NULL: from mode) and free run the same way.
 *
 * peek (pipes' read ends and stream sockets; NULL: the file cannot hold
 * bytes back) is read without taking: it copies up to n of the bytes
 * read would return now and leaves them in the file, with read's other
 * results (0 at end of file, -EAGAIN while read would wait, errors). It
 * runs in the critical section like read. Invariant: a read of k bytes
 * (k at most what peek returned) in the same critical section, or by the
 * caller that set `held` right after the peek and kept it since, takes
 * exactly the bytes peek copied, since no other read took any meanwhile
 * and writers only append behind them. sendfile (fs_xfer.c) moves bytes
 * so: peek, write out, read what the destination took; the rest stay.
 */
struct cubi_file_ops {
	long (*read)(struct cubi_file *f, void *buf, size_t n);
	long (*peek)(struct cubi_file *f, void *buf, size_t n);
	/* f's object changed in a way its own ops did not announce (a
	 * sendfile let go of it): wakes the waiters of every file that
	 * shares the object (a pipe's ends); NULL: cubi_file_changed(f).
	 * Irq off. */
	void (*changed)(struct cubi_file *f);
	long (*write)(struct cubi_file *f, const void *buf, size_t n);
	long (*io)(struct cubi_file *f, void *buf, size_t n, int64_t off, bool out);
	long (*seek)(struct cubi_file *f, int64_t off, int whence);
	int (*stat)(struct cubi_file *f, struct cubi_rstat *st);
	uint32_t (*poll)(struct cubi_file *f);	/* CUBI_EPOLL* bits true now */
	/* FIONREAD (ioctl.c): the bytes a read would find now, as Linux's
	 * kind reports them (>= 0), or -errno; NULL: -ENOTTY unless a
	 * regular file (size - position). Irq off, like poll. */
	long (*inq)(struct cubi_file *f);
	void *(*release)(struct cubi_file *f);
	void (*free)(void *mem);
	void (*closed)(void);	/* after a descriptor of such a file was
				 * closed (interrupts enabled, no lock held;
				 * sockets collect SCM_RIGHTS cycles) */
	uint32_t mode;				/* fstat's st_mode */
	const char *name;	/* what /proc/self/fd shows for it when it has
				 * no path (e.g. "anon_inode:[eventfd]");
				 * NULL: from mode (procfs_fd.c) */
	/* How long a blocked read (out false) or write may wait, in ns:
	 * a socket's SO_RCVTIMEO / SO_SNDTIMEO (it then fails with
	 * -EAGAIN, or returns what it moved); 0 or NULL: no limit. Irq off. */
	uint64_t (*timeo)(const struct cubi_file *f, bool out);
	bool one_write;		/* a write call is one write op (eventfd),
				 * not a loop until all bytes are in */
	bool datagram;		/* one read or write is one message (UDP):
				 * readv/writev gather and scatter it */
	bool file_wakes;	/* every readiness change goes through
				 * cubi_file_changed, so a blocked read or
				 * write sleeps on this file alone */
};

/* An open file (Linux's open file description): shared by the
 * descriptors dup made of it. */
struct cubi_file {
	const struct cubi_file_ops *ops;
	unsigned flags;		/* access mode | CUBI_O_NONBLOCK | O_APPEND
				 * (F_GETFL) */
	uint64_t gen;		/* bumped whenever its readiness may change;
				 * its low 32 bits are the futex word that
				 * read and write wait on (file_wakes) */
	unsigned refs;		/* descriptors + calls in progress (irq off) */
	unsigned sleepers;	/* reads and writes blocked on gen (irq off):
				 * with none, a change wakes nobody */
	void *watchers;		/* the epoll entries watching it (epoll.c;
				 * irq off), NULL: none */
	bool held;		/* a sendfile peeked at it and writes those
				 * bytes out with interrupts enabled (irq
				 * off): until it clears this and reads what
				 * went out, read and peek return -EAGAIN
				 * (blocked readers wait, as for a sendfile
				 * that took the bytes) and poll reports it
				 * not readable; it then wakes them with the
				 * changed op (or cubi_file_changed). Files
				 * with a peek op honour it, for every file
				 * of their object (any held end of a pipe
				 * holds the pipe); the others never have it
				 * set */
};

/* io.c: the serial console, fds 0-2 at boot. */
extern struct cubi_file cubi_console_file;

/* fd.c: the descriptor table; fd_rw.c: reads, writes and blocking.
 * Contexts: task. */
long cubi_fd_install(struct cubi_file *f, bool cloexec);	/* irq off */
void cubi_fd_uninstall(long fd);	/* irq off; no release */
struct cubi_file *cubi_fd_file(uint64_t fd);			/* irq off */
bool cubi_fd_valid(uint64_t fd);		/* open now (a snapshot) */
/* The file at fd with a reference for the caller, or NULL. */
struct cubi_file *cubi_fd_get(uint64_t fd);
/* Drops a reference taken with cubi_fd_get (interrupts enabled). */
void cubi_file_put(struct cubi_file *f);
/* The same inside the caller's critical section (irq off): the last
 * reference releases f and returns the memory to give, once interrupts
 * are enabled again, to cubi_file_free with f's ops; else NULL. */
void *cubi_file_put_locked(struct cubi_file *f);
void cubi_file_free(const struct cubi_file_ops *ops, void *mem);
/* Something's readiness changed: wakes poll, select, epoll_wait and the
 * calls that wait on io_seq (irq off). */
void cubi_io_changed(void);
/* f's readiness changed: bumps f->gen and wakes the reads and writes
 * blocked on f alone (irq off). A file whose ops set file_wakes calls
 * this, then cubi_io_changed, for every change. Inline: a change of a
 * file nobody waits for or watches (a pipe's other end, mostly) is an
 * increment; cubi_file_wake does the rest. */
void cubi_file_wake(struct cubi_file *f);
static inline void cubi_file_changed(struct cubi_file *f)
{
	f->gen++;
	if (f->sleepers || f->watchers)
		cubi_file_wake(f);
}
/* Blocking on one file the caller holds a reference to: sample
 * cubi_file_seq(f) in the critical section that found the call must wait
 * (irq off), then cubi_file_wait sleeps until f changed after it (or any
 * cubi_io_changed, for a file without file_wakes), until deadline (0 =
 * none) or a signal: 0, -CUB_ETIMEDOUT or -CUB_EINTR. */
uint32_t cubi_file_seq(struct cubi_file *f);
int cubi_file_wait(struct cubi_file *f, uint32_t seq, uint64_t deadline,
		   const char *what);
/* The same for a caller that found f by its descriptor and holds no
 * reference: it takes one (f->refs++) in that critical section, and
 * this drops it after the wait (so f's word outlives the wait). */
int cubi_file_wait_put(struct cubi_file *f, uint32_t seq, const char *what);
/* Waits until cubi_io_changed() after the critical section that read
 * *seq began (seq sampled inside it), until deadline (0 = none) or a
 * signal: 0, -CUB_ETIMEDOUT or -CUB_EINTR. */
int cubi_io_wait(uint32_t seq, uint64_t deadline, const char *what);
uint32_t cubi_io_seq(void);					/* irq off */
long cubi_fd_read(uint64_t fd, uintptr_t buf, size_t n);
long cubi_fd_write(uint64_t fd, uintptr_t buf, size_t n);
long cubi_fd_pio(uint64_t fd, uintptr_t buf, size_t n, int64_t off, bool out);
long cubi_fd_close(uint64_t fd);
long cubi_fd_fcntl(uint64_t fd, unsigned cmd, uint64_t arg);
int cubi_fd_stat(uint64_t fd, struct cubi_rstat *st);
/* fstat of a file the caller holds a reference to (the stat op of a file
 * outside the tree takes no lock: callable under the fs lock for those). */
int cubi_file_stat(struct cubi_file *f, struct cubi_rstat *st);
long cubi_fd_seek(uint64_t fd, int64_t off, int whence);
bool cubi_fd_seekable(uint64_t fd);
bool cubi_fd_datagram(uint64_t fd);	/* its ops' datagram (a snapshot) */
/* ioctl.c: ioctl(fd, cmd, arg) (its header comment lists the requests);
 * cubi_ioctl_int_out stores an int result: 0 or -CUB_EFAULT. */
long cubi_fd_ioctl(uint64_t fd, unsigned cmd, uintptr_t arg);
long cubi_ioctl_int_out(uintptr_t arg, int v);
/* epoll.c: drops all of f's entries, whatever their descriptor numbers,
 * from every epoll instance (f is closing: its last reference went). */
void cubi_epoll_forget(struct cubi_file *f);			/* irq off */
/* f's readiness changed: wakes the epoll instances watching it (irq off;
 * cubi_file_changed calls it). */
void cubi_epoll_notify(struct cubi_file *f);
/* flock.c: f's flock lock goes with its last reference (irq off). */
void cubi_flock_forget(struct cubi_file *f);

#endif
