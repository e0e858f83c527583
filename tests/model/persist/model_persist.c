/*
 * model_persist.c - randomized model test of the persisted directory
 * (CUBRT_PERSIST=vda:/data; src/shim/persist*.c, docs/shim.md "Files
 * that survive a reboot", docs/blk.md for the slots) under crashes.
 *
 * Each round takes a blank disk of random size (odd sizes too) and
 * request limit (crashdisk.h, a fake disk at the arch level), boots
 * (cubi_persist_up, as start.c does), then runs random file-system
 * changes under /data through the system calls (files written with
 * random bytes and modes, directories made and removed, symbolic links,
 * hard links (a file's several names, written and chmodded through any
 * of them), unlinks, renames of files, links and whole directories,
 * chmod),
 * mirrored in a shadow tree (shadow.h), and snapshots (fsync inside,
 * sync, syncfs, cubi_persist_sync). A snapshot may crash: only its
 * first k sector writes reach the disk, in order, the last possibly
 * torn (its first bytes new, the rest old). After every crash, and now
 * and then after a completed snapshot, the machine "reboots" (the tree
 * emptied, cubi_persist_up again) and the tree restored under /data is
 * read back and compared with the model:
 *  - after a completed snapshot: exactly the tree of that snapshot;
 *  - after a crash: exactly the tree of the last completed snapshot,
 *    unless every write of the crashed snapshot reached the disk whole
 *    (then exactly the crashed snapshot's tree: it completed on the
 *    disk, only its caller never learnt it);
 *  - when no snapshot ever completed: the blank tree, the console
 *    saying "blank"; never "no persistence" (an error) and never a mix.
 * Also, now and then, one random byte of the disk is changed outside
 * any write and the machine rebooted: the restored tree is exactly the
 * last completed one when the byte lies outside the sectors that
 * snapshot wrote, and otherwise one of the last two completed ones or
 * blank; the byte is then put back.
 *
 * usage: model_persist [SEED [ROUNDS]]   (also CUBRT_SEED, CUBRT_OPS);
 * the seed is printed, and a failure names the round and the step.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cubrt/sched.h>

#include "../model_args.h"
#include "crashdisk.h"
#include "host.h"
#include "persist.h"
#include "shadow.h"
#include "sys.h"

#define SYS_rename 82
#define SYS_mkdir 83
#define SYS_rmdir 84
#define SYS_link 86
#define SYS_unlink 87
#define SYS_symlink 88
#define SYS_chmod 90
#define SYS_fsync 74
#define SYS_sync 162
#define SYS_syncfs 306
#define O_WRONLY 1
#define O_CREAT 0100
#define O_TRUNC 01000
#define O_DIRECTORY 0200000
#define STEPS 120

static uint64_t rng, seed, rounds = 300;
static unsigned round_no, step;
static char console[4096];
static char *env[] = { "HOME=/", "CUBRT_PERSIST=vda:/data", NULL };

/* The model: the tree now, the last two completed snapshots' trees,
 * the tree read back; the sectors the last completed snapshot wrote. */
static struct sh_tree now, last, before, got;
static bool last_wrote[CD_SECTORS_MAX];
static uint64_t completed, total_completed, crashes, crash_cut, crash_landed, flips, reboots, nospc;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static void fail(const char *why)
{
	printf("model_persist: FAILED: %s (seed %llu, round %u, step %u)\n", why,
	       (unsigned long long)seed, round_no, step);
	sh_print("expected (last completed)", &last);
	sh_print("one before", &before);
	sh_print("restored", &got);
	exit(1);
}

static void check(bool ok, const char *why)
{
	if (!ok)
		fail(why);
}

/* ------------------------------------------------------------ changes */

/* A random relative path ("a", "a/b", "a/b/c") whose parent is a
 * directory of the model, or NULL. */
static const char *pick(char *buf, unsigned depth_max)
{
	unsigned depth = 1 + rnd(depth_max);

	buf[0] = 0;
	for (unsigned i = 0; i < depth; i++) {
		if (i && !sh_is(&now, buf, CUBI_S_IFDIR))
			return NULL;
		sprintf(buf + strlen(buf), "%s%c", i ? "/" : "", 'a' + rnd(8));
	}
	return buf;
}

/* "/data/" + rel */
static const char *abs_of(const char *rel, char *buf)
{
	snprintf(buf, 40, "/data/%s", rel);
	return buf;
}

