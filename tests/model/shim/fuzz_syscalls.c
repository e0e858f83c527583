/*
 * fuzz_syscalls.c - random system calls with random arguments from many
 * threads (coroutines): cubrt must never crash, and every result must be
 * a valid return value or -errno (-4095..-1).
 *
 * Arguments are drawn from classes: zero, small integers, random 64-bit
 * values, wild pointers (canonical and not, page 0, a read-only page),
 * pointers into a scratch area that is followed by an
 * inaccessible guard page, and pointers into mappings the run made
 * (odd seeds run with demand paging on, so calls page those in). Calls that by design end the program or block
 * forever are steered: exit/exit_group/clone, pause and sigsuspend are
 * skipped, signals to self use signal 0, SIGPIPE and the timer signals
 * (SIGALRM, SIGVTALRM, SIGPROF) are ignored (rt_sigaction leaves them
 * so; timer_create timers only send them), console reads (on whatever
 * descriptor dup put the console) and unbounded waits are skipped,
 * sleeps, sigtimedwait and
 * epoll waits get a tiny timeout, pipes, eventfds, timerfds, signalfds
 * and sockets (TCP and UDP) are always made non-blocking (pipe2,
 * eventfd2, timerfd_create, signalfd4, socket, socketpair, accept4 get the
 * flag; ioctl's FIONBIO only ever sets it), and calls that could wait on
 * a blocking socket (one plain accept made) are skipped; flock is always LOCK_NB, sendfile never reads
 * the console, mknod makes a regular file where it would make a named
 * pipe (whose blocking opens wait for a partner that may never come),
 * splice never reads the console and splice, tee and vmsplice skip
 * blocking pipes and sockets as reads do. Path arguments often name a few shared files and directories
 * (so that threads race to create, link, rename and remove them, and
 * symbolic links made with those names as targets lead into each other
 * and into loops), and /proc's and /dev's magic links to descriptors,
 * the working directory and the program (a pipe end opened through one
 * may block: reads and writes skip blocking pipes as blocking sockets);
 * socket
 * addresses often name a port bound lately or an AF_UNIX name (some of
 * them those same paths). When a
 * scratch pointer is among the arguments, lengths stay small, so a valid
 * call cannot write past the scratch area.
 *
 * The core is shared by the host (fuzz_host.c) and bare metal
 * (tests/qemu/shim/fuzz_musl.c): fuzz.h says what each provides.
 *
 * usage: fuzz_syscalls [SEED [OPS]]   (also CUBRT_SEED); prints the seed.
 * In QEMU: scripts/run build/x86/tests/qemu/shim/musl_fuzz SEED OPS.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define THREADS FUZZ_THREADS
#define SCRATCH FUZZ_SCRATCH

uint64_t fuzz_seed, fuzz_ops = 200000;
unsigned char *fuzz_scratch, *fuzz_readonly;
long fuzz_done, fuzz_bad, fuzz_fs_ok;	/* fs_ok: path calls that succeeded */
unsigned fuzz_n_map, fuzz_n_shared;	/* n_shared: of files */

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Mappings made lately (mmap, mremap: any thread): pointers often aim
 * into them, the program memory the shim manages itself (and, in runs
 * with demand paging, pages in when a call first touches it). */
static uintptr_t recent_map[8];
static long recent_file[8];		/* descriptors open made lately */
static unsigned n_file;
#define MAP_REACH (4 * 4096)	/* how far into a mapping a pointer goes */

static bool into_map(uintptr_t p)
{
	for (unsigned i = 0; i < fuzz_n_map && i < 8; i++)
		if (p - recent_map[i] < MAP_REACH)
			return true;
	return false;
}

/* An address in a mapping made lately (r: a random number), 0 when
 * none was made: the guest's threads touch such addresses themselves. */
uintptr_t fuzz_pick_map(uint64_t r)
{
	if (!fuzz_n_map)
		return 0;
	return recent_map[r % MIN(fuzz_n_map, 8u)] + (r >> 8) % MAP_REACH;
}

/* One argument; *ptr_used is set when it points into the scratch area
 * or a recent mapping. */
