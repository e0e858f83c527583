/*
 * test_shim_fifo.c - named pipes (mkfifo: mknod S_IFIFO, pipe_fifo.c)
 * through the dispatcher: the node, opens that meet (a reader and a
 * writer share one pipe; its bytes in order, end of file after the last
 * writer), the directory listing (DT_FIFO), O_NONBLOCK (a reader at
 * once, a writer without a reader -ENXIO), a blocking open waiting for
 * its partner in another coroutine (either order), O_RDWR not waiting,
 * a pipe emptied when its last end closed, two FIFOs apart, the bad
 * access mode, the calls a FIFO refuses (directory, execute, offset
 * and size operations, names taken), and a waiting open interrupted by
 * a signal (EINTR, or restarted under SA_RESTART). What Go's os
 * TestFifoEOF does. Runs inside the scheduler where coroutines block.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <cubrt/mem.h>
#include <cubrt/sched.h>
#include "shim_impl.h"
#include "sys.h"
#include "sigrestart.h"

#define SYS_stat 4
#define SYS_pread64 17
#define SYS_access 21
#define SYS_truncate 76
#define SYS_ftruncate 77
#define SYS_chdir 80
#define SYS_fchdir 81
#define SYS_mkdir 83
#define SYS_rmdir 84
#define SYS_creat 85
#define SYS_unlink 87
#define SYS_mknod 133
#define SYS_getdents64 217
#define O_RDONLY 0
#define O_WRONLY 1
#define O_RDWR 2
#define O_CREAT 0100
#define O_EXCL 0200
#define O_TRUNC 01000
#define O_NONBLOCK 04000
#define O_DIRECTORY 0200000
#define O_PATH 010000000
#define AT_FDCWD (-100)
#define EBADF 9
#define EACCES 13
#define EEXIST 17
#define ENOTDIR 20
#define ENXIO 6
#define ENODEV 19
#define ESPIPE 29
#define S_IFIFO 0010000

static char got[64];

static void *run(void (*body)(void))
{
	void *res;

	assert_int_equal(cub_sched_run((cub_coro_fn)(void *)body, NULL, &res), 0);
	return res;
}

static long open_fifo(const char *path, long flags)
{
	return SYS3(SYS_open, path, flags, 0);
}

/* Whether dir lists name with d_type DT_FIFO (1). */
static bool listed_as_fifo(const char *dir, const char *name)
{
	static char ents[4096];
	int d = (int)SYS2(SYS_open, dir, 0200000);		/* O_DIRECTORY */
	long n = SYS3(SYS_getdents64, d, ents, sizeof(ents));
	bool found = false;

	for (long at = 0; at < n; ) {
		uint16_t reclen;

		memcpy(&reclen, ents + at + 16, 2);
		if (!strcmp(ents + at + 19, name))
			found = ents[at + 18] == 1;
		at += reclen;
	}
	SYS1(SYS_close, d);
	return found;
}

/* The node, and a reader and a writer opened without waiting. */
static void basics_body(void)
{
	struct kstat st;
	int r, w, w2;

	assert_int_equal(SYS3(SYS_mknod, "/ff", S_IFIFO | 0600, 0), 0);
	assert_int_equal(SYS2(SYS_stat, "/ff", &st), 0);
	assert_int_equal(st.mode, S_IFIFO | 0600);
	assert_int_equal(st.size, 0);
	assert_int_equal(open_fifo("/ff", O_WRONLY | O_NONBLOCK), -ENXIO);
	r = (int)open_fifo("/ff", O_RDONLY | O_NONBLOCK);
	assert_true(r >= 3);
	assert_int_equal(SYS3(SYS_read, r, got, 10), 0);	/* no writer: EOF */
	w = (int)open_fifo("/ff", O_WRONLY | O_NONBLOCK);
	assert_true(w > r);
	assert_int_equal(SYS3(SYS_read, r, got, 10), -CUB_EAGAIN);
	assert_int_equal(SYS3(SYS_write, w, "first ", 6), 6);
	w2 = (int)open_fifo("/ff", O_WRONLY);			/* a reader: no wait */
	assert_int_equal(SYS3(SYS_write, w2, "second", 6), 6);
	assert_int_equal(SYS2(SYS_fstat, w2, &st), 0);
	assert_int_equal(st.mode & 0170000, S_IFIFO);
	assert_int_equal(SYS3(SYS_read, r, got, sizeof(got)), 12);
	assert_memory_equal(got, "first second", 12);
	assert_int_equal(SYS1(SYS_close, w), 0);
	assert_int_equal(SYS3(SYS_read, r, got, 10), -CUB_EAGAIN);	/* w2 left */
	assert_int_equal(SYS1(SYS_close, w2), 0);
	assert_int_equal(SYS3(SYS_read, r, got, 10), 0);		/* EOF */
	assert_int_equal(SYS1(SYS_close, r), 0);
	assert_int_equal(open_fifo("/ff", 3), -CUB_EINVAL);
	assert_true(listed_as_fifo("/", "ff"));			/* getdents64 */
	assert_int_equal(SYS1(SYS_unlink, "/ff"), 0);
}

