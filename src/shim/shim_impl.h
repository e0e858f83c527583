/*
 * shim_impl.h - private interface of the syscall shim (src/shim).
 *
 * Every handler takes the caller's saved registers and returns the value
 * for rax (>= 0 or -errno). Handlers validate every pointer with the
 * uaccess helpers before touching it.
 */
#ifndef CUBRT_SHIM_IMPL_H
#define CUBRT_SHIM_IMPL_H

#include <cubrt/base.h>
#include <cubrt/list.h>
#include <cubrt/shim.h>

#include "ramfs.h"

typedef long (*cubi_sys_fn)(struct cub_shim_regs *r);

#define A0(r) ((r)->rdi)
#define A1(r) ((r)->rsi)
#define A2(r) ((r)->rdx)
#define A3(r) ((r)->r10)
#define A4(r) ((r)->r8)
#define A5(r) ((r)->r9)

/* Linux errno values cubrt's base.h lacks. */
#define CUB_ESPIPE 29
#define CUB_ENOEXEC 8
#define CUB_ECHILD 10
#define CUB_EOPNOTSUPP 95
#define CUB_EMFILE 24
#define CUB_ENOTSOCK 88
#define CUB_EDESTADDRREQ 89
#define CUB_EMSGSIZE 90
#define CUB_ENOPROTOOPT 92
#define CUB_EPROTONOSUPPORT 93
#define CUB_ESOCKTNOSUPPORT 94
#define CUB_EAFNOSUPPORT 97
#define CUB_EADDRINUSE 98
#define CUB_EADDRNOTAVAIL 99
#define CUB_ENETUNREACH 101
#define CUB_ECONNRESET 104
#define CUB_EISCONN 106
#define CUB_ENOTCONN 107
#define CUB_ECONNREFUSED 111

/* Highest syscall number the dispatcher knows (clone3 is 435). */
#define CUBI_SYS_MAX 452

/* ------------------------------------------------------------ uaccess */

/* True when [p, p+len) is mapped readable (writable) by the program. */
bool cubi_user_readable(uintptr_t p, size_t len);
bool cubi_user_writable(uintptr_t p, size_t len);
/* Copy with checks: 0 or -CUB_EFAULT. len 0 always succeeds. */
int cubi_copy_in(void *dst, uintptr_t src, size_t len);
int cubi_copy_out(uintptr_t dst, const void *src, size_t len);
/* Copies a NUL-terminated string of at most max bytes (incl. NUL). */
int cubi_copy_str_in(char *dst, uintptr_t src, size_t max);

/* ------------------------------------------------------------ handlers */

#define CUBI_SYS(name) long cubi_sys_##name(struct cub_shim_regs *r)

/* io.c */
CUBI_SYS(read); CUBI_SYS(write); CUBI_SYS(readv); CUBI_SYS(writev);
CUBI_SYS(ioctl); CUBI_SYS(close); CUBI_SYS(fcntl); CUBI_SYS(openat);
CUBI_SYS(open); CUBI_SYS(lseek); CUBI_SYS(fstat);
/* time.c */
CUBI_SYS(clock_gettime); CUBI_SYS(clock_getres); CUBI_SYS(gettimeofday);
CUBI_SYS(nanosleep); CUBI_SYS(clock_nanosleep); CUBI_SYS(time);
/* Linux clock ids (clock_gettime, timers). */
#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID 3
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7
#define CLOCK_TAI 11
/* An itimerspec {interval, value} <-> its[0], its[1] in ns: 0, -EFAULT,
 * or (get) -EINVAL for a negative or unnormalized timespec. */
int cubi_itimerspec_get(uintptr_t src, uint64_t its[2]);
int cubi_itimerspec_put(uintptr_t dst, const uint64_t its[2]);
/* A timer's expiry as a monotonic deadline, never 0: value ns from now,
 * or with abs at value on the monotonic or (realtime) the wall clock. */
