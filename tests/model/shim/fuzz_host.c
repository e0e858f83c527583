/*
 * fuzz_host.c - the syscall fuzzer (fuzz_syscalls.c) on the host: its
 * threads are cubrt coroutines calling cub_shim_call, user memory is
 * the host port's (platform/host/mem.c: checked by process_vm_readv
 * probes, "page tables" on a memfd), and the runtime's console is
 * captured so that a panic's report can be shown at the end.
 *
 * usage: fuzz_syscalls [SEED [OPS]]   (also CUBRT_SEED); prints the seed.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cubrt/mem.h>
#include <cubrt/sched.h>
#include <cubrt/shim.h>

#include "fuzz.h"
#include "host.h"
#include "procfs.h"
#include "shim_impl.h"

static char console[1 << 16];

long fuzz_call(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
	return cub_shim_call(nr, a0, a1, a2, a3, a4, a5);
}

void fuzz_yield(void)
{
	cub_coro_yield();
}

void fuzz_calling(int idx, long nr, const long a[6])
{
	(void)idx, (void)nr, (void)a;
}

void fuzz_called(int idx, long done)
{
	(void)idx;
	if (done % 1024 == 0)	/* room for a final report */
		cubi_host_capture_console(console, sizeof(console));
}

/* Nothing of the harness is in the shim's reach here: its memory and
 * coroutines are the host process's own. */
bool fuzz_plat_steer(int idx, long nr, long a[6])
{
	(void)idx, (void)nr, (void)a;
	return true;
}

void fuzz_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static void *run_all(void *unused)
{
	struct cub_coro *t[FUZZ_THREADS];

	(void)unused;
	cubi_fs_lock();			/* /dev and /proc, as a program has */
	cubi_dev_populate(cubi_ramfs_root());
	cubi_procfs_populate(cubi_ramfs_root());
	cubi_fs_unlock();
	for (long i = 0; i < FUZZ_THREADS; i++)
		cub_coro_spawn(&t[i], fuzz_thread, (void *)i, NULL);
	for (int i = 0; i < FUZZ_THREADS; i++)
		cub_coro_join(t[i], NULL);
	return NULL;
}

/* The runtime ended the run (a panic, a fault, a deadlock report): its
 * report went to the captured console, so show the end of that. */
static void ended(int status)
{
	size_t len = strlen(console);
	const char *tail = console + (len > 2048 ? len - 2048 : 0);

	cubi_host_capture_console(NULL, 0);
	fprintf(stderr, "fuzz_syscalls: the runtime exited with status %d (seed %llu); "
		"the captured console ends:\n%s\n", status, (unsigned long long)fuzz_seed, tail);
	_exit(status);
}

/* A 64 KiB scratch disk for /dev/vda (the host port's disks are the
 * files CUBRT_HOST_DISK names). 0 or -1. */
static char disk_path[] = "/tmp/fuzzdiskXXXXXX";

static int make_disk(void)
{
	int fd = mkstemp(disk_path);

	if (fd < 0 || ftruncate(fd, 64 * 1024) || close(fd))
		return -1;
	return setenv("CUBRT_HOST_DISK", disk_path, 1);
}

int main(int argc, char **argv)
{
	const char *env = getenv("CUBRT_SEED");
	unsigned char *area;

	fuzz_seed = argc > 1 ? strtoull(argv[1], NULL, 0) : env ? strtoull(env, NULL, 0)
			     : (uint64_t)time(NULL);
	if (argc > 2)
		fuzz_ops = strtoull(argv[2], NULL, 0);
	printf("fuzz_syscalls: seed %llu, %llu calls from %d threads, demand paging %s "
	       "(reproduce: %s %llu)\n", (unsigned long long)fuzz_seed,
	       (unsigned long long)fuzz_ops, FUZZ_THREADS, fuzz_seed & 1 ? "on" : "off", argv[0],
	       (unsigned long long)fuzz_seed);
	fflush(stdout);
	/* [scratch][guard][read-only page][guard] */
	area = mmap(NULL, FUZZ_AREA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED || mprotect(area + FUZZ_SCRATCH, 4096, PROT_NONE) ||
	    mprotect(area + FUZZ_SCRATCH + 4096, 4096, PROT_READ) ||
	    mprotect(area + FUZZ_SCRATCH + 2 * 4096, 4096, PROT_NONE))
		return 2;
	fuzz_scratch = area;
	fuzz_readonly = area + FUZZ_SCRATCH + 4096;
	if (make_disk())
		return 2;
	cubi_mem_init();
	/* Odd seeds run with demand paging, as on bare metal: the calls must
	 * page in what they touch (the harness never touches the shim's
	 * mappings itself, and the host serves no page fault). */
	cubi_mm_set_demand(fuzz_seed & 1);
	cubi_host_capture_console(console, sizeof(console));	/* random writes */
	cubi_host_set_exit_hook(ended);
	fuzz_quiet_signals();
	cub_sched_run(run_all, NULL, NULL);
	cubi_host_set_exit_hook(NULL);
	cubi_host_capture_console(NULL, 0);
	unlink(disk_path);
	printf("fuzz_syscalls: %ld calls, %ld invalid results, %ld path calls "
	       "succeeded, %u mappings made (%u of files)\n", fuzz_done, fuzz_bad, fuzz_fs_ok,
	       fuzz_n_map, fuzz_n_shared);
	return fuzz_bad ? 1 : 0;
}