static void test_fifo_basics(void **state)
{
	(void)state;
	run(basics_body);
}

/* What the last close leaves: nothing; and two FIFOs are two pipes. */
static void afresh_body(void)
{
	int a, b, rb;

	assert_int_equal(SYS3(SYS_mknod, "/fa", S_IFIFO | 0644, 0), 0);
	assert_int_equal(SYS3(SYS_mknod, "/fb", S_IFIFO | 0644, 0), 0);
	a = (int)open_fifo("/fa", O_RDWR);			/* never waits */
	assert_true(a >= 3);
	assert_int_equal(SYS3(SYS_write, a, "left", 4), 4);
	rb = (int)open_fifo("/fb", O_RDONLY | O_NONBLOCK);
	b = (int)open_fifo("/fb", O_WRONLY);
	assert_int_equal(SYS3(SYS_read, rb, got, 10), -CUB_EAGAIN);	/* not /fa's */
	assert_int_equal(SYS1(SYS_close, a), 0);		/* /fa's bytes go */
	a = (int)open_fifo("/fa", O_RDWR);
	assert_int_equal(SYS2(SYS_fcntl, a, 3) & O_NONBLOCK, 0);
	assert_int_equal(SYS3(SYS_fcntl, a, 4, O_RDWR | O_NONBLOCK), 0);
	assert_int_equal(SYS3(SYS_read, a, got, 10), -CUB_EAGAIN);
	assert_int_equal(SYS1(SYS_close, a), 0);
	assert_int_equal(SYS1(SYS_close, b), 0);
	assert_int_equal(SYS1(SYS_close, rb), 0);
}

static void test_fifo_afresh(void **state)
{
	(void)state;
	run(afresh_body);
}

/* What a FIFO is not: a directory (open with O_DIRECTORY, a path
 * through it, chdir, rmdir, getdents64 and openat on its descriptor:
 * -ENOTDIR), a program (access X_OK without an execute bit: -EACCES),
 * a file with offsets or a size (lseek, pread64 -ESPIPE; truncate,
 * ftruncate -EINVAL and the node's size stays 0; mmap -ENODEV), a new name (mkdir, mknod, O_EXCL:
 * -EEXIST). O_CREAT and O_TRUNC open it as it is; O_PATH names it
 * without waiting for a partner or counting as one. Linux's answers. */