static long arg(uint64_t *s, bool allow_big, bool *ptr_used)
{
	switch (rnd(s) % 10) {
	case 0: return 0;
	case 1: return (long)(rnd(s) % 11) - 5;
	case 2: return allow_big ? (long)rnd(s) : (long)(rnd(s) % 4096);
	case 3: return (long)(0xdead00000000ull + (rnd(s) % 65536) * 8);
	case 4: return (long)(0x8000000000000000ull | rnd(s));	/* non-canonical */
	case 5: return (long)(rnd(s) % 4096);			/* page 0 */
	case 6:					/* read-only page */
		*ptr_used = true;
		return (long)(uintptr_t)(fuzz_readonly + rnd(s) % 4096);
	case 7:					/* a recent mapping */
		if (!fuzz_n_map)
			return 0;
		*ptr_used = true;
		return (long)(recent_map[rnd(s) % (fuzz_n_map < 8 ? fuzz_n_map : 8)] + rnd(s) % MAP_REACH);
	default:
		*ptr_used = true;
		return (long)(uintptr_t)(fuzz_scratch + rnd(s) % (SCRATCH / 2));
	}
}

/* fd's file type bits (fstat's st_mode & S_IFMT), 0 when not open. */
static uint32_t type_of(long fd)
{
	uint8_t st[144];
	uint32_t mode;

	if (fuzz_call(5, fd, (long)(uintptr_t)st, 0, 0, 0, 0) != 0)
		return 0;
	memcpy(&mode, st + 24, 4);
	return mode & 0170000;
}

/* True when fd is the console (dup may have copied it anywhere): a read
 * would wait for input that never comes. */
static bool is_console(long fd)
{
	return type_of(fd) == 0020000;
}

/* True when fd is a socket or a pipe without O_NONBLOCK (accept gives
 * such sockets, an open of /proc/self/fd/N such pipe ends): a read,
 * write, accept or connect on it could wait forever. */
static bool is_blocking(long fd)
{
	unsigned type = type_of(fd);

	return (type == 0140000 || type == 0010000) &&
	       !(fuzz_call(72, fd, 3, 0, 0, 0, 0) & 04000);	/* F_GETFL */
}

/* Sockets made and ports listened on or bound lately (any thread):
 * socket calls often aim there, so that connect finds listeners, accept
 * finds connections and sendto finds UDP sockets among all the
 * descriptors random calls leave open. */
static long recent_fd[16];
static unsigned recent_port[8], n_fd, n_port;

static void note_result(long nr, const long a[6], long r)
{
	uint8_t sa[16];
	int len = sizeof(sa);

	if ((nr == 41 || nr == 43 || nr == 288) && r >= 0)
		recent_fd[n_fd++ % 16] = r;
	if ((nr == 9 || nr == 25) && r > 0)
		recent_map[fuzz_n_map++ % 8] = (uintptr_t)r;
	if (nr == 9 && r > 0 && (a[3] & 0xf) <= 0x02 && !(a[3] & 0x20) && a[4] >= 0)
		fuzz_n_shared++;
	if ((nr == 2 || nr == 85 || nr == 257) && r >= 0)	/* open, creat, openat */
		recent_file[n_file++ % 8] = r;
	if ((nr == 50 || nr == 49) && r == 0 &&
	    fuzz_call(51, a[0], (long)(uintptr_t)sa, (long)(uintptr_t)&len, 0, 0, 0) == 0)
		recent_port[n_port++ % 8] = (unsigned)sa[2] << 8 | sa[3];
}

/* Names AF_UNIX sockets bind and connect to: paths (shared with the
 * file-system calls, so that nodes get renamed and removed under them)
 * and an abstract one. */
static const char *const unix_names[] = { "/tmp/s", "s", "/tmp/d/s", "/tmp/f", "\0abs" };

/* Points a[i], a[i + 1] at a sockaddr_un from unix_names. */
static void aim_sockaddr_un(long a[6], uint64_t *s, int i)
{
	uint8_t *sa = fuzz_scratch + SCRATCH / 2 + 128;
	const char *name = unix_names[rnd(s) % (sizeof(unix_names) / sizeof(unix_names[0]))];
	size_t n = name[0] ? strlen(name) + 1 : 4;

	memset(sa, 0, 2 + 108);
	sa[0] = 1;				/* AF_UNIX */
	memcpy(sa + 2, name, n);
	a[i] = (long)(uintptr_t)sa;
	a[i + 1] = (long)(2 + n);
}