uint64_t cubi_timer_deadline(uint64_t value, bool abs, bool realtime);
/* One timespec <-> ns, the same way. */
int cubi_timespec_get(uintptr_t src, uint64_t *ns);
int cubi_timespec_put(uintptr_t dst, uint64_t ns);
/* timerfd.c */
CUBI_SYS(timerfd_create); CUBI_SYS(timerfd_settime); CUBI_SYS(timerfd_gettime);
/* misc.c */
CUBI_SYS(uname); CUBI_SYS(sethostname); CUBI_SYS(setdomainname); CUBI_SYS(getrandom); CUBI_SYS(getpid);
CUBI_SYS(getppid); CUBI_SYS(getuid); CUBI_SYS(sched_getaffinity);
CUBI_SYS(sched_yield); CUBI_SYS(prlimit64); CUBI_SYS(madvise);
/* signal.c */
CUBI_SYS(rt_sigaction); CUBI_SYS(rt_sigprocmask); CUBI_SYS(sigaltstack);
CUBI_SYS(kill); CUBI_SYS(tgkill); CUBI_SYS(tkill);
CUBI_SYS(rt_sigqueueinfo); CUBI_SYS(rt_tgsigqueueinfo);
/* signalfd.c */
CUBI_SYS(signalfd); CUBI_SYS(signalfd4);
/* signal_wait.c */
CUBI_SYS(pause); CUBI_SYS(rt_sigsuspend); CUBI_SYS(rt_sigpending);
CUBI_SYS(rt_sigtimedwait);
/* itimer.c, ptimer.c */
CUBI_SYS(getitimer); CUBI_SYS(setitimer); CUBI_SYS(alarm);
CUBI_SYS(timer_create); CUBI_SYS(timer_settime); CUBI_SYS(timer_gettime);
CUBI_SYS(timer_getoverrun); CUBI_SYS(timer_delete);
/* mm.c */
CUBI_SYS(mmap); CUBI_SYS(munmap); CUBI_SYS(mprotect); CUBI_SYS(brk);
/* thread.c */
CUBI_SYS(clone); CUBI_SYS(exit); CUBI_SYS(exit_group);
CUBI_SYS(set_tid_address); CUBI_SYS(gettid); CUBI_SYS(arch_prctl);
CUBI_SYS(set_robust_list);
/* futex.c */
CUBI_SYS(futex);
/* fd.c */
CUBI_SYS(dup); CUBI_SYS(dup2); CUBI_SYS(dup3);
/* fs.c */
CUBI_SYS(stat); CUBI_SYS(lstat); CUBI_SYS(newfstatat); CUBI_SYS(access);
CUBI_SYS(faccessat); CUBI_SYS(faccessat2); CUBI_SYS(pread64);
CUBI_SYS(pwrite64); CUBI_SYS(getdents64); CUBI_SYS(mkdir);
CUBI_SYS(mkdirat); CUBI_SYS(rmdir); CUBI_SYS(unlink); CUBI_SYS(unlinkat);
CUBI_SYS(rename); CUBI_SYS(renameat); CUBI_SYS(renameat2);
CUBI_SYS(truncate); CUBI_SYS(ftruncate); CUBI_SYS(fsync);
CUBI_SYS(getcwd); CUBI_SYS(chdir); CUBI_SYS(fchdir); CUBI_SYS(readlink);
CUBI_SYS(readlinkat); CUBI_SYS(umask); CUBI_SYS(chmod); CUBI_SYS(fchmod);
CUBI_SYS(fchmodat); CUBI_SYS(utimensat); CUBI_SYS(creat);
CUBI_SYS(fchmodat2); CUBI_SYS(link); CUBI_SYS(linkat); CUBI_SYS(symlink);
CUBI_SYS(symlinkat);
/* poll.c */
CUBI_SYS(poll); CUBI_SYS(ppoll); CUBI_SYS(select); CUBI_SYS(pselect6);
/* eventfd.c */
CUBI_SYS(eventfd); CUBI_SYS(eventfd2);
/* pipe.c, epoll.c */
CUBI_SYS(pipe); CUBI_SYS(pipe2); CUBI_SYS(epoll_create);
CUBI_SYS(epoll_create1); CUBI_SYS(epoll_ctl); CUBI_SYS(epoll_wait);
CUBI_SYS(epoll_pwait);
/* socket*.c */
CUBI_SYS(socket); CUBI_SYS(connect); CUBI_SYS(accept); CUBI_SYS(accept4);
CUBI_SYS(sendto); CUBI_SYS(recvfrom); CUBI_SYS(sendmsg); CUBI_SYS(recvmsg);
CUBI_SYS(shutdown); CUBI_SYS(bind); CUBI_SYS(listen);
CUBI_SYS(getsockname); CUBI_SYS(getpeername); CUBI_SYS(socketpair);
CUBI_SYS(setsockopt); CUBI_SYS(getsockopt);
/* misc.c (limits) */
CUBI_SYS(getrlimit); CUBI_SYS(setrlimit);
/* signal.c */
CUBI_SYS(rt_sigreturn);
/* ids.c: process identity, ids, priorities, scheduling, prctl */
CUBI_SYS(getpgrp); CUBI_SYS(getpgid); CUBI_SYS(setpgid); CUBI_SYS(getsid);
CUBI_SYS(setsid); CUBI_SYS(getgroups); CUBI_SYS(setgroups);
CUBI_SYS(getresuid); CUBI_SYS(setuid); CUBI_SYS(setreuid);
CUBI_SYS(setresuid); CUBI_SYS(setfsuid); CUBI_SYS(getpriority);
CUBI_SYS(setpriority); CUBI_SYS(getcpu); CUBI_SYS(personality);
/* ids.c: pid names this process (0, 1 or a live tid): 0, -CUB_EINVAL
 * (negative) or -CUB_ESRCH. */
