/*
 * start.c - start a Linux program: its initial stack and first registers.
 *
 * The stack a Linux x86-64 kernel gives a new process, from the top: the
 * 16 AT_RANDOM bytes and the strings, then (16-byte aligned at rsp) argc,
 * argv[], NULL, envp[], NULL, and the auxiliary vector. musl's _start
 * reads all of it: argv/envp for main, AT_PHDR/AT_PHNUM to find PT_TLS,
 * AT_RANDOM for the stack-protector canary (its first 8 bytes cubrt's own
 * guard where the platform has one: cub_arch_ssp_guard), AT_PAGESZ,
 * AT_HWCAP.
 * The strings lie as Linux lays them out, argv's in order and then
 * envp's, each run contiguous: /proc/1/cmdline and environ read them
 * there (procfs.h). Before the program runs, the network card (if
 * any) comes up as its environment's CUBRT_NET says (netdev.c), the
 * wall clock is set from the SNTP server CUBRT_NTP names (netdev.c), the
 * directory CUBRT_PERSIST names is restored from its disk (persist.c),
 * and the program starts in the directory CUBRT_CWD names, else in "/"
 * (fs_cwd.c; Go's package tests want their package's directory).
 */
#include <cubrt/arch.h>
#include <cubrt/string.h>

#include "../sched/sched_hooks.h"
#include "netdev.h"
#include "persist.h"
#include "procfs.h"

#define STACK_SIZE (2u << 20)
#define MAX_STRINGS 64
#define AT_NULL 0
#define AT_PHDR 3
#define AT_PHENT 4
#define AT_PHNUM 5
#define AT_PAGESZ 6
#define AT_BASE 7
#define AT_ENTRY 9
#define AT_UID 11
#define AT_EUID 12
#define AT_GID 13
#define AT_EGID 14
#define AT_PLATFORM 15
#define AT_HWCAP 16
#define AT_CLKTCK 17
#define AT_SECURE 23
#define AT_RANDOM 25
#define AT_EXECFN 31

/* Pushes a string (or bytes) at the top of the stack being built. */
static uintptr_t push_bytes(uintptr_t *sp, const void *p, size_t n)
{
	*sp -= n;
	cub_memcpy((void *)*sp, p, n);
	return *sp;
}

static size_t count(char *const v[])
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

/* Builds argc, argv, envp and auxv below top; returns the initial rsp.
 * *pi: where the strings went. */
static uintptr_t build_stack(const struct cubi_program *pg, uintptr_t top, int argc,
			     char *const argv[], char *const envp[],
			     struct cubi_proc_image *pi)
{
	size_t envc = count(envp), nwords, i = 0;
	uintptr_t sp = top, strs[2 * MAX_STRINGS], platform, random;
	uint64_t rnd[2] = { 0, 0 }, *w, guard;

	cub_arch_random(&rnd[0]);
	rnd[1] = cub_arch_wallclock_ns() ^ cub_arch_clock_ns() ^ rnd[0] * 31;
	if (cub_arch_ssp_guard(&guard))
		rnd[0] = guard;	/* musl's start keeps cubrt's guard (arch.h) */
	random = push_bytes(&sp, rnd, sizeof(rnd));
	platform = push_bytes(&sp, "x86_64", 7);
	pi->env_end = sp;	/* pushed last first: the runs end up in order */
	for (size_t e = envc; e-- > 0;)
		strs[argc + e] = push_bytes(&sp, envp[e], cub_strlen(envp[e]) + 1);
	pi->env_start = pi->arg_end = sp;
	for (int a = argc; a-- > 0;)
		strs[a] = push_bytes(&sp, argv[a], cub_strlen(argv[a]) + 1);
	pi->arg_start = sp;
	nwords = 1 + (size_t)argc + 1 + envc + 1 + 2 * 17;
	sp = CUB_ALIGN_DOWN(sp - nwords * 8, 16);
	w = (uint64_t *)sp;
	w[i++] = (uint64_t)argc;
	for (int a = 0; a < argc; a++)
		w[i++] = strs[a];
	w[i++] = 0;
	for (size_t e = 0; e < envc; e++)
		w[i++] = strs[argc + e];
	w[i++] = 0;
#define AUX(k, v) (w[i++] = (k), w[i++] = (uint64_t)(v))
	AUX(AT_PHDR, pg->phdr);
	AUX(AT_PHENT, 56);
	AUX(AT_PHNUM, pg->phnum);
	AUX(AT_PAGESZ, CUB_PAGE_SIZE);
	AUX(AT_BASE, 0);
	AUX(AT_ENTRY, pg->entry);
	AUX(AT_UID, 0);
	AUX(AT_EUID, 0);
	AUX(AT_GID, 0);
	AUX(AT_EGID, 0);
	AUX(AT_PLATFORM, platform);
	AUX(AT_HWCAP, 0x178bfbff);	/* fpu..sse2: what x86-64 guarantees */
	AUX(AT_CLKTCK, 100);
	AUX(AT_SECURE, 0);
	AUX(AT_RANDOM, random);
	AUX(AT_EXECFN, argc ? strs[0] : 0);
	AUX(AT_NULL, 0);
#undef AUX
	return sp;
}

int cubi_shim_start(const struct cubi_program *pg, int argc, char *const argv[],
		    char *const envp[])
{
	struct cub_shim_regs regs = { .rflags = 0x202, .cs = 0x08, .ss = 0x10 };
	struct cubi_proc_image pi = { .exe = argc ? argv[0] : "", .phdr = pg->phdr,
				      .phnum = pg->phnum };
	long stack;

	if (argc < 0 || argc > MAX_STRINGS || count(envp) > MAX_STRINGS)
		return -CUB_EINVAL;
	cub_shim_init();
	cubi_netdev_up(envp);	/* the network card, if there is one */
	cubi_netdev_time(envp);	/* the clock from CUBRT_NTP, if asked */
	cubi_persist_up(envp);	/* the persisted directory, if asked */
	cubi_fs_start_cwd(cubi_env_find(envp, "CUBRT_CWD"));
	stack = cubi_mm_map(0, STACK_SIZE, CUB_PROT_READ | CUB_PROT_WRITE, false, false);
	if (stack < 0)
		return (int)stack;
	regs.rsp = build_stack(pg, (uintptr_t)stack + STACK_SIZE, argc, argv, envp, &pi);
	pi.stack_lo = (uintptr_t)stack;
	pi.stack_hi = (uintptr_t)stack + STACK_SIZE;
	cubi_procfs_set_program(&pi);
	regs.rip = pg->entry;
	cubi_thread_self();	/* the running coroutine becomes tid 1 */
	cubi_sched_set_tls(0);
	cubi_sched_set_kstack(cubi_stack_below_caller());
	cubi_shim_resume(&regs);
}