static void bad_body(void)
{
	struct kstat st;
	int r, p, w;

	assert_int_equal(SYS3(SYS_mknod, "/fx", S_IFIFO | 0600, 0), 0);
	assert_int_equal(open_fifo("/fx", O_RDONLY | O_DIRECTORY), -ENOTDIR);
	assert_int_equal(open_fifo("/fx/a", O_RDONLY | O_CREAT), -ENOTDIR);
	assert_int_equal(SYS2(SYS_mkdir, "/fx/d", 0755), -ENOTDIR);
	assert_int_equal(SYS1(SYS_chdir, "/fx"), -ENOTDIR);
	assert_int_equal(SYS1(SYS_rmdir, "/fx"), -ENOTDIR);
	assert_int_equal(SYS2(SYS_mkdir, "/fx", 0755), -EEXIST);
	assert_int_equal(SYS3(SYS_mknod, "/fx", S_IFIFO | 0600, 0), -EEXIST);
	assert_int_equal(open_fifo("/fx", O_RDONLY | O_CREAT | O_EXCL), -EEXIST);
	assert_int_equal(SYS2(SYS_access, "/fx", 1), -EACCES);	/* X_OK */
	assert_int_equal(SYS2(SYS_access, "/fx", 6), 0);	/* R_OK | W_OK */
	assert_int_equal(SYS2(SYS_truncate, "/fx", 0), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_truncate, "/fx", 10), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_stat, "/fx", &st), 0);
	assert_int_equal(st.size, 0);				/* no bytes of its own */
	/* O_TRUNC truncates nothing and O_CREAT makes nothing: a writer
	 * without a reader is still refused. */
	assert_int_equal(open_fifo("/fx", O_WRONLY | O_NONBLOCK | O_TRUNC | O_CREAT), -ENXIO);

	p = (int)open_fifo("/fx", O_PATH);		/* no partner needed */
	assert_true(p >= 3);
	assert_int_equal(SYS3(SYS_read, p, got, 1), -EBADF);
	assert_int_equal(open_fifo("/fx", O_WRONLY | O_NONBLOCK), -ENXIO);	/* no reader */
	r = (int)open_fifo("/fx", O_RDONLY | O_NONBLOCK | O_CREAT);
	assert_true(r > p);
	assert_int_equal(SYS3(SYS_read, r, got, 1), 0);		/* no writer */
	assert_int_equal(SYS3(SYS_lseek, r, 0, 0), -ESPIPE);
	assert_int_equal(SYS4(SYS_pread64, r, got, 1, 0), -ESPIPE);
	assert_int_equal(SYS3(SYS_getdents64, r, got, sizeof(got)), -ENOTDIR);
	assert_int_equal(SYS1(SYS_fchdir, r), -ENOTDIR);
	assert_int_equal(SYS4(SYS_openat, r, "a", O_RDONLY, 0), -ENOTDIR);
	assert_int_equal(SYS6(SYS_mmap, 0, 4096, 1, 1 /* MAP_SHARED */, r, 0), -ENODEV);
	w = (int)open_fifo("/fx", O_WRONLY | O_TRUNC);	/* a reader: no wait */
	assert_true(w > r);
	assert_int_equal(SYS2(SYS_ftruncate, w, 0), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_write, w, "ab", 2), 2);
	assert_int_equal(SYS3(SYS_read, r, got, sizeof(got)), 2);
	assert_int_equal(SYS1(SYS_close, w), 0);
	assert_int_equal(SYS1(SYS_close, r), 0);
	assert_int_equal(SYS1(SYS_close, p), 0);
	assert_int_equal(SYS1(SYS_unlink, "/fx"), 0);
}

static void test_fifo_bad(void **state)
{
	(void)state;
	run(bad_body);
}

/* A blocking open of one end waits in its coroutine until the other
 * end's open; then the bytes flow and the writer's close is EOF. */
static volatile int opened;

static void *reader(void *arg)
{
	int r = (int)open_fifo(arg, O_RDONLY);
	long n, total = 0;

	opened = r;
	while ((n = SYS3(SYS_read, r, got + total, sizeof(got) - (size_t)total)) > 0)
		total += n;
	assert_int_equal(n, 0);
	assert_int_equal(SYS1(SYS_close, r), 0);
	return (void *)total;
}

static void *writer(void *arg)
{
	int w = (int)open_fifo(arg, O_WRONLY);

	opened = w;
	assert_int_equal(SYS3(SYS_write, w, "hello\nworld\n", 12), 12);
	assert_int_equal(SYS1(SYS_close, w), 0);
	return NULL;
}

static void meet_body(void)
{
	struct cub_coro *c;
	void *res;
	int w, r;

	assert_int_equal(SYS3(SYS_mknod, "/fm", S_IFIFO | 0600, 0), 0);
	opened = 0;					/* the reader first */
	assert_int_equal(cub_coro_spawn(&c, reader, "/fm", NULL), 0);
	for (int i = 0; i < 5; i++)
		cub_coro_yield();
	assert_int_equal(opened, 0);			/* waiting for a writer */
	w = (int)open_fifo("/fm", O_WRONLY);
	assert_true(w >= 3);
	assert_int_equal(SYS3(SYS_write, w, "hello\nworld\n", 12), 12);
	assert_int_equal(SYS1(SYS_close, w), 0);
	assert_int_equal(cub_coro_join(c, &res), 0);
	assert_int_equal((long)res, 12);
	assert_memory_equal(got, "hello\nworld\n", 12);
	opened = 0;					/* the writer first */
	assert_int_equal(cub_coro_spawn(&c, writer, "/fm", NULL), 0);
	for (int i = 0; i < 5; i++)
		cub_coro_yield();
	assert_int_equal(opened, 0);			/* waiting for a reader */
	r = (int)open_fifo("/fm", O_RDONLY);
	assert_true(r >= 3);
	assert_int_equal(cub_coro_join(c, NULL), 0);
	memset(got, 0, sizeof(got));
	assert_int_equal(SYS3(SYS_read, r, got, sizeof(got)), 12);
	assert_int_equal(SYS3(SYS_read, r, got, sizeof(got)), 0);
	assert_int_equal(SYS1(SYS_close, r), 0);
}