int cubi_check_pid(int64_t pid);
/* policy.c: the sched_* calls, wait4, waitid, membarrier; prctl.c */
CUBI_SYS(sched_setaffinity); CUBI_SYS(sched_getparam);
CUBI_SYS(sched_setparam); CUBI_SYS(sched_getscheduler);
CUBI_SYS(sched_setscheduler); CUBI_SYS(sched_get_priority_max);
CUBI_SYS(sched_get_priority_min); CUBI_SYS(sched_rr_get_interval);
CUBI_SYS(wait4); CUBI_SYS(waitid); CUBI_SYS(membarrier); CUBI_SYS(prctl);
/* rusage.c */
CUBI_SYS(getrusage); CUBI_SYS(sysinfo); CUBI_SYS(times);
/* mm_remap.c, mm_extra.c */
CUBI_SYS(mremap); CUBI_SYS(msync); CUBI_SYS(mincore); CUBI_SYS(mlock);
CUBI_SYS(mlock2); CUBI_SYS(munlock); CUBI_SYS(mlockall); CUBI_SYS(munlockall);
/* fs_extra.c, fs_attr.c, fs_xfer.c, flock.c */
CUBI_SYS(statfs); CUBI_SYS(fstatfs); CUBI_SYS(statx); CUBI_SYS(sync);
CUBI_SYS(syncfs); CUBI_SYS(fadvise64); CUBI_SYS(fallocate);
CUBI_SYS(chown); CUBI_SYS(fchown); CUBI_SYS(lchown); CUBI_SYS(fchownat);
CUBI_SYS(utime); CUBI_SYS(utimes); CUBI_SYS(futimesat); CUBI_SYS(mknod);
CUBI_SYS(mknodat); CUBI_SYS(sendfile); CUBI_SYS(copy_file_range);
CUBI_SYS(flock);
struct cubi_file;
struct cubi_thread;
/* prctl.c: thread t's name (t NULL: the program's), NUL-terminated. */
void cubi_thread_name(const struct cubi_thread *t, char name[16]);
/* prctl.c: names thread tid (0: the first thread) with the first 15
 * bytes of name[0..len), as a write to its /proc comm does: 0, or
 * -CUB_ESRCH when it is gone. name is the shim's own memory. */