/* Points a[i], a[i + 1] at a sockaddr_in for 127.0.0.1 or 0.0.0.0 and a
 * port listened on or bound lately, or port 0; a quarter of the time at
 * an AF_UNIX name instead. */
static void aim_sockaddr(long a[6], uint64_t *s, int i)
{
	uint8_t *sa = fuzz_scratch + SCRATCH / 2 + 128;
	unsigned port = rnd(s) % 4 && n_port ? recent_port[rnd(s) % MIN(n_port, 8u)] : 0;

	if (rnd(s) % 4 == 0) {
		aim_sockaddr_un(a, s, i);
		return;
	}
	memset(sa, 0, 16);
	sa[0] = 2;				/* AF_INET */
	sa[2] = (uint8_t)(port >> 8);
	sa[3] = (uint8_t)port;
	if (rnd(s) % 2)
		sa[4] = 127, sa[7] = 1;
	a[i] = (long)(uintptr_t)sa;
	a[i + 1] = 16;
}

/* Paths the file-system calls often get instead of random bytes, so
 * that 8 threads create, rename and remove the same few names. */
static const char *const paths[] = {
	"/tmp/f", "/tmp/d", "/tmp/d/f", "/tmp/d/e", "/tmp/d/e/g", "/tmp/d/",
	"f", "d", "d/f", "./f", "..", "/", "/tmp", "/dev/null", "/etc/hosts", "",
	"/proc/self/fd/3", "/proc/self/fd/4", "/proc/self/fd/5/f", "/dev/fd/6",
	"/dev/stdout", "/proc/self/cwd", "/proc/self/cwd/f", "/proc/self/exe",
	"/dev/vda",			/* a 64 KiB disk (main: CUBRT_HOST_DISK) */
};

/* Which arguments of call nr are paths (bit i: a[i]), 0 for none. */
static unsigned path_args(long nr)
{
	switch (nr) {
	case 2: case 4: case 6: case 21: case 76: case 80: case 83: case 84:
	case 85: case 87: case 89: case 90:
	case 92: case 94: case 132: case 133: case 137: case 235:
		return 1;			/* open ... chmod, chown...: a[0] */
	case 82: case 86: case 88:
		return 3;			/* rename, link, symlink: a[0], a[1] */
	case 257: case 258: case 262: case 263: case 267: case 268:
	case 269: case 280: case 439: case 452:
	case 259: case 260: case 261: case 332:
		return 2;			/* the *at calls: a[1] */
	case 264: case 265: case 316:
		return 2 | 8;			/* renameat(2), linkat: a[1], a[3] */
	case 266:
		return 1 | 4;			/* symlinkat: a[0] (its target), a[2] */
	default:
		return 0;
	}
}

/* Points the path arguments of nr at names from `paths` (written into
 * the scratch area afresh: random calls scribble on it), and the *at
 * calls' directories at the working directory half of the time. */
static void aim_paths(long nr, long a[6], uint64_t *s)
{
	unsigned which = path_args(nr);

	for (int i = 0; i < 6; i++) {
		char *slot = (char *)fuzz_scratch + SCRATCH / 2 + 256 + 32 * i;

		if (!(which >> i & 1))
			continue;
		strcpy(slot, paths[rnd(s) % (sizeof(paths) / sizeof(paths[0]))]);
		a[i] = (long)(uintptr_t)slot;
		if (i > 0 && rnd(s) % 2)
			a[i - 1] = -100;	/* AT_FDCWD */
	}
}

/* Rewrites calls that would end the program or never return; false:
 * skip the call. */
/* The signals the run ignores, since their default action ends it. */
static bool quiet_signal(long sig)
{
	return sig == 13 || sig == 14 || sig == 26 || sig == 27;
}

