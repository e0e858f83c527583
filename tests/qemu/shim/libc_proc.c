/*
 * libc_proc.c - the libc sweep's process-ish part (see libc.c): sysconf,
 * resource limits and usage, the environment, exit handlers' order,
 * abort under a SIGABRT handler, raise; system, popen, posix_spawn, fork
 * and wordexp, which need a second process and must fail cleanly; then
 * temporary files, nftw, glob and fnmatch over the booted tree, qsort and
 * bsearch; and memory: large blocks, realloc through mremap, aligned
 * allocations, madvise, and a SIGSEGV handler that makes a read-only page
 * writable and lets the write happen; faults left by siglongjmp: a NULL
 * read, a division by zero (SIGFPE), an invalid opcode (SIGILL), and a
 * thread's stack overflow caught on its alternate stack.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ftw.h>
#include <glob.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wordexp.h>

#include "libc.h"

extern char **environ;

static void sysconf_checks(void)
{
	struct rlimit rl, old;
	struct rusage ru;

	lc_check("sysconf: one CPU online, 4 KiB pages",
		 sysconf(_SC_NPROCESSORS_ONLN) == 1 && sysconf(_SC_NPROCESSORS_CONF) >= 1 &&
		 sysconf(_SC_PAGESIZE) == 4096);
	lc_check("sysconf: physical pages", sysconf(_SC_PHYS_PAGES) > 1000 &&
		 sysconf(_SC_AVPHYS_PAGES) > 0 &&
		 sysconf(_SC_AVPHYS_PAGES) <= sysconf(_SC_PHYS_PAGES));
	lc_check("getrlimit(RLIMIT_NOFILE) and _SC_OPEN_MAX",
		 getrlimit(RLIMIT_NOFILE, &old) == 0 && old.rlim_cur > 64 &&
		 sysconf(_SC_OPEN_MAX) == (long)old.rlim_cur);
	rl = (struct rlimit){ 64, old.rlim_max };
	lc_check("setrlimit lowers the soft limit, getrlimit reports it",
		 setrlimit(RLIMIT_NOFILE, &rl) == 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		 rl.rlim_cur == 64 && sysconf(_SC_OPEN_MAX) == 64);
	setrlimit(RLIMIT_NOFILE, &old);
	rl = (struct rlimit){ 10, 5 };
	lc_check("setrlimit with soft above hard: EINVAL",
		 setrlimit(RLIMIT_CORE, &rl) == -1 && errno == EINVAL);
	rl = (struct rlimit){ 0, 0 };
	lc_check("setrlimit(RLIMIT_CORE, 0)", setrlimit(RLIMIT_CORE, &rl) == 0 &&
		 getrlimit(RLIMIT_CORE, &rl) == 0 && rl.rlim_max == 0);
	lc_check("getrusage", getrusage(RUSAGE_SELF, &ru) == 0 && ru.ru_maxrss > 0 &&
		 ru.ru_utime.tv_sec + ru.ru_utime.tv_usec > 0);
}

static void env_checks(void)
{
	static char put[] = "LIBC_PUT=by putenv";
	int seen = 0;

	lc_check("getenv of the command line's environment",
		 getenv("LIBC_ENV") && strcmp(getenv("LIBC_ENV"), "from-the-command-line") == 0);
	lc_check("setenv, no overwrite", setenv("LIBC_ENV", "x", 0) == 0 &&
		 strcmp(getenv("LIBC_ENV"), "from-the-command-line") == 0);
	lc_check("setenv and putenv", setenv("LIBC_NEW", "new", 1) == 0 && putenv(put) == 0 &&
		 strcmp(getenv("LIBC_NEW"), "new") == 0 && getenv("LIBC_PUT") == put + 9);
	for (char **e = environ; *e; e++)
		seen += strncmp(*e, "LIBC_", 5) == 0;
	lc_check("unsetenv, environ", seen == 3 && unsetenv("LIBC_NEW") == 0 &&
		 getenv("LIBC_NEW") == NULL && setenv("", "x", 1) == -1 && errno == EINVAL);
}

static int exit_order;

static void second_handler(void)
{
	exit_order = exit_order * 10 + 2;
}

static void first_handler(void)
{
	exit_order = exit_order * 10 + 1;
	lc_check("atexit handlers run last registered first", exit_order == 21);
}

static sigjmp_buf abort_jmp;
static volatile int sigs_seen;

static void on_abrt(int sig)
{
	sigs_seen++;
	siglongjmp(abort_jmp, sig);
}

static void on_usr1(int sig)
{
	sigs_seen += sig == SIGUSR1 ? 10 : 1000;
}

static void signal_checks(void)
{
	struct sigaction sa = { .sa_handler = on_abrt }, cur;

	sigaction(SIGABRT, &sa, NULL);
	if (sigsetjmp(abort_jmp, 1) == 0)
		abort();
	lc_check("abort() runs the SIGABRT handler, which leaves by siglongjmp",
		 sigs_seen == 1 && sigaction(SIGABRT, NULL, &cur) == 0 && cur.sa_handler == on_abrt);
	signal(SIGABRT, SIG_DFL);
	signal(SIGUSR1, on_usr1);
	lc_check("raise runs the handler before it returns", raise(SIGUSR1) == 0 && sigs_seen == 11);
	signal(SIGUSR1, SIG_DFL);
}

static void spawn_checks(void)
{
	char *argv[] = { "true", NULL };
	wordexp_t we;
	pid_t pid;
	int rc, st;

	errno = 0;
	st = system("true");
	printf("  system: %d, errno %d (%s)\n", st, errno, strerror(errno));
	lc_check("system(): -1, ENOSYS", st == -1 && errno == ENOSYS);
	errno = 0;
	lc_check("popen(): NULL, ENOSYS", popen("echo hi", "r") == NULL && errno == ENOSYS);
	rc = posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ);
	lc_check("posix_spawn: ENOSYS", rc == ENOSYS);
	errno = 0;
	pid = fork();
	if (pid == 0)
		_exit(0);
	lc_check("fork: -1, ENOSYS", pid == -1 && errno == ENOSYS);
	rc = wordexp("a b", &we, 0);
	printf("  wordexp: %d\n", rc);
	lc_check("wordexp fails without a shell", rc != 0);
	lc_check("waitpid: no children, ECHILD", waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD);
}

void lc_process(void)
{
	atexit(first_handler);
	atexit(second_handler);
	sysconf_checks();
	env_checks();
	signal_checks();
	spawn_checks();
}

static int walked_files, walked_dirs, removed;

static int walk(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)path;
	(void)st;
	walked_files += type == FTW_F;
	walked_dirs += type == FTW_D || type == FTW_DP;
	removed += remove(path) == 0;
	return ftw->level > 5;
}

static int by_value(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static void tree_checks(void)
{
	char path[64];
	glob_t g;
	int fd;

	mkdir("/tmp/tree", 0755);
	mkdir("/tmp/tree/a", 0755);
	mkdir("/tmp/tree/a/b", 0755);
	for (int i = 0; i < 6; i++) {
		snprintf(path, sizeof(path), "/tmp/tree/%s/f%d.txt", i % 2 ? "a" : "a/b", i);
		close(open(path, O_CREAT | O_WRONLY, 0644));
	}
	lc_check("glob", glob("/tmp/tree/a/*.txt", 0, NULL, &g) == 0 && g.gl_pathc == 3 &&
		 strcmp(g.gl_pathv[0], "/tmp/tree/a/f1.txt") == 0);
	globfree(&g);
	lc_check("glob of nothing: GLOB_NOMATCH", glob("/tmp/tree/*.c", 0, NULL, &g) == GLOB_NOMATCH);
	lc_check("glob over /etc", glob("/etc/ho*", 0, NULL, &g) == 0 && g.gl_pathc == 1);
	globfree(&g);
	lc_check("fnmatch", fnmatch("*.t?t", "f1.txt", 0) == 0 &&
		 fnmatch("a/*", "a/b/c", FNM_PATHNAME) == FNM_NOMATCH);
	lc_check("nftw FTW_DEPTH|FTW_PHYS removes a tree",
		 nftw("/tmp/tree", walk, 8, FTW_DEPTH | FTW_PHYS) == 0 && walked_files == 6 &&
		 walked_dirs == 3 && removed == 9 && access("/tmp/tree", F_OK) == -1);
	walked_files = walked_dirs = removed = 0;
	lc_check("nftw over /proc/self", nftw("/proc/self/task", walk, 8, FTW_PHYS) == 0 &&
		 walked_dirs >= 2 && walked_files >= 3 && removed == 0);
	fd = open("/tmp", O_RDONLY);
	lc_check("dirfd-relative fstatat", fd >= 0 && fstatat(fd, "..", &(struct stat){ 0 }, 0) == 0);
	close(fd);
}

static void tempfile_checks(void)
{
	char tpl[] = "/tmp/lcXXXXXX", dtpl[] = "/tmp/ldXXXXXX", *real;
	int fd = mkstemp(tpl), sorted[64], key = 37;
	FILE *t = tmpfile();
	struct stat st;

	lc_check("mkstemp", fd >= 0 && strncmp(tpl, "/tmp/lc", 7) == 0 && strcmp(tpl + 7, "XXXXXX") &&
		 fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0600 && unlink(tpl) == 0);
	close(fd);
	lc_check("tmpfile: written, reread, unnamed", t && fputs("scratch", t) >= 0 &&
		 fseek(t, 0, SEEK_SET) == 0 && fgetc(t) == 's' &&
		 fstat(fileno(t), &st) == 0 && st.st_nlink == 0);
	fclose(t);
	lc_check("mkdtemp", mkdtemp(dtpl) && stat(dtpl, &st) == 0 && S_ISDIR(st.st_mode) &&
		 (st.st_mode & 0777) == 0700 && rmdir(dtpl) == 0);
	real = realpath("/tmp/../etc/./hosts", NULL);
	lc_check("realpath through .. and .", real && strcmp(real, "/etc/hosts") == 0);
	free(real);
	for (int i = 0; i < 64; i++)
		sorted[i] = (i * 37) % 64;
	qsort(sorted, 64, sizeof(int), by_value);
	lc_check("qsort and bsearch", sorted[0] == 0 && sorted[63] == 63 &&
		 *(int *)bsearch(&key, sorted, 64, sizeof(int), by_value) == 37);
}

void lc_files(void)
{
	tree_checks();
	tempfile_checks();
}

static char *volatile fault_page;
static volatile int faults;
static volatile uintptr_t fault_addr;
static volatile int fault_code;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	faults++;
	fault_addr = (uintptr_t)si->si_addr;
	fault_code = si->si_code;
	if (faults > 3 || mprotect(fault_page, 4096, PROT_READ | PROT_WRITE))
		_exit(99);
}

static void block_checks(void)
{
	size_t big = 64u << 20;
	char *p = malloc(big), *q;
	void *al = NULL;
	int same = 1;

	lc_check("malloc of 64 MiB", p && (memset(p, 0x5a, big), p[big - 1] == 0x5a));
	free(p);
	p = malloc(1u << 20);
	for (int i = 0; p && i < (1 << 20); i += 4096)
		p[i] = (char)(i >> 12);
	q = p ? realloc(p, 24u << 20) : NULL;
	for (int i = 0; q && i < (1 << 20); i += 4096)
		same &= q[i] == (char)(i >> 12);
	lc_check("realloc of 1 MiB to 24 MiB keeps the bytes", q && same &&
		 (q[(24u << 20) - 1] = 1));
	free(q);
	lc_check("posix_memalign", posix_memalign(&al, 4096, 10000) == 0 &&
		 ((uintptr_t)al & 4095) == 0);
	free(al);
	al = aligned_alloc(64, 640);
	lc_check("aligned_alloc", al && ((uintptr_t)al & 63) == 0);
	free(al);
	lc_check("posix_memalign with a bad alignment: EINVAL",
		 posix_memalign(&al, 24, 100) == EINVAL);
}

static __thread sigjmp_buf escape;
static __thread volatile int caught_sig, caught_code;
static __thread volatile uintptr_t caught_addr;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	caught_sig = sig;
	caught_code = si->si_code;
	caught_addr = (uintptr_t)si->si_addr;
	siglongjmp(escape, 1);
}

static int recurse(volatile char *up, int depth)
{
	volatile char pad[512];

	pad[0] = up ? up[0] + 1 : 0;
	return depth ? recurse(pad, depth - 1) + pad[1] : 0;
}

/* A thread whose stack overflows into its guard page: the handler runs
 * on the thread's alternate stack and leaves by siglongjmp. */