long cubi_thread_rename(int tid, const char *name, size_t len);
/* flock.c: f's flock lock goes with its last reference (irq off). */
void cubi_flock_forget(struct cubi_file *f);

/* -------------------------------------------------------------- files */

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

/* Descriptors 3 .. CUBI_FD_MAX - 1 (0-2 are the console, io.c). */
#define CUBI_FD_MAX 256

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
	void *(*release)(struct cubi_file *f);
	void (*free)(void *mem);
	void (*closed)(void);	/* after a descriptor of such a file was
				 * closed (interrupts enabled, no lock held;
				 * sockets collect SCM_RIGHTS cycles) */
	uint32_t mode;				/* fstat's st_mode */
	const char *name;	/* what /proc/self/fd shows for it when it has
				 * no path (e.g. "anon_inode:[eventfd]");
				 * NULL: from mode (procfs_fd.c) */
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
long cubi_fd_ioctl(uint64_t fd);
/* epoll.c: drops all of f's entries, whatever their descriptor numbers,
 * from every epoll instance (f is closing: its last reference went). */
void cubi_epoll_forget(struct cubi_file *f);			/* irq off */
/* f's readiness changed: wakes the epoll instances watching it (irq off;
 * cubi_file_changed calls it). */
void cubi_epoll_notify(struct cubi_file *f);

/* -------------------------------------------------------- file system */

/* fs.c: the file-system lock (a coroutine mutex) over ramfs, path walks,
 * open files' positions and the working directory. Order: take it before
 * disabling interrupts, never inside that. Contexts: task. */
void cubi_fs_lock(void);
void cubi_fs_unlock(void);
/* fs lock held: the file at fd with a reference that cubi_fs_unlock
 * drops after the mutex (a last put takes the lock: file.c), so it lives
 * as long as the hold. NULL and *err: -CUB_ENOENT (not open) or
 * -CUB_ELOOP (one hold took too many: a path of magic links). */
struct cubi_file *cubi_fs_fd_get(uint64_t fd, int *err);
/* cubi_fs_lock, telling whether it had to wait for another thread (which
 * may have changed what the caller checked before). */
bool cubi_fs_lock_waited(void);
/* fs.c: creates /tmp and unpacks every boot module that is a cpio
 * archive into the tree; logs what it did. Contexts: task, once. */
void cubi_fs_boot(void);

/* path.c: a path split into the directory that holds its last component
 * and that component. len 0: the path names dir itself ("/", or a last
 * component "." or ".." — then dot is true). slash: a trailing '/'.
 * name may point into a symbolic link's target (fs lock held: valid).
 *
 * A last component that was a magic link (a sealed link whose owner has
 * a follow op: /proc/self/fd/N, cwd, exe; ramfs.h) ends the walk on the
 * object it stands for instead: node (an object of the tree, whatever
 * its names now) or file (an open file outside the tree: a pipe, a
 * socket, the console, a device, an anon inode; its reference lives
 * until cubi_fs_unlock); dir, name and len are then the ones the object
 * was opened by (dir may be NULL, name need not name it any more), for
 * a new open file to show the same /proc/self/fd path. */
struct cubi_walk {
	struct cubi_rnode *dir;
	const char *name;
	size_t len;
	bool slash;
	bool dot;
	struct cubi_rnode *node;	/* a magic link's object in the tree */
	struct cubi_file *file;		/* a magic link's object outside it */
};
/* Symbolic links in the middle of a path are always followed; one that
 * is the last component: never (PARENT: calls that make or remove the
 * name: mkdir, unlink, rename, link, symlink, bind), only with a
 * trailing slash (NOFOLLOW: lstat, readlink, O_NOFOLLOW), or always
 * (FOLLOW; then the walk ends on a name that is absent or no link). */