static bool steer(long nr, long a[6], uint64_t *s)
{
	if (path_args(nr) && rnd(s) % 2)
		aim_paths(nr, a, s);
	if (((nr >= 42 && nr <= 55 && nr != 53) || nr == 288 || nr <= 1) &&
	    n_fd && rnd(s) % 2)		/* socket calls, read, write: a socket */
		a[0] = recent_fd[rnd(s) % MIN(n_fd, 16u)];
	switch (nr) {
	case 56: case 60: case 231: case 435:	/* clone, exit, exit_group, clone3 */
	case 15:				/* rt_sigreturn: no frame, ends it */
		return false;
	case 0: case 19:			/* read/readv from the console */
		return !is_console(a[0]) && !is_blocking(a[0]);
	case 1: case 20:			/* write/writev, */
	case 42:				/* connect: often a listener */
		if (rnd(s) % 2)
			aim_sockaddr(a, s, 1);
		return !is_blocking(a[0]);
	case 44:				/* sendto: often a UDP port */
		if (rnd(s) % 2)
			aim_sockaddr(a, s, 4);
		return !is_blocking(a[0]);
	case 43:				/* accept, */
	case 45: case 46: case 47:		/* send/recv calls */
		return !is_blocking(a[0]);
	case 41: case 53:			/* socket, socketpair: */
		if (rnd(s) % 2) {		/* often a kind that exists: */
			a[0] = nr == 53 || rnd(s) % 4 == 0 ? 1 : 2;
			a[1] = (a[0] == 2 && rnd(s) % 3 == 0 ? 2 : 1) |	/* UDP, */
			       (a[1] & 02000000);			/* TCP */
			a[2] = 0;
		}
		a[1] |= 04000;			/* SOCK_NONBLOCK always */
		return true;
	case 49:				/* bind: often loopback */
		if (rnd(s) % 2)
			aim_sockaddr(a, s, 1);
		return true;
	case 288:				/* accept4 */
		a[3] |= 04000;
		return !is_blocking(a[0]);
	case 9:					/* mmap: often anonymous */
		if (rnd(s) % 2) {		/* memory of 1..8 pages, */
			a[0] = 0;
			a[1] = (long)(1 + rnd(s) % 8) * 4096;
			a[2] = (long)(rnd(s) % 4);	/* PROT_NONE..RW */
			a[3] = 0x22 | (rnd(s) % 4 ? 0 : 0x8000);	/* MAP_POPULATE */
			a[4] = -1;
			a[5] = 0;
			if (n_file && rnd(s) % 3 == 0) {	/* or a file opened */
				a[3] = rnd(s) % 2 ? 0x01 : 0x02;	/* lately, shared */
				a[4] = recent_file[rnd(s) % MIN(n_file, 8u)];	/* or */
				a[5] = (long)(rnd(s) % 3) * 4096;	/* private: its */
			}				/* size changes under truncates */
		}
		return true;
	case 10: case 11: case 25: case 26:	/* mprotect, munmap, mremap, msync, */
	case 27: case 28: case 149: case 150:	/* mincore, madvise, mlock, munlock: */
		if (fuzz_n_map && rnd(s) % 2) {	/* often pages of a recent mapping */
			a[0] = (long)(recent_map[rnd(s) % MIN(fuzz_n_map, 8u)] + rnd(s) % 4 * 4096);
			a[1] = (long)(1 + rnd(s) % 4) * 4096;
		}
		return true;
	case 2: case 257:			/* open, openat: often a file */
		if (rnd(s) % 4 == 0)		/* to read and write (to map) */
			a[nr == 2 ? 1 : 2] = 0102;	/* O_RDWR | O_CREAT */
		return true;
	case 77:				/* ftruncate: often a file */
		if (n_file && rnd(s) % 2) {	/* opened lately, 0..4 pages */
			a[0] = recent_file[rnd(s) % MIN(n_file, 8u)];
			a[1] = (long)(rnd(s) % (4 * 4096 + 1));
		}
		return true;
	case 22: return false;			/* pipe: blocking ends */
	case 293: a[1] |= 04000; return true;	/* pipe2: O_NONBLOCK always */
	case 72:				/* fcntl F_SETFL: keep it */
		if (a[1] == 4)
			a[2] |= 04000;
		return true;
	case 16: {				/* ioctl: often one it knows; */
		static const long req[] = { 0x541b, 0x5421, 0x5451, 0x5450, 0x5452,
					    0x5411, 0x8912, 0x8933, 0x8910, 0x8913,
					    0x5401, 0x80081272, 0x1268, 0x1261 };
		int *on = (int *)(void *)(fuzz_scratch + SCRATCH / 2 + 480);

		if (rnd(s) % 2)
			a[1] = req[rnd(s) % (sizeof(req) / sizeof(req[0]))];
		if ((a[1] & 0xffffffff) == 0x5421) {	/* FIONBIO: keep */
			*on = 1;			/* O_NONBLOCK */
			a[2] = (long)(uintptr_t)on;
		}
		return true;
	}
	case 284: return false;			/* eventfd: blocking reads */
	case 290: a[1] |= 04000; return true;	/* eventfd2: O_NONBLOCK always */
	case 282: return false;			/* signalfd: blocking reads */
	case 289: a[3] |= 04000; return true;	/* signalfd4: O_NONBLOCK always */
	case 283: a[1] |= 04000; return true;	/* timerfd_create: the same (a
						 * disarmed one never wakes) */
	case 7:					/* poll: 0..2 ms */
		a[2] = (long)(rnd(s) % 3);
		return true;
	case 23: case 270: case 271: {		/* select, pselect6, ppoll: */
		int64_t *ts = (int64_t *)(void *)(fuzz_scratch + SCRATCH / 2 + 192);
						/* 0..1 ms, never forever */
		ts[0] = 0;
		ts[1] = (int64_t)(rnd(s) % (nr == 23 ? 1000 : 1000000));
		a[nr == 271 ? 2 : 4] = (long)(uintptr_t)ts;
		return true;
	}
	case 232: case 281:			/* epoll waits: 0..2 ms */
		a[3] = (long)(rnd(s) % 3);
		return true;
	case 13:				/* rt_sigaction: the signals */
		if (quiet_signal(a[0]))		/* ignored at start stay so */
			a[1] = 0;
		return true;
	case 34: case 130: return false;	/* pause, sigsuspend: forever */
	case 128: {				/* sigtimedwait: 0..1 ms */
		int64_t *ts = (int64_t *)(void *)(fuzz_scratch + SCRATCH / 2 + 128);

		ts[0] = 0;
		ts[1] = (int64_t)(rnd(s) % 1000000);
		a[2] = (long)(uintptr_t)ts;
		return true;
	}
	case 222: {				/* timer_create: its signal is */
		int32_t *sev = (int32_t *)(void *)(fuzz_scratch + SCRATCH / 2 + 256);
		static const int32_t sigs[3] = { 14, 26, 27 };	/* ignored */
		static const int32_t how[3] = { 0, 1, 4 };	/* SIGNAL NONE
								 * THREAD_ID */
		memset(sev, 0, 64);		/* one the run ignores */
		sev[2] = sigs[rnd(s) % 3];
		sev[3] = how[rnd(s) % 3];
		sev[4] = (int32_t)(rnd(s) % 4);	/* a tid, perhaps a live one */
		a[1] = rnd(s) % 4 ? (long)(uintptr_t)sev : 0;
		return true;
	}
	case 133: case 259: {			/* mknod(at): a regular file for */
		long *mode = &a[nr == 133 ? 1 : 2];	/* a named pipe (an */
							/* open waits for a */
		if ((*mode & 0170000) == 0010000)	/* partner, perhaps */
			*mode ^= 0110000;		/* forever) */
		return true;
	}
	case 73: a[1] |= 4; return true;	/* flock: LOCK_NB always (a lock
						 * held by a thread that never
						 * drops it would wait forever) */
	case 40:				/* sendfile: a few bytes, never */
		a[3] &= 0xffff;			/* from the console or a
						 * blocking socket */
		return !is_console(a[1]) && !is_blocking(a[1]) &&
		       !is_blocking(a[0]);
	case 275:				/* splice: never from the console */
		return !is_console(a[0]) &&	/* (a tty splice waits as a read */
		       !is_blocking(a[0]) &&	/* does) or through a blocking */
		       !is_blocking(a[2]);	/* pipe or socket */
	case 276:				/* tee: pipes only */
		return !is_blocking(a[0]) && !is_blocking(a[1]);
	case 278: return !is_blocking(a[0]);	/* vmsplice */
	case 326: a[4] &= 0xffff; return true;	/* copy_file_range: files only */
	case 62: a[1] = 0; return true;		/* kill: probe only */
	case 129: a[1] = rnd(s) % 2 ? 14 : 0; return true;	/* sigqueue: */
	case 297: a[2] = rnd(s) % 2 ? 14 : 0; return true;	/* SIGALRM */
	case 200: a[1] = 0; return true;	/* tkill */
	case 234: a[2] = 0; return true;	/* tgkill */
	case 35: case 230: {			/* sleeps: 0..1 ms */
		int64_t *ts = (int64_t *)(void *)(fuzz_scratch + SCRATCH / 2);
		ts[0] = 0;
		ts[1] = (int64_t)(rnd(s) % 1000000);
		a[nr == 35 ? 0 : 2] = (long)(uintptr_t)ts;
		if (nr == 230)
			a[1] = 0;
		return true;
	}
	case 202: {				/* futex: waits get a 0..1 ms timeout */
		int64_t *ts = (int64_t *)(void *)(fuzz_scratch + SCRATCH / 2 + 64);
		long op = a[1] & ~(long)0x180;

		if (op == 0 || op == 9) {
			ts[0] = 0;
			ts[1] = (int64_t)(rnd(s) % 1000000);
			a[3] = (long)(uintptr_t)ts;
			a[1] &= 0x7f;	/* relative (op 0) or monotonic absolute */
		}
		return true;
	}
	default:
		return true;
	}
}

