/*
 * dir_host.c - one large directory in the shim's in-memory file system
 * on the host dispatcher against Linux's tmpfs:
 *
 *   dir         in a fresh directory of the shim's /tmp: create N files
 *               (open O_CREAT|O_EXCL, close), stat each by name, unlink
 *               each, in that order
 *   linux-dir   the same in a fresh directory under /dev/shm (tmpfs)
 *
 * Every call names a file in a directory of up to N entries, so the cost
 * of finding a name in a large directory shows: O(1) a name, or O(N).
 * Prints "result: <ns> ns/op" (per create, stat or unlink: the whole run
 * over 3N) and a note per phase, for scripts/bench. N is 20,000, or the
 * second argument.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cubrt/mem.h>
#include <cubrt/sched.h>
#include <cubrt/shim.h>

#include "host_util.h"

typedef long (*sys_fn)(long nr, long a, long b, long c);

static long shim(long nr, long a, long b, long c)
{
	return cub_shim_call(nr, a, b, c, 0, 0, 0);
}

static long host(long nr, long a, long b, long c)
{
	return syscall(nr, a, b, c);
}

static sys_fn sys;
static const char *top;		/* the directory the files go in */
static long nfiles = 20000;
static double phase_ns[3];	/* create, stat, unlink */

static void name_of(char *buf, size_t cap, long i)
{
	snprintf(buf, cap, "%s/file-%06ld.o", top, i);
}

/* One phase over every file: 0 create, 1 stat, 2 unlink. */
static int phase(int what)
{
	struct stat st;
	char path[128];
	double t0 = now();

	for (long i = 0; i < nfiles; i++) {
		long rc;

		name_of(path, sizeof(path), i);
		if (what == 0) {
			rc = sys(SYS_open, (long)path, O_CREAT | O_EXCL | O_WRONLY, 0600);
			if (rc >= 0)
				rc = sys(SYS_close, rc, 0, 0);
		} else if (what == 1) {
			rc = sys(SYS_stat, (long)path, (long)&st, 0);
		} else {
			rc = sys(SYS_unlink, (long)path, 0, 0);
		}
		if (rc < 0)
			return -1;
	}
	phase_ns[what] = now() - t0;
	return 0;
}

static void *body(void *unused)
{
	(void)unused;
	sys(SYS_rmdir, (long)top, 0, 0);	/* a leftover of a killed run */
	if (sys(SYS_mkdir, (long)top, 0700, 0) < 0)
		return (void *)1;
	for (int what = 0; what < 3; what++)
		if (phase(what))
			return (void *)1;
	return sys(SYS_rmdir, (long)top, 0, 0) < 0 ? (void *)1 : NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	bool linux_peer = !strcmp(mode, "linux-dir");
	void *failed = NULL;

	if (!linux_peer && strcmp(mode, "dir")) {
		fprintf(stderr, "usage: %s dir|linux-dir [N]\n", argv[0]);
		return 2;
	}
	if (argc > 2)
		nfiles = atol(argv[2]);
	if (nfiles < 1 || nfiles > 999999) {
		fprintf(stderr, "%s: N must be 1 to 999999\n", argv[0]);
		return 2;
	}
	cubi_mem_init();
	pin_to_cpu0();
	sys = linux_peer ? host : shim;
	top = linux_peer ? "/dev/shm/cubrt-dir-bench" : "/tmp/dir-bench";
	if (linux_peer)
		failed = body(NULL);
	else
		cub_sched_run(body, NULL, &failed);
	if (failed) {
		fprintf(stderr, "%s: %s failed\n", argv[0], mode);
		return 1;
	}
	printf("note: N=%ld: create %.0f, stat %.0f, unlink %.0f ns/op\n", nfiles,
	       phase_ns[0] / nfiles, phase_ns[1] / nfiles, phase_ns[2] / nfiles);
	printf("result: %.2f ns/op\n",
	       (phase_ns[0] + phase_ns[1] + phase_ns[2]) / (3.0 * nfiles));
	return 0;
}