enum cubi_walk_how { CUBI_WALK_PARENT, CUBI_WALK_NOFOLLOW, CUBI_WALK_FOLLOW };
#define CUBI_WALK_LINKS 40	/* links followed per walk (MAXSYMLINKS) */
/* Walks path from start (a relative path) or the root: 0, -CUB_ENOENT
 * (empty path, a missing directory, a dangling link in the middle),
 * -CUB_ENOTDIR, -CUB_ENAMETOOLONG, -CUB_ELOOP (more than
 * CUBI_WALK_LINKS links). cubi_path_walk: CUBI_WALK_PARENT. */
int cubi_path_walk_how(struct cubi_rnode *start, const char *path,
		       enum cubi_walk_how how, struct cubi_walk *w);
int cubi_path_walk(struct cubi_rnode *start, const char *path,
		   struct cubi_walk *w);
/* The node path names: a walk plus the lookup of the last component
 * (-CUB_ENOTDIR for a trailing slash on a non-directory); -CUB_ENXIO
 * when a magic link led to an object outside the tree (readlink, which
 * follows none but with a trailing slash, and then gets -CUB_ENOTDIR
 * first). */
int cubi_path_resolve_how(struct cubi_rnode *start, const char *path,
			  enum cubi_walk_how how, struct cubi_rnode **out);
/* The same for the callers that act on any object (open, stat, access,
 * chmod, truncate, chdir, ...): *file set (and *out NULL) when a magic
 * link led to an open file outside the tree (a pipe, socket, device,
 * anon inode), which the call then acts on as Linux does on its
 * inode. */
int cubi_path_resolve_obj(struct cubi_rnode *start, const char *path,
			  enum cubi_walk_how how, struct cubi_rnode **out,
			  struct cubi_file **file);

/* file.c: open files of ramfs nodes. cubi_file_open holds n and returns
 * a file with no reference yet (to install), or NULL (no memory); flags
 * are the open flags it keeps (access mode, O_NONBLOCK, O_APPEND). fs
 * lock held. cubi_file_node: the node of a ramfs file, else NULL. */
struct cubi_file *cubi_file_open(struct cubi_rnode *n, unsigned flags);
struct cubi_rnode *cubi_file_node(struct cubi_file *f);
/* getdents64 into the user buffer (checked): bytes, 0 at the end,
 * -CUB_ENOTDIR, -CUB_EINVAL (too small for the next entry). */
long cubi_file_getdents(struct cubi_file *f, uintptr_t buf, size_t n);
/* mmap of fd (not MAP_ANONYMOUS): a copy of the file's bytes from off in
 * fresh memory (len: whole pages), then prot. shared: MAP_SHARED, only
 * read-only (a snapshot). Returns the address or -errno (EBADF, EACCES,
 * ENODEV: not a regular file, or a writable shared mapping). */
long cubi_file_map(uint64_t fd, uintptr_t addr, size_t len, unsigned prot,
		   bool shared, uint64_t off, bool fixed, bool noreplace);

/* dev.c: /dev's device nodes (null, zero, full, random, urandom) made
 * under root; opening device rdev: a file with no reference yet, or NULL
 * and *err (-CUB_ENXIO: no such device, -CUB_ENOMEM). fs lock held. */
void cubi_dev_populate(struct cubi_rnode *root);
struct cubi_file *cubi_dev_open(uint32_t rdev, unsigned flags, long *err);
/* A new open of the device f is an open file of (the console: the
 * console's file again), for /proc/self/fd/N; NULL and *err: -CUB_ENXIO
 * when f is no device, -CUB_ENOMEM. fs lock held, f referenced. */
struct cubi_file *cubi_dev_reopen(struct cubi_file *f, unsigned flags, long *err);
/* The device f is an open file of (the console's included), for an
 * O_PATH file of it to open again; 0 for any other file. Only reads f. */
uint32_t cubi_dev_rdev(struct cubi_file *f);
/* opath.c: an O_PATH file of f, an open file outside the tree that a
 * magic link of /proc led to (a pipe: its path end, pipe.c; a device,
 * the console, a socket, an anon inode, or such an O_PATH file: a file
 * that keeps what it names: its stat and /proc/self/fd text as they
 * were, and a device's number to open it by). NULL and *err
 * (-CUB_ENOMEM). fs lock held, f referenced; no reference yet. */