static uint64_t next_id = 1ull << 48;	/* above any inode number */

/* Sets every name of e's file (e's id) to e's mode and bytes. */
static void sync_names(const struct sh_ent *e)
{
	for (unsigned i = 0; i < now.n; i++)
		if (&now.e[i] != e && now.e[i].id == e->id) {
			now.e[i].mode = e->mode;
			now.e[i].len = e->len;
			memcpy(now.e[i].data, e->data, e->len);
		}
}

static void write_file(const char *p, struct sh_ent *e)
{
	static const uint32_t modes[] = { 0600, 0644, 0755, 0400, 0640 };
	static uint8_t data[SH_DATA];
	size_t len = rnd(4) ? rnd(200) : rnd(SH_DATA + 1);
	uint32_t mode = modes[rnd(5)];
	char a[40];
	long fd;

	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)rnd(256);
	fd = SYS3(SYS_open, abs_of(p, a), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	check(fd >= 0, "open for writing failed");
	check(SYS3(SYS_write, fd, data, len) == (long)len, "write failed");
	check(SYS2(SYS_chmod, a, mode) == 0, "chmod failed");
	SYS1(SYS_close, fd);
	if (!e) {
		e = &now.e[now.n++];
		e->id = next_id++;
	}
	snprintf(e->path, SH_PATH, "%s", p);
	e->mode = CUBI_S_IFREG | mode;
	e->len = len;
	memcpy(e->data, data, len);
	sync_names(e);
}

/* Another name q (absent, its parent a directory) for file e. */
static void hard_link(struct sh_ent *e, const char *q)
{
	struct sh_ent *f = &now.e[now.n++];
	char a[40], b[40];

	check(SYS2(SYS_link, abs_of(e->path, a), abs_of(q, b)) == 0, "link failed");
	*f = *e;
	snprintf(f->path, SH_PATH, "%s", q);
}

static void make_dir(const char *p)
{
	static const uint32_t modes[] = { 0755, 0700, 0750 };
	uint32_t mode = modes[rnd(3)];
	struct sh_ent *e = &now.e[now.n++];
	char a[40];

	e->id = next_id++;
	check(SYS2(SYS_mkdir, abs_of(p, a), 0777) == 0, "mkdir failed");
	check(SYS2(SYS_chmod, a, mode) == 0, "chmod failed");
	snprintf(e->path, SH_PATH, "%s", p);
	e->mode = CUBI_S_IFDIR | mode;
	e->len = 0;
}

static void make_link(const char *p)
{
	struct sh_ent *e = &now.e[now.n++];
	char a[40];

	e->id = next_id++;
	e->len = 1 + rnd(40);
	for (size_t i = 0; i < e->len; i++)
		e->data[i] = (uint8_t)("abc./-_xyz"[rnd(10)]);
	e->data[e->len] = 0;
	check(SYS2(SYS_symlink, e->data, abs_of(p, a)) == 0, "symlink failed");
	snprintf(e->path, SH_PATH, "%s", p);
	e->mode = CUBI_S_IFLNK | 0777;
}

static bool has_children(const char *p)
{
	for (unsigned i = 0; i < now.n; i++)
		if (sh_below(now.e[i].path, p))
			return true;
	return false;
}

/* Renames p (anything) to q (absent, or a file or link replaced; a
 * rename between two names of one file changes nothing). */
static void move(const char *p, const char *q)
{
	struct sh_ent *e = sh_find(&now, q);
	char a[40], b[40], tmp[SH_PATH];
	size_t n = strlen(p);

	check(SYS2(SYS_rename, abs_of(p, a), abs_of(q, b)) == 0, "rename failed");
	if (e && e->id == sh_find(&now, p)->id)
		return;
	if (e)
		sh_remove(&now, e);
	for (unsigned i = 0; i < now.n; i++) {
		char *x = now.e[i].path;

		if (!strcmp(x, p) || sh_below(x, p)) {
			snprintf(tmp, SH_PATH, "%s%s", q, x + n);
			strcpy(x, tmp);
		}
	}
}

