/*
 * shim_impl.h - private interface of the syscall shim (src/shim): the
 * syscall plumbing every part shares (handler type, argument macros,
 * errno values cubrt lacks, the uaccess helpers, every handler's
 * declaration), and, as an umbrella, the topic headers of the shim's
 * internal interfaces, so that one include gives a file all of them:
 *   fd.h       open files, their ops, the descriptor table, blocking
 *   vfs.h      the fs lock, path walks, open files of nodes, devices
 *   clock.h    clock ids, timespec copies, timer deadlines
 *   cputime.h  threads' CPU time, CPU-time clocks and timers
 *   thread.h   Linux threads, their lookup, names, pid checks
 *   signals.h  sending, delivering and returning from signals
 *   futex.h    the waits and wakes every blocking call uses
 *   mm.h       mapping and protecting memory
 *   program.h  a program's start and end
 * Each states its locking rules.
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

#include "clock.h"
#include "cputime.h"
#include "fd.h"
#include "futex.h"
#include "mm.h"
#include "program.h"
#include "signals.h"
#include "thread.h"
#include "vfs.h"

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
#define CUB_ENODEV 19
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
CUBI_SYS(clock_settime); CUBI_SYS(settimeofday);
/* adjtimex.c */
CUBI_SYS(adjtimex); CUBI_SYS(clock_adjtime);
CUBI_SYS(nanosleep); CUBI_SYS(clock_nanosleep); CUBI_SYS(time);
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
CUBI_SYS(set_robust_list); CUBI_SYS(get_robust_list);
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
/* pipe_ring.c: the most F_SETPIPE_SZ grants a pipe, in bytes (what
 * /proc/sys/fs/pipe-max-size shows). */
unsigned cubi_pipe_max_size(void);
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
/* ids.c: the supplementary groups (sorted) into out: how many. */
#define CUBI_GROUPS_MAX 64
unsigned cubi_ids_groups(uint32_t out[CUBI_GROUPS_MAX]);
/* caps.c: capabilities */
CUBI_SYS(capget); CUBI_SYS(capset);
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
CUBI_SYS(splice); CUBI_SYS(tee); CUBI_SYS(vmsplice);
CUBI_SYS(flock);
/* memfd.c */
CUBI_SYS(memfd_create);

#endif
