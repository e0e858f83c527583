/*
 * dispatch.c - the system-call table and its entry point.
 *
 * Invariants: table[nr] is NULL for every number the shim does not
 * implement; those return -ENOSYS and are logged once per number (the
 * `logged` bitmap only ever gains bits). The table is constant, so
 * dispatch itself needs no locking; handlers protect their own state.
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>

#include "shim_impl.h"

#define NR(n, fn) [n] = cubi_sys_##fn

static const cubi_sys_fn table[CUBI_SYS_MAX + 1] = {
	NR(0, read), NR(1, write), NR(2, open), NR(3, close), NR(5, fstat),
	NR(8, lseek), NR(9, mmap), NR(10, mprotect), NR(11, munmap),
	NR(12, brk), NR(13, rt_sigaction), NR(14, rt_sigprocmask),
	NR(15, rt_sigreturn),
	NR(16, ioctl), NR(19, readv), NR(20, writev), NR(22, pipe),
	NR(24, sched_yield), NR(28, madvise), NR(35, nanosleep),
	NR(39, getpid), NR(56, clone), NR(60, exit), NR(62, kill),
	NR(63, uname), NR(170, sethostname), NR(171, setdomainname), NR(72, fcntl), NR(96, gettimeofday),
	NR(97, getrlimit), NR(102, getuid), NR(104, getuid),
	NR(107, getuid), NR(108, getuid), NR(110, getppid),
	NR(131, sigaltstack), NR(158, arch_prctl), NR(160, setrlimit),
	NR(186, gettid), NR(200, tkill), NR(201, time), NR(202, futex),
	NR(204, sched_getaffinity), NR(213, epoll_create),
	NR(218, set_tid_address), NR(228, clock_gettime), NR(227, clock_settime),
	NR(164, settimeofday), NR(159, adjtimex), NR(305, clock_adjtime),
	NR(229, clock_getres), NR(230, clock_nanosleep),
	NR(231, exit_group), NR(232, epoll_wait), NR(233, epoll_ctl),
	NR(234, tgkill), NR(257, openat), NR(273, set_robust_list), NR(274, get_robust_list),
	NR(281, epoll_pwait), NR(291, epoll_create1), NR(293, pipe2),
	NR(302, prlimit64), NR(318, getrandom),
	/* eventfd.c */
	NR(284, eventfd), NR(290, eventfd2),
	/* signal_send.c (the rest of signals: the table above) */
	NR(129, rt_sigqueueinfo), NR(297, rt_tgsigqueueinfo),
	/* signalfd.c */
	NR(282, signalfd), NR(289, signalfd4),
	/* signal_wait.c */
	NR(34, pause), NR(127, rt_sigpending), NR(128, rt_sigtimedwait),
	NR(130, rt_sigsuspend),
	/* itimer.c, ptimer.c */
	NR(36, getitimer), NR(37, alarm), NR(38, setitimer),
	NR(222, timer_create), NR(223, timer_settime), NR(224, timer_gettime),
	NR(225, timer_getoverrun), NR(226, timer_delete),
	/* timerfd.c */
	NR(283, timerfd_create), NR(286, timerfd_settime), NR(287, timerfd_gettime),
	/* poll.c */
	NR(7, poll), NR(23, select), NR(270, pselect6), NR(271, ppoll),
	/* files: fd.c, fs.c */
	NR(4, stat), NR(6, lstat), NR(17, pread64), NR(18, pwrite64),
	NR(21, access), NR(32, dup), NR(33, dup2), NR(74, fsync),
	NR(75, fsync), NR(76, truncate), NR(77, ftruncate), NR(79, getcwd),
	NR(80, chdir), NR(81, fchdir), NR(82, rename), NR(83, mkdir),
	NR(84, rmdir), NR(85, creat), NR(87, unlink), NR(89, readlink),
	NR(90, chmod), NR(91, fchmod), NR(95, umask), NR(217, getdents64),
	NR(258, mkdirat), NR(262, newfstatat), NR(263, unlinkat),
	NR(264, renameat), NR(267, readlinkat), NR(268, fchmodat),
	NR(269, faccessat), NR(280, utimensat), NR(292, dup3),
	NR(316, renameat2), NR(439, faccessat2), NR(452, fchmodat2),
	/* links: fs_names.c */
	NR(86, link), NR(88, symlink), NR(265, linkat), NR(266, symlinkat),
	/* sockets: socket*.c (loopback TCP, AF_UNIX pairs) */
	NR(41, socket), NR(42, connect), NR(43, accept), NR(44, sendto),
	NR(45, recvfrom), NR(46, sendmsg), NR(47, recvmsg), NR(48, shutdown),
	NR(49, bind), NR(50, listen), NR(51, getsockname),
	NR(52, getpeername), NR(53, socketpair), NR(54, setsockopt),
	NR(55, getsockopt), NR(288, accept4),
	/* ids.c (the gid calls share the uid ones: one user, root) */
	NR(109, setpgid), NR(111, getpgrp), NR(112, setsid),
	NR(105, setuid), NR(106, setuid), NR(113, setreuid),
	NR(114, setreuid), NR(115, getgroups), NR(116, setgroups),
	NR(117, setresuid), NR(118, getresuid), NR(119, setresuid),
	NR(120, getresuid), NR(121, getpgid), NR(122, setfsuid),
	NR(123, setfsuid), NR(124, getsid), NR(135, personality),
	NR(140, getpriority), NR(141, setpriority), NR(309, getcpu),
	/* caps.c */
	NR(125, capget), NR(126, capset),
	/* policy.c, prctl.c */
	NR(61, wait4), NR(142, sched_setparam), NR(143, sched_getparam),
	NR(144, sched_setscheduler), NR(145, sched_getscheduler),
	NR(146, sched_get_priority_max), NR(147, sched_get_priority_min),
	NR(148, sched_rr_get_interval), NR(157, prctl),
	NR(203, sched_setaffinity), NR(247, waitid), NR(324, membarrier),
	/* rusage.c */
	NR(98, getrusage), NR(99, sysinfo), NR(100, times),
	/* mm_remap.c, mm_extra.c */
	NR(25, mremap), NR(26, msync), NR(27, mincore), NR(149, mlock),
	NR(150, munlock), NR(151, mlockall), NR(152, munlockall),
	NR(325, mlock2),
	/* fs_extra.c, fs_attr.c, fs_xfer.c, flock.c */
	NR(40, sendfile), NR(73, flock), NR(92, chown), NR(93, fchown),
	NR(94, lchown), NR(132, utime), NR(133, mknod), NR(137, statfs),
	NR(138, fstatfs), NR(162, sync), NR(221, fadvise64), NR(235, utimes),
	NR(259, mknodat), NR(260, fchownat), NR(261, futimesat),
	NR(285, fallocate), NR(306, syncfs), NR(326, copy_file_range),
	NR(332, statx),
	/* memfd.c */
	NR(319, memfd_create),
	/* pipe_splice.c, pipe_vmsplice.c */
	NR(275, splice), NR(276, tee), NR(278, vmsplice),
};