/* Ignores the signals quiet_signal names (rt_sigaction SIG_IGN). */
void fuzz_quiet_signals(void)
{
	/* writes to closed pipes and sockets: -EPIPE, no SIGPIPE; timers
	 * and alarms signal SIGALRM, SIGVTALRM, SIGPROF */
	uint64_t ign[4] = { 1, 0x04000000, 0, 0 };

	for (long sig = 1; sig <= 64; sig++)
		if (quiet_signal(sig))
			fuzz_call(13, sig, (long)(uintptr_t)ign, 0, 8, 0, 0);
}

void *fuzz_thread(void *arg0)
{
	int idx = (int)(uintptr_t)arg0;
	uint64_t s = fuzz_seed ^ ((uint64_t)idx * 0x9E3779B97F4A7C15ull);
	long n = (long)(fuzz_ops / THREADS);

	if (!s)
		s = 1;
	for (long i = 0; i < n; i++) {
		long nr = rnd(&s) % 4 ? (long)(rnd(&s) % 340) : (long)rnd(&s) % 500 - 20;
		long a[6];
		bool ptr = false;
		long r;

		for (int k = 0; k < 6; k++)
			a[k] = arg(&s, true, &ptr);
		if (ptr)	/* keep lengths small beside valid pointers */
			for (int k = 0; k < 6; k++)
				if ((uint64_t)a[k] >= 4096 && !((uintptr_t)a[k] >= (uintptr_t)fuzz_scratch &&
				    (uintptr_t)a[k] < (uintptr_t)fuzz_scratch + SCRATCH + 2 * 4096) &&
				    !into_map((uintptr_t)a[k]))
					a[k] = a[k] & 0xfff;
		if (!steer(nr, a, &s) || !fuzz_plat_steer(idx, nr, a))
			continue;
		fuzz_calling(idx, nr, a);
		r = fuzz_call(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		note_result(nr, a, r);
		fuzz_fs_ok += path_args(nr) && r >= 0;
		fuzz_called(idx, ++fuzz_done);
		if (r < -4095) {
			fuzz_bad++;
			fuzz_say("fuzz: syscall %ld(%lx, %lx, %lx, %lx, %lx, %lx) returned %ld\n",
				 nr, a[0], a[1], a[2], a[3], a[4], a[5], r);
		}
		if (i % 64 == 0)
			fuzz_yield();
	}
	return NULL;
}