struct cubi_file *cubi_opath_open(struct cubi_file *f, long *err);
/* A new open, with flags, of what opath.c's O_PATH file f names: a
 * device (or the console) opens as its node would; NULL and *err:
 * -CUB_ENXIO for any other file or object (sockets, anon inodes: as on
 * Linux), -CUB_ENOMEM. fs lock held, f referenced. */
struct cubi_file *cubi_opath_reopen(struct cubi_file *f, unsigned flags, long *err);
/* The /proc/self/fd text of opath.c's O_PATH file f into buf; false for
 * any other file. Only reads f (any context). */
bool cubi_opath_text(struct cubi_file *f, char *buf, size_t size);
/* pipe.c: a new open file description of the pipe f is a file of, with
 * flags' access mode (either end may be opened for reading, writing or
 * both, as Linux allows); the pipe counts it as a reader and/or writer
 * from now on. flags with CUBI_O_PATH: a path end instead, counted as
 * neither. NULL and *err: -CUB_ENXIO when f is no pipe's, -CUB_EINVAL
 * (access mode 3), -CUB_ENOMEM. f referenced; the new file has no
 * reference yet. */
struct cubi_file *cubi_pipe_reopen(struct cubi_file *f, unsigned flags, long *err);
/* misc.c: the host name (uname's nodename, as sethostname left it),
 * NUL-terminated. Any context. */
void cubi_hostname(char out[65]);
/* misc.c: len random bytes (getrandom's source). */
void cubi_random_fill(void *buf, size_t len);

/* ------------------------------------------------------------ threads */

/*
 * A Linux thread: a coroutine plus the per-thread state Linux keeps.
 * Lives in the thread's coroutine stack frame of thread_main (thread.c) or,
 * for the initial thread, in static storage.
 */
struct cubi_altstack {			/* Linux's stack_t */
	uint64_t sp;
	int32_t flags, pad;
	uint64_t size;
};

/* Pending signals: bit sig-1 each, and how each was sent (its siginfo
 * si_code: CUBI_SI_USER, _TKILL, _KERNEL or _TIMER). */
struct cubi_sigq;
struct cubi_sigpend {
	uint64_t bits;
	int16_t code[64];
	struct cubi_sigq *queue;	/* instances with their own siginfo
					 * (signal_queue.c) */
};
#define CUBI_SI_USER 0		/* kill */
#define CUBI_SI_KERNEL 0x80	/* setitimer, alarm */
#define CUBI_SI_TIMER (-2)	/* timer_create timers */
#define CUBI_SI_TKILL (-6)	/* tkill, tgkill, a fault of the thread */
#define CUBI_SI_QUEUE (-1)	/* sigqueue: rt_sigqueueinfo */

struct cubi_thread {
	int tid;
	struct cub_coro *coro;
	uint64_t fs_base;
	uintptr_t clear_child_tid;	/* user address, 0 = none */
	struct cub_list link;		/* all threads; irq-save protected */
	/* Signals (signal.c), irq-save protected: bit sig-1 of each. */
	uint64_t sigmask;		/* blocked */
	struct cubi_sigpend pending;	/* sent to it, not yet taken */
	uint64_t waitset;		/* waited for in rt_sigtimedwait */
	uint64_t suspend_saved;		/* rt_sigsuspend: the mask a handler
					 * returns to (with suspended) */
	bool suspended;
	struct cubi_altstack altstack;	/* sigaltstack */
	void *sleeping;			/* its futex waiter while blocked */
	bool console_wait;		/* blocked in a console read */
	long restart_nr;		/* 1 + a call a signal interrupted, to
					 * restart with SA_RESTART, or 0 */
	char name[16];			/* prctl PR_SET_NAME (ids.c), NUL-
					 * terminated; "": the program's */
};