static void test_fifo_meet(void **state)
{
	(void)state;
	run(meet_body);
}

/* An open waiting for its partner, interrupted by a signal with a
 * handler: -EINTR, and when the handler returns (the platform delivers
 * at the call's return with rax = its result, rt_sigreturn gives the
 * context back) the program resumes past the call with rax -EINTR, or
 * with SA_RESTART at its `syscall` again with rax its number, as
 * Linux's fifo_open restarts (signal(7)). The interrupted end is gone;
 * the restarted call, run from the registers given back, meets its
 * partner. open, openat and creat, for reading and for writing
 * (sigrestart.h). */
/* No end of "/fr" is left open: no reader (a lone writer -ENXIO), no
 * writer (a reader reads end of file). */
static void no_ends_left(void)
{
	int r;

	assert_int_equal(open_fifo("/fr", O_WRONLY | O_NONBLOCK), -ENXIO);
	r = (int)open_fifo("/fr", O_RDONLY | O_NONBLOCK);
	assert_true(r >= 3);
	assert_int_equal(SYS3(SYS_read, r, got, 1), 0);
	assert_int_equal(SYS1(SYS_close, r), 0);
}

/* Runs the call the context given back restarts, from its registers,
 * until the partner that main opens (the other access mode) comes. */
static void restarted_meets(const struct cubi_sigctx *back, bool reads)
{
	struct sys_call again = sys_call_again(back);
	struct cub_coro *co;
	void *res;
	int mine, theirs;

	assert_int_equal(cub_coro_spawn(&co, sys_call_run, &again, NULL), 0);
	for (int i = 0; i < 3; i++)
		cub_coro_yield();
	mine = (int)open_fifo("/fr", reads ? O_WRONLY : O_RDONLY);
	assert_true(mine >= 3);
	assert_int_equal(cub_coro_join(co, &res), 0);
	assert_true((long)res >= 3);
	theirs = (int)(long)res;
	assert_int_equal(SYS3(SYS_write, reads ? mine : theirs, "x", 1), 1);
	assert_int_equal(SYS3(SYS_read, reads ? theirs : mine, got, sizeof(got)), 1);
	assert_int_equal(SYS1(SYS_close, theirs), 0);
	assert_int_equal(SYS1(SYS_close, mine), 0);
}

static void restart_body(void)
{
	const struct sys_call calls[] = {
		{ SYS_open, { (long)"/fr", O_RDONLY } },
		{ SYS_openat, { AT_FDCWD, (long)"/fr", O_WRONLY } },
		{ SYS_creat, { (long)"/fr", 0600 } },		/* a writer */
		{ SYS_openat, { AT_FDCWD, (long)"/fr", O_RDONLY } },
	};

	/* The program's thread (tid 1, which the coroutines share) is made
	 * by the first call that needs it; signals reach no one before. */
	assert_int_equal(SYS0(SYS_gettid), 1);
	assert_int_equal(SYS3(SYS_mknod, "/fr", S_IFIFO | 0600, 0), 0);
	for (int restart = 1; restart >= 0; restart--) {
		set_usr1_handler(restart);
		for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
			const struct sys_call *c = &calls[i];
			bool reads = c->nr != SYS_creat &&
				     (c->nr == SYS_open ? c->a[1] : c->a[2]) == O_RDONLY;
			long rc = sys_call_interrupted(c);
			struct cubi_sigctx back;

			assert_int_equal(rc, -CUB_EINTR);
			back = sys_call_handled(c, rc);
			no_ends_left();
			if (!restart) {
				assert_int_equal(back.rip, AFTER_CALL);
				assert_int_equal(back.rax, (uint64_t)-CUB_EINTR);
				continue;
			}
			assert_int_equal(back.rip, AFTER_CALL - 2);
			assert_int_equal(back.rax, c->nr);
			restarted_meets(&back, reads);
			no_ends_left();
		}
	}
	assert_int_equal(SYS1(SYS_unlink, "/fr"), 0);
}

static void test_fifo_open_restart(void **state)
{
	(void)state;
	run(restart_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_basics),
		cmocka_unit_test(test_fifo_afresh),
		cmocka_unit_test(test_fifo_meet),
		cmocka_unit_test(test_fifo_bad),
		cmocka_unit_test(test_fifo_open_restart),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