static void *overflow(void *arg)
{
	stack_t ss = { .ss_sp = malloc(65536), .ss_size = 65536 };

	sigaltstack(&ss, NULL);
	if (sigsetjmp(escape, 1) == 0)
		recurse(NULL, 1 << 20);
	printf("  overflow: signal %d code %d\n", caught_sig, caught_code);
	*(int *)arg = caught_sig == SIGSEGV && caught_code == SEGV_ACCERR;
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	return NULL;
}

static void trap_checks(void)
{
	struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO | SA_ONSTACK };
	volatile int zero = 0, *volatile null = NULL;
	pthread_attr_t attr;
	pthread_t t;
	int ok = 0;

	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	if (sigsetjmp(escape, 1) == 0)
		ok = *null;
	lc_check("a NULL read: SIGSEGV, SEGV_MAPERR, si_addr 0, left by siglongjmp",
		 caught_sig == SIGSEGV && caught_code == SEGV_MAPERR && caught_addr == 0);
	if (sigsetjmp(escape, 1) == 0)
		ok = 10 / zero;
	lc_check("an integer division by zero: SIGFPE, FPE_INTDIV",
		 caught_sig == SIGFPE && caught_code == FPE_INTDIV && caught_addr != 0);
	if (sigsetjmp(escape, 1) == 0)
		__builtin_trap();
	lc_check("an invalid opcode: SIGILL, ILL_ILLOPN", caught_sig == SIGILL &&
		 caught_code == ILL_ILLOPN && caught_addr != 0);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 65536);
	ok = 0;
	lc_check("a thread's stack overflow caught on its sigaltstack",
		 pthread_create(&t, &attr, overflow, &ok) == 0 && pthread_join(t, NULL) == 0 && ok);
	pthread_attr_destroy(&attr);
	signal(SIGFPE, SIG_DFL);
	signal(SIGILL, SIG_DFL);
	signal(SIGSEGV, SIG_DFL);
}

void lc_memory(void)
{
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
	char *p;

	block_checks();
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p[0] = 1;
	lc_check("madvise(MADV_DONTNEED) zeroes", madvise(p, 8192, MADV_DONTNEED) == 0 && p[0] == 0);
	lc_check("madvise(MADV_WILLNEED)", madvise(p, 8192, MADV_WILLNEED) == 0);
	fault_page = p + 4096;
	mprotect(fault_page, 4096, PROT_READ);
	sigaction(SIGSEGV, &sa, NULL);
	fault_page[100] = 42;	/* faults once; the handler makes it writable */
	lc_check("a SIGSEGV handler makes a read-only page writable",
		 faults == 1 && fault_page[100] == 42);
	lc_check("si_addr and SEGV_ACCERR", fault_addr == (uintptr_t)fault_page + 100 &&
		 fault_code == SEGV_ACCERR);
	signal(SIGSEGV, SIG_DFL);
	munmap(p, 8192);
	trap_checks();
}