static uint64_t logged[(CUBI_SYS_MAX + 64) / 64 + 1];

static long unknown(long nr)
{
	const char *name = cub_shim_name(nr);
	unsigned long irq = cub_arch_irq_save();
	bool first = true;

	if (nr >= 0 && nr <= CUBI_SYS_MAX) {
		first = !(logged[nr / 64] & (1ull << (nr % 64)));
		logged[nr / 64] |= 1ull << (nr % 64);
	}
	cub_arch_irq_restore(irq);
	if (first)
		cub_printk("shim: unimplemented syscall %s (%ld): -ENOSYS\n",
			   name ? name : "?", nr);
	return -CUB_ENOSYS;
}

void cub_shim_init(void)
{
	cub_arch_syscall_enable();
}

long cub_shim_syscall(struct cub_shim_regs *r)
{
	long nr = (long)r->rax;

	long ret;

	if (nr < 0 || nr > CUBI_SYS_MAX || !table[nr])
		return unknown(nr);
	cubi_cputime_sys(true);		/* system time from here (cputime.c) */
	ret = table[nr](r);
	cubi_cputime_sys(false);
	if (CUB_UNLIKELY(ret == -CUB_EINTR || ret == -CUBI_ERESTARTNOINTR)) {
		cubi_signal_note_eintr(nr, ret == -CUBI_ERESTARTNOINTR);
		ret = -CUB_EINTR;
	}
	return ret;
}

long cub_shim_call(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
	struct cub_shim_regs r = {
		.rax = (uint64_t)nr, .rdi = (uint64_t)a0, .rsi = (uint64_t)a1,
		.rdx = (uint64_t)a2, .r10 = (uint64_t)a3, .r8 = (uint64_t)a4,
		.r9 = (uint64_t)a5,
	};

	return cub_shim_syscall(&r);
}