/* One random change the model allows (the path picked may not do). */
static void change(void)
{
	char pb[SH_PATH], qb[SH_PATH];
	const char *p = pick(pb, 3), *q = pick(qb, 3);
	struct sh_ent *e = p ? sh_find(&now, p) : NULL, *f = q ? sh_find(&now, q) : NULL;
	char a[40];

	if (!p || now.n + 1 >= SH_MAX)
		return;
	switch (rnd(9)) {
	case 0: case 1:
		if (!e || (e->mode & CUBI_S_IFMT) == CUBI_S_IFREG)
			write_file(p, e);
		break;
	case 2:
		if (!e && strlen(p) <= 3)
			make_dir(p);
		break;
	case 3:
		if (!e)
			make_link(p);
		break;
	case 4:
		if (e && (e->mode & CUBI_S_IFMT) != CUBI_S_IFDIR) {
			check(SYS1(SYS_unlink, abs_of(p, a)) == 0, "unlink failed");
			sh_remove(&now, e);
		} else if (e && !has_children(p)) {
			check(SYS1(SYS_rmdir, abs_of(p, a)) == 0, "rmdir failed");
			sh_remove(&now, e);
		}
		break;
	case 5: case 6:
		if (e && q && strcmp(p, q) && !sh_below(q, p) &&
		    (!f || ((e->mode & CUBI_S_IFMT) != CUBI_S_IFDIR &&
			    (f->mode & CUBI_S_IFMT) != CUBI_S_IFDIR)))
			move(p, q);
		break;
	case 7:
		if (e && !f && q && (e->mode & CUBI_S_IFMT) == CUBI_S_IFREG)
			hard_link(e, q);
		break;
	default:
		if (e && (e->mode & CUBI_S_IFMT) != CUBI_S_IFLNK) {
			uint32_t m = 0500 | rnd(0100) | (rnd(2) ? 0 : 022);

			check(SYS2(SYS_chmod, abs_of(p, a), m) == 0, "chmod failed");
			e->mode = (e->mode & CUBI_S_IFMT) | m;
			sync_names(e);
		}
	}
}

/* ------------------------------------------------------------- reboots */

/* What a boot does: an empty tree, then cubi_persist_up (start.c). */
static void boot(void)
{
	cubi_persist_reset();
	cubi_fs_lock();
	cubi_ramfs_reset();
	cubi_fs_unlock();
	console[0] = 0;
	cubi_host_capture_console(console, sizeof(console));
	cubi_persist_up(env);
	cubi_host_capture_console(NULL, 0);
	reboots++;
	check(cubi_persist_owns(0), "the restore failed: no persistence");
	check(!strstr(console, "no persistence"), "the console tells an error");
	check(sh_read("/data", &got), "/data cannot be read back");
}

/* The machine restarts on what the disk holds; got is what came back,
 * and the model's tree becomes it. The console says "blank" exactly
 * when no snapshot completed (or, blank_ok, a changed byte spoilt the
 * only one). */
static void reboot(bool blank_ok)
{
	bool blank;

	cd_reboot();
	boot();
	blank = strstr(console, "vda blank: /data empty") != NULL;
	check(!blank || got.n == 0, "blank told, yet a tree restored");
	check(blank == (completed == 0) || (blank_ok && blank),
	      "blank told for a disk holding a snapshot, or the other way");
	now = got;
}

/* ----------------------------------------------------------- snapshots */

/* The archive's length now (the sectors a snapshot writes follow). */
static long archive_len(void)
{
	struct cubi_rnode *d;
	long n = -1;

	cubi_fs_lock();
	if (!cubi_ramfs_lookup(cubi_ramfs_root(), "data", 4, &d))
		n = cubi_cpio_write(d, NULL, 0, NULL);
	cubi_fs_unlock();
	return n;
}

/* A file of the model, or the directory itself. */
static const char *sync_target(char *buf)
{
	for (unsigned i = 0; i < now.n; i++)
		if ((now.e[i].mode & CUBI_S_IFMT) == CUBI_S_IFREG && rnd(2))
			return abs_of(now.e[i].path, buf);
	return "/data";
}

/* One of the sync points: sync, fsync or syncfs of something inside,
 * or the call they make. sync(2) returns 0 whatever happened (its
 * failure is told on the console): *quiet then. */
static long sync_point(bool *quiet)
{
	char a[40];
	long fd, rc;

	*quiet = false;
	switch (rnd(4)) {
	case 0:
		*quiet = true;
		return SYS0(SYS_sync);
	case 1:
		return cubi_persist_sync();
	default:
		fd = SYS2(SYS_open, sync_target(a), 0);
		check(fd >= 0, "open /data failed");
		rc = SYS1(rnd(2) ? SYS_fsync : SYS_syncfs, fd);
		SYS1(SYS_close, fd);
		return rc;
	}
}

