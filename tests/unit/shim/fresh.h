/*
 * fresh.h - what the file-system tests share (test_shim_fs.c,
 * test_shim_unix.c): run a test body in a coroutine (the fs lock is a
 * coroutine mutex) on an emptied tree with the working directory "/".
 * Every file of the previous body must be closed. Include after cmocka.h
 * and sys.h.
 */
#ifndef CUBRT_TEST_SHIM_FRESH_H
#define CUBRT_TEST_SHIM_FRESH_H

#include <cubrt/sched.h>

#include "procfs.h"
#include "shim_impl.h"

#define SYS_chdir 80
#define SYS_mkdir 83

static void (*fresh_body)(void);
static bool fresh_dev;		/* also /dev's devices */

static inline void *fresh_then_body(void *arg)
{
	(void)arg;
	assert_int_equal(SYS1(SYS_chdir, "/"), 0);
	cubi_fs_lock();
	cubi_ramfs_reset();
	if (fresh_dev)
		cubi_dev_populate(cubi_ramfs_root());
	cubi_fs_unlock();
	fresh_body();
	return NULL;
}

/* Runs body on an emptied tree (dev: with /dev's devices in it). */
static inline void run_fresh(void (*body)(void), bool dev)
{
	void *res;

	fresh_body = body;
	fresh_dev = dev;
	assert_int_equal(cub_sched_run(fresh_then_body, NULL, &res), 0);
}

static void (*fresh_proc_body)(void);

static inline void fresh_with_proc(void)
{
	struct cubi_proc_image pi = { .exe = "prog" };

	cubi_fs_lock();
	cubi_procfs_populate(cubi_ramfs_root());
	cubi_fs_unlock();
	cubi_procfs_set_program(&pi);
	assert_int_equal(SYS2(SYS_mkdir, "/tmp", 01777), 0);
	fresh_proc_body();
}

/* Runs body on an emptied tree with /dev, /proc (the program "prog")
 * and /tmp. */
static inline void run_fresh_proc(void (*body)(void))
{
	fresh_proc_body = body;
	run_fresh(fresh_with_proc, true);
}

#endif