/* A new thread's signal state: the creator's mask, no alternate stack. */
#define CUBI_THREAD_SIGNALS(mask) \
	.sigmask = (mask), .altstack = { 0, 2 /* SS_DISABLE */, 0, 0 }

/* cubi_thread_self without creating a record: NULL before the first
 * system call (irq off). */
struct cubi_thread *cubi_thread_current(void);
/* The live thread with this tid, or NULL. */
struct cubi_thread *cubi_thread_by_tid(int64_t tid);
/* The tids of up to max live threads, in creation order; returns how
 * many were stored (a snapshot, for /proc/1/task). */
int cubi_thread_tids(int *tids, int max);
/* The live threads, oldest first: the first with prev NULL, then the one
 * after prev, NULL after the last (irq off throughout). */
struct cubi_thread *cubi_thread_next(struct cubi_thread *prev);
/* A thread that leaves drops its undelivered signals (irq off). */
void cubi_signal_thread_gone(struct cubi_thread *t);

/*
 * A thread's registers on its way back to program code, in the order of
 * Linux's struct sigcontext, plus its x87/SSE state (the 512-byte FXSAVE
 * image it resumes with). The platform fills one from its syscall or
 * interrupt frame, lets signal.c redirect it into a handler, and writes
 * it back (platform/x86/shim.c).
 */
struct cubi_sigctx {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, rflags;
	void *fx;
};

/* Signals pending over all threads (read by syscall.S); true when some
 * thread may have a signal to take (cheap; irq off). */
extern unsigned cubi_signal_npending;
bool cubi_signal_pending(void);
/* True when thread t has a pending signal it does not block (irq off). */
bool cubi_signal_deliverable(const struct cubi_thread *t);
/* The dispatcher saw call nr end with -CUB_EINTR: remember it, so that a
 * handler with SA_RESTART restarts it. */
void cubi_signal_note_eintr(long nr);
/* Sends sig with si_code code to thread t, or with t NULL to the process
 * (the thread that waits for it or does not block it). Any context,
 * irq included: timers send from their expiry. */
void cubi_signal_post(struct cubi_thread *t, int sig, int code);
/* signalfd.c: a signal with this bit became pending: wakes the readers
 * of the signalfds whose mask has it (irq off; any context). */
void cubi_signalfd_notify(uint64_t bit);
/* ptimer.c: what the siginfo of a timer_create timer's signal sig, taken
 * by thread tid, says: the timer's id, its overrun count and its sigev
 * value (irq off; all 0 if the timer is gone). */
void cubi_ptimer_siginfo(int tid, int sig, int32_t *id, int32_t *overrun,
			 uint64_t *value);
/* A write-side call on a pipe or stream socket ends with rc: -EPIPE
 * raises SIGPIPE on the calling thread unless nosignal (MSG_NOSIGNAL).
 * Returns rc. Interrupts enabled (the default action ends the program). */
long cubi_signal_epipe(long rc, bool nosignal);
/* Takes the running thread's next deliverable signal: writes a Linux
 * signal frame on its stack (or its alternate stack) and points ctx at
 * the handler. False when there is none. Interrupts disabled. */
bool cubi_signal_deliver(struct cubi_sigctx *ctx);
/* A synchronous fault in a thread's program code (a page fault, a
 * general protection fault, a divide error, an invalid opcode), as
 * the platform describes it: the signal Linux sends for it, si_code,
 * si_addr, and the trap number and error code for the sigcontext. */
struct cubi_fault {
	int sig, code;
	uint64_t addr, trapno, err;
};
/* Delivers fault f to the running thread at once, as Linux forces it:
 * when the thread has a handler for f->sig and does not block it, writes
 * the frame and points ctx at the handler (which may mend the cause and
 * return to retry the instruction). False otherwise (SIG_DFL, SIG_IGN,
 * blocked, or no room for the frame): the platform reports the fault and
 * ends the program, as Linux's default action would. Interrupts
 * disabled (the trap handler). */