/* The snapshot completed on the disk: the model's history moves on
 * (unless it wrote nothing: the tree had not changed). */
static void completed_now(uint64_t writes_before)
{
	if (cd_writes == writes_before)
		return;
	before = last;
	last = now;
	memcpy(last_wrote, cd_hit, sizeof(last_wrote));
	completed++;
	total_completed++;
}

static void snapshot(void)
{
	long n = archive_len(), rc;
	uint64_t w = cd_writes, sectors = (uint64_t)(n + CD_SECTOR - 1) / CD_SECTOR + 1;
	bool crash = rnd(4) == 0 || (rnd(3) && !sh_equal(&now, &last)), quiet;

	check(n >= 0, "the archive cannot be measured");
	memset(cd_hit, 0, sizeof(cd_hit));
	if (crash)
		cd_crash_after(rnd((uint32_t)sectors + 1), rnd(2) ? 1 + rnd(CD_SECTOR - 1) : 0);
	rc = sync_point(&quiet);
	if ((uint64_t)n > (cd_sectors / 2 - 1) * CD_SECTOR) {
		check(rc == (quiet ? 0 : -CUB_ENOSPC) && cd_writes == w,
		      "an oversize snapshot was written");
		nospc++;
	} else {
		check(rc == 0, "a snapshot failed");
	}
	if (!crash) {
		completed_now(w);
		if (rnd(3) == 0) {
			reboot(false);
			check(sh_equal(&got, &last), "not the last completed snapshot");
		}
		return;
	}
	crashes++;
	if (cd_all_landed() && cd_writes != w) {
		crash_landed++;
		completed_now(w);
	} else if (cd_writes != w) {
		crash_cut++;
	}
	reboot(false);
	check(sh_equal(&got, &last), "after a crash: not the last completed snapshot");
}

/* One byte of the disk changed outside any write, a reboot, the byte
 * put back and another reboot. */
static void flip(void)
{
	size_t off = rnd((uint32_t)(cd_sectors * CD_SECTOR));
	uint8_t old = cd_disk[off];

	flips++;
	cd_disk[off] ^= (uint8_t)(1 + rnd(255));
	reboot(true);
	if (!last_wrote[off / CD_SECTOR])
		check(sh_equal(&got, &last), "a byte outside the newest snapshot changed it");
	else
		check(sh_equal(&got, &last) || sh_equal(&got, &before) || got.n == 0,
		      "a changed byte gave a tree that was never completed");
	cd_disk[off] = old;
	reboot(false);
	check(sh_equal(&got, &last), "the byte put back: not the last completed snapshot");
}

/* ---------------------------------------------------------------- runs */

static void *round_task(void *arg)
{
	(void)arg;
	cd_reset(rnd(4) ? 8 + rnd(CD_SECTORS_MAX - 8) : 8 + rnd(32),
		 rnd(2) ? 128 : 1 + rnd(8));
	completed = 0;
	last.n = before.n = 0;
	memset(last_wrote, 0, sizeof(last_wrote));
	step = 0;
	reboot(false);
	check(got.n == 0, "a blank disk restored something");
	for (step = 1; step <= STEPS; step++) {
		unsigned r = rnd(10);

		if (r < 6)
			change();
		else if (r < 9)
			snapshot();
		else if (completed)
			flip();
	}
	return NULL;
}

int main(int argc, char **argv)
{
	void *res;

	seed = model_arg(argc, argv, 1, "CUBRT_SEED", (uint64_t)time(NULL));
	rounds = model_arg(argc, argv, 2, "CUBRT_OPS", rounds);
	rng = seed * 0x9e3779b97f4a7c15ull + 1;
	printf("model_persist: seed %llu, %llu rounds\n", (unsigned long long)seed,
	       (unsigned long long)rounds);
	for (round_no = 0; round_no < rounds; round_no++)
		if (cub_sched_run(round_task, NULL, &res))
			fail("the scheduler did not run");
	printf("model_persist: ok: %llu snapshots completed, %llu crashes (%llu cut a snapshot short, %llu landed whole), "
	       "%llu bytes changed, %llu oversize, %llu reboots\n",
	       (unsigned long long)total_completed, (unsigned long long)crashes, (unsigned long long)crash_cut,
	       (unsigned long long)crash_landed, (unsigned long long)flips,
	       (unsigned long long)nospc, (unsigned long long)reboots);
	return 0;
}