bool cubi_signal_fault(struct cubi_sigctx *ctx, const struct cubi_fault *f);
/* rt_sigreturn's work: reads the frame a handler returned from (sp is
 * the stack pointer after its `ret` into the restorer) into ctx, and
 * restores the thread's mask. 0 or -CUB_EFAULT/-CUB_EINVAL. */
int cubi_signal_restore(uintptr_t sp, struct cubi_sigctx *ctx);
/* Platform: resumes ctx exactly (every register, flags, SSE state). */
CUB_NORETURN void cubi_shim_resume_full(const struct cubi_sigctx *ctx);

/* The calling thread; creates the record for a coroutine that has none
 * (the first caller becomes the initial thread, tid 1). */
struct cubi_thread *cubi_thread_self(void);

/* Wakes up to n waiters on the futex word at uaddr; returns the count.
 * _locked: the same inside the caller's critical section (irq off). */
int cubi_futex_wake(uintptr_t uaddr, int n, uint32_t bitset);
int cubi_futex_wake_locked(uintptr_t uaddr, int n, uint32_t bitset);
/* Waits while *uaddr == val (checked with the enqueue, atomically), until
 * woken, deadline (0 = none) or a signal with a handler for the calling
 * thread: 0, -CUB_EAGAIN, -CUB_ETIMEDOUT or -CUB_EINTR. `what` names the
 * wait in ps and deadlock reports. Every blocking call of the shim but
 * console input waits here (that one: io.c, cub_console_interrupt), so
 * every one can be interrupted. */
long cubi_futex_wait(uintptr_t uaddr, uint32_t val, uint64_t deadline,
		     uint32_t bitset, const char *what);
/* The same inside the caller's critical section: called with interrupts
 * disabled, returns with them disabled (they are enabled while another
 * coroutine runs). Contexts: task (parks). */
long cubi_futex_wait_locked(uintptr_t uaddr, uint32_t val, uint64_t deadline,
			    uint32_t bitset, const char *what);
/* Ends a thread's wait with -CUB_EINTR (its `sleeping`; irq off). */
void cubi_futex_interrupt(void *waiter);

/* An address safely below the caller's frame on the running stack: a
 * Linux thread's kernel stack top, set before it enters program code. */
uintptr_t cubi_stack_below_caller(void);

/* Platform: continue a Linux thread at regs (rip, rsp, all registers). */
CUB_NORETURN void cubi_shim_resume(const struct cub_shim_regs *regs);

/* mm.c: map a range (fixed or anywhere); change a range's protection
 * (mprotect's checks and results); set the brk base. */
long cubi_mm_map(uintptr_t addr, size_t len, unsigned prot, bool fixed, bool noreplace);
int cubi_mm_protect(uintptr_t addr, size_t len, unsigned prot);
void cubi_mm_set_brk(uintptr_t base);
/* mm.c: true when every page of [start, end) is mapped (any prot). */
bool cubi_mm_covered(uintptr_t start, uintptr_t end);

/* What start.c needs to know of a loaded program. */
struct cubi_program {
	uintptr_t entry;	/* AT_ENTRY, where execution starts */
	uintptr_t phdr;		/* AT_PHDR: its program headers in memory */
	unsigned phnum;		/* AT_PHNUM */
};

/* Builds the initial stack and jumps to pg->entry in the running
 * coroutine; returns only on error (-CUB_EINVAL, -CUB_ENOMEM). */
int cubi_shim_start(const struct cubi_program *pg, int argc, char *const argv[],
		    char *const envp[]);

/* args.c: the boot command line as argv (argv[0] = name) and envp, both
 * NULL-terminated; returns argc. */
#define CUBI_ARGS_MAX 64
int cubi_shim_cmdline_args(const char *name, char *argv[CUBI_ARGS_MAX + 2],
			   char *envp[CUBI_ARGS_MAX + 1]);

/* The time slice program images run their Linux threads with. */
#define CUBI_LINUX_SLICE_NS (10u * 1000 * 1000)

/* Ends the whole program (exit_group): flushes nothing, exits the machine. */
CUB_NORETURN void cubi_shim_exit_program(int status);

#endif
