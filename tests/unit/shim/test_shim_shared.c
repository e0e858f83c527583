/*
 * test_shim_shared.c - shared file mappings (src/shim/mm_file.c) and the
 * file pages under them (ramfs_pages.c) on the host: mappings, read and
 * write see the same bytes; a shrink unmaps the dropped pages of every
 * mapping (past the end: SIGBUS); the mapping outlives unlink and close
 * and frees the file at munmap (no leak); splits, mprotect, DONTNEED and
 * mremap keep the file's pages; a read-only descriptor gives no writable
 * shared mapping; shared futexes meet through two mappings; a
 * private mapping borrows the file's pages: with demand paging each
 * page is copied at its first write (the pages not written show the
 * file's later changes, DONTNEED drops the copies, munmap frees them),
 * without it mprotect to writable copies all in; a PROT_WRITE-only
 * private mapping reads its borrowed pages (found by musl_fuzz: they were
 * mapped with no access at all, and a program's read faulted forever
 * on bare metal); fallocate and MADV_REMOVE punch holes; each with
 * demand paging off (the host's mode) and on (faults played by the
 * test, as in test_shim_demand.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <cubrt/heap.h>
#include <cubrt/mem.h>
#include "sys.h"
#include "fresh.h"

#define PG 4096l
#define R 1
#define RW 3
#define SHARED 0x01
#define PRIVATE 0x02
#define SYS_pread64 17
#define SYS_pwrite64 18
#define SYS_ftruncate 77
#define SYS_unlink 87
#define SYS_fallocate 285
#define O_RDWR 2
#define O_CREAT 0100

static bool demand;

static long map(long len, long prot, long flags, int fd, long off)
{
	return SYS6(SYS_mmap, 0, len, prot, flags, fd, off);
}

/* The byte at p, as the program would read it: with demand paging the
 * test plays the fault first (cubi_mm_fault), and reports SIGBUS (-1)
 * where the page lies past the file's end. */
static int peek(long p)
{
	if (cub_vm_query((uintptr_t)p, NULL, NULL) != 0) {
		if (cubi_mm_sigbus((uintptr_t)p))
			return -1;
		assert_int_equal(cubi_mm_fault((uintptr_t)p, CUB_PROT_READ), 1);
	}
	return *(volatile unsigned char *)p;
}

/* A store at p, as the program would make it: with demand paging the
 * test plays the write fault of an absent page or of a read-only one
 * (a private mapping's page borrowed from the file gets its copy). */
static void poke(long p, char c)
{
	unsigned prot = 0;

	if (cub_vm_query((uintptr_t)p, NULL, &prot) != 0 || !(prot & CUB_PROT_WRITE))
		assert_int_equal(cubi_mm_fault((uintptr_t)p, CUB_PROT_WRITE), 1);
	*(volatile char *)p = c;
}

static int make(const char *path, long size)
{
	int fd = (int)SYS3(SYS_open, path, O_CREAT | O_RDWR, 0600);

	assert_true(fd >= 0);
	assert_int_equal(SYS2(SYS_ftruncate, fd, size), 0);
	return fd;
}

static void coherence_body(void)
{
	int fd = make("/f", 3 * PG);
	long a = map(3 * PG, RW, SHARED, fd, 0), b = map(2 * PG, RW, SHARED, fd, PG), p;
	char c = 0;

	assert_true(a > 0 && b > 0);
	poke(a + PG + 5, 'x');				/* file byte PG + 5 */
	assert_int_equal(peek(b + 5), 'x');
	assert_int_equal(SYS4(SYS_pread64, fd, &c, 1, PG + 5), 1);
	assert_int_equal(c, 'x');
	assert_int_equal(SYS4(SYS_pwrite64, fd, "w", 1, 2 * PG + 7), 1);
	assert_int_equal(peek(a + 2 * PG + 7), 'w');
	assert_int_equal(peek(b + PG + 7), 'w');
	/* A private mapping is a copy. */
	p = map(PG, RW, PRIVATE, fd, PG);
	assert_int_equal(peek(p + 5), 'x');
	poke(p + 5, 'p');
	assert_int_equal(peek(a + PG + 5), 'x');
	assert_int_equal(SYS2(SYS_munmap, p, PG), 0);
	/* The file's pages stay through mprotect, DONTNEED and a split. */
	assert_int_equal(SYS3(SYS_mprotect, a + PG, PG, 0), 0);
	assert_int_equal(SYS3(SYS_mprotect, a + PG, PG, RW), 0);
	assert_int_equal(peek(a + PG + 5), 'x');
	assert_int_equal(SYS3(SYS_madvise, a, 3 * PG, 4), 0);	/* DONTNEED */
	assert_int_equal(peek(a + PG + 5), 'x');
	assert_int_equal(SYS2(SYS_munmap, a + PG, PG), 0);	/* a hole in a */
	assert_int_equal(peek(a + 2 * PG + 7), 'w');
	assert_int_equal(peek(b + PG + 7), 'w');
	assert_int_equal(SYS2(SYS_munmap, a, 3 * PG), 0);
	assert_int_equal(SYS2(SYS_munmap, b, 2 * PG), 0);
	assert_int_equal(SYS1(SYS_close, fd), 0);
	assert_int_equal(SYS1(SYS_unlink, "/f"), 0);
}

static void shrink_body(void)
{
	int fd = make("/f", 4 * PG);
	long a = map(4 * PG, RW, SHARED, fd, 0), b, c;
	char got = 0;

	poke(a + 3 * PG, 'e');
	poke(a + 10, 's');
	assert_int_equal(SYS2(SYS_ftruncate, fd, PG + 1), 0);
	assert_false(cub_vm_query((uintptr_t)(a + 3 * PG), NULL, NULL) == 0);
	assert_int_equal(peek(a + 3 * PG), -1);			/* SIGBUS */
	assert_int_equal(peek(a + 2 * PG), -1);
	assert_int_equal(peek(a + PG + 100), 0);		/* the last page */
	assert_int_equal(peek(a + 10), 's');
	assert_int_equal(SYS2(SYS_ftruncate, fd, 4 * PG), 0);	/* zeroes again */
	assert_int_equal(peek(a + 3 * PG), 0);
	/* mremap carries the file: grown over its next pages. */
	b = SYS4(SYS_mremap, a, 2 * PG, 4 * PG, 1);
	assert_true(b > 0);
	assert_int_equal(peek(b + 10), 's');
	poke(b + 3 * PG + 1, 'm');
	assert_int_equal(SYS4(SYS_pread64, fd, &got, 1, 3 * PG + 1), 1);
	assert_int_equal(got, 'm');
	c = map(PG, R, SHARED, fd, 3 * PG);
	assert_int_equal(peek(c + 1), 'm');
	assert_int_equal(SYS2(SYS_munmap, c, PG), 0);
	assert_int_equal(SYS2(SYS_munmap, a, 4 * PG), 0);	/* what was left */
	assert_int_equal(SYS2(SYS_munmap, b, 4 * PG), 0);
	assert_int_equal(SYS1(SYS_close, fd), 0);
}

/* fallocate reserves frames and punches holes (unmapped from every
 * mapping, reading zeros after); MADV_REMOVE punches through a mapping. */
static void hole_body(void)
{
	int fd = make("/p", 4 * PG);
	long a = map(4 * PG, RW, SHARED, fd, 0);
	size_t free0 = cub_frame_free_count();
	char got[2] = { 1, 1 };

	assert_int_equal(SYS4(285, fd, 0, 0, 4 * PG), 0);	/* reserve: four */
	assert_int_equal(cub_frame_free_count(), demand ? free0 - 4 : free0);	/* (eager: */
										/* mmap did) */
	poke(a + PG + 9, 'h');
	poke(a + 2 * PG + 1, 'i');
	poke(a + 10, 'e');
	assert_int_equal(SYS4(285, fd, 3, 9, 2 * PG), 0);	/* bytes 9 .. 2 PG + 8 */
	if (demand)		/* page 1's frame went (eager: zeroed, kept) */
		assert_false(cub_vm_query((uintptr_t)(a + PG), NULL, NULL) == 0);
	assert_int_equal(peek(a + PG + 9), 0);
	assert_int_equal(peek(a + 10), 0);			/* a partial page */
	assert_int_equal(peek(a + 2 * PG + 1), 0);
	assert_int_equal(SYS4(SYS_pread64, fd, got, 2, 2 * PG + 8), 2);
	assert_int_equal(got[0], 0);
	assert_int_equal(got[1], 0);
	poke(a + 3 * PG + 3, 'r');
	assert_int_equal(SYS3(SYS_madvise, a + 3 * PG, PG, 9), 0);	/* MADV_REMOVE */
	assert_int_equal(peek(a + 3 * PG + 3), 0);
	assert_int_equal(SYS4(SYS_pread64, fd, got, 1, 3 * PG + 3), 1);
	assert_int_equal(got[0], 0);
	long anon = SYS6(SYS_mmap, 0, PG, RW, 0x22, -1, 0);
	assert_int_equal(SYS3(SYS_madvise, anon, PG, 9), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_munmap, anon, PG), 0);
	assert_int_equal(SYS2(SYS_munmap, a, 4 * PG), 0);
	assert_int_equal(SYS1(SYS_close, fd), 0);
}

/* A private mapping without PROT_WRITE borrows the file's frames (no
 * copy; the file's later writes show, as Linux shows them for pages not
 * yet copied); mprotect to writable copies them in, and from then on the
 * mapping and the file part. */
static void private_body(void)
{
	int fd = make("/v", 3 * PG);
	long a, w;
	size_t free0;
	char c = 0;

	assert_int_equal(SYS4(SYS_pwrite64, fd, "abc", 3, PG), 3);
	free0 = cub_frame_free_count();
	a = map(3 * PG, R, PRIVATE, fd, 0);
	assert_true(a > 0);
	assert_int_equal(peek(a + PG + 1), 'b');
	assert_int_equal(SYS4(SYS_pwrite64, fd, "B", 1, PG + 1), 1);
	assert_int_equal(peek(a + PG + 1), 'B');		/* the file's frame */
	assert_true(cub_frame_free_count() + 3 >= free0);	/* no copies (holes */
								/* may be filled) */
	assert_int_equal(SYS3(SYS_madvise, a, 3 * PG, 9), -CUB_EACCES);	/* REMOVE */
	assert_int_equal(SYS3(SYS_mprotect, a, 3 * PG, RW), 0);	/* copied in */
	poke(a + PG + 2, 'Z');
	assert_int_equal(SYS4(SYS_pread64, fd, &c, 1, PG + 2), 1);
	assert_int_equal(c, 'c');				/* the file keeps its */
	assert_int_equal(SYS4(SYS_pwrite64, fd, "Q", 1, PG + 1), 1);
	assert_int_equal(peek(a + PG + 1), 'B');		/* and the copy its */
	assert_int_equal(SYS2(SYS_munmap, a, 3 * PG), 0);
	/* Writable at mmap: a copy from the start. */
	w = map(PG, RW, PRIVATE, fd, PG);
	poke(w + 1, 'w');
	assert_int_equal(SYS4(SYS_pread64, fd, &c, 1, PG + 1), 1);
	assert_int_equal(c, 'Q');
	assert_int_equal(SYS2(SYS_munmap, w, PG), 0);
	/* Borrowed pages past a shrink are SIGBUS, as on Linux. */
	a = map(2 * PG, R, PRIVATE, fd, 0);
	assert_int_equal(peek(a + PG + 1), 'Q');
	assert_int_equal(SYS2(SYS_ftruncate, fd, 100), 0);
	assert_int_equal(peek(a + PG + 1), -1);
	assert_int_equal(SYS2(SYS_munmap, a, 2 * PG), 0);
	assert_int_equal(SYS1(SYS_close, fd), 0);
}

/* With demand paging a writable private mapping copies a page at its
 * first write and no sooner, as Linux does: the pages not written are
 * the file's (its later writes show), a write fault costs one frame, a
 * store the file never sees; DONTNEED drops a copy (the file's bytes
 * show again), mremap carries copies and borrowed pages alike, and
 * munmap frees every copy. */
static void cow_body(void)
{
	int fd = make("/c", 4 * PG);
	size_t free0;
	long a, b;
	char c = 0;

	assert_int_equal(SYS4(SYS_pwrite64, fd, "0123", 4, 0), 4);
	assert_int_equal(SYS4(SYS_pwrite64, fd, "abcd", 4, 2 * PG), 4);
	assert_int_equal(SYS4(SYS_fallocate, fd, 0, 0, 4 * PG), 0);	/* no holes */
	free0 = cub_frame_free_count();
	a = map(4 * PG, RW, PRIVATE, fd, 0);
	assert_true(a > 0);
	assert_int_equal(peek(a + 1), '1');
	assert_int_equal(peek(a + 2 * PG + 1), 'b');
	assert_int_equal(cub_frame_free_count(), free0);	/* borrowed, no copy */
	poke(a + 1, 'X');
	assert_int_equal(cub_frame_free_count() + 1, free0);	/* one copy */
	assert_int_equal(SYS4(SYS_pread64, fd, &c, 1, 1), 1);
	assert_int_equal(c, '1');				/* not the file's */
	assert_int_equal(SYS4(SYS_pwrite64, fd, "B", 1, 2 * PG + 1), 1);
	assert_int_equal(peek(a + 2 * PG + 1), 'B');		/* not yet written: */
	assert_int_equal(SYS4(SYS_pwrite64, fd, "Y", 1, 1), 1);	/* the file's */
	assert_int_equal(peek(a + 1), 'X');			/* written: its own */
	/* A read(2) into the mapping is a write too. */
	assert_int_equal(SYS4(SYS_pread64, fd, (void *)(a + 3 * PG), 1, 2 * PG), 1);
	assert_int_equal(peek(a + 3 * PG), 'a');
	assert_int_equal(cub_frame_free_count() + 2, free0);
	assert_int_equal(SYS4(SYS_pread64, fd, &c, 1, 3 * PG), 1);
	assert_int_equal(c, 0);
	/* DONTNEED: the copy goes, the file's byte shows. */
	assert_int_equal(SYS3(SYS_madvise, a, PG, 4), 0);
	assert_int_equal(peek(a + 1), 'Y');
	assert_int_equal(cub_frame_free_count() + 1, free0);
	/* mremap moves both kinds; the borrowed stay read-only. */
	poke(a + PG, 'm');
	b = SYS6(SYS_mremap, a, 4 * PG, 4 * PG, 1 | 2, a + 16 * PG, 0);	/* MAYMOVE|FIXED */
	assert_int_equal(b, a + 16 * PG);
	free0 = cub_frame_free_count();		/* with b's page tables */
	assert_int_equal(peek(b + PG), 'm');
	assert_int_equal(peek(b + 2 * PG + 1), 'B');
	poke(b + 2 * PG + 1, 'q');
	assert_int_equal(SYS4(SYS_pread64, fd, &c, 1, 2 * PG + 1), 1);
	assert_int_equal(c, 'B');
	assert_int_equal(cub_frame_free_count() + 1, free0);
	assert_int_equal(SYS2(SYS_munmap, b, 4 * PG), 0);
	assert_true(cub_frame_free_count() >= free0 + 2);	/* the 3 copies */
	assert_int_equal(SYS1(SYS_close, fd), 0);
	assert_int_equal(SYS1(SYS_unlink, "/c"), 0);
}

/* unlink and close while mapped: the bytes live on; munmap frees all. */
static void lifetime_body(void)
{
	struct cub_heap_stats before, after;
	size_t frames = cub_frame_free_count();
	int fd;
	long a;

	cub_heap_stats(&before);
	fd = make("/g", 2 * PG);
	a = map(2 * PG, RW, SHARED, fd, 0);
	poke(a + PG, 'k');
	assert_int_equal(SYS1(SYS_unlink, "/g"), 0);
	assert_int_equal(SYS1(SYS_close, fd), 0);
	assert_int_equal(peek(a + PG), 'k');
	assert_int_equal(SYS3(SYS_mprotect, a, PG, 0), 0);	/* a split: two holds */
	assert_int_equal(SYS2(SYS_munmap, a + PG, PG), 0);
	assert_int_equal(SYS2(SYS_munmap, a, PG), 0);
	cub_heap_stats(&after);
	assert_int_equal(after.in_use, before.in_use);
	assert_int_equal(cub_frame_free_count(), frames);
}

static void access_body(void)
{
	int fd = make("/h", PG), ro;
	long a;

	ro = (int)SYS2(SYS_open, "/h", 0);
	assert_int_equal(map(PG, RW, SHARED, ro, 0), -CUB_EACCES);
	a = map(PG, R, SHARED, ro, 0);
	assert_true(a > 0);
	assert_int_equal(SYS3(SYS_mprotect, a, PG, RW), -CUB_EACCES);
	assert_int_equal(SYS4(SYS_mremap, a, PG, 2 * PG, 1 | 4), -CUB_EINVAL);	/* DONTUNMAP */
	assert_int_equal(SYS2(SYS_munmap, a, PG), 0);
	assert_int_equal(SYS1(SYS_close, ro), 0);
	assert_int_equal(SYS1(SYS_close, fd), 0);
}

/* A shared futex meets through two mappings; a private one does not. */
static void futex_body(void)
{
	int fd = make("/q", PG);
	long a = map(PG, RW, SHARED, fd, 0), b = map(PG, RW, SHARED, fd, 0);

	poke(a + 64, 0);
	(void)peek(b + 64);
	assert_int_equal(cubi_mm_futex_key((uintptr_t)a + 64), cubi_mm_futex_key((uintptr_t)b + 64));
	assert_true(cubi_mm_futex_key((uintptr_t)a + 64) != (uintptr_t)a + 64);
	assert_int_equal(cubi_mm_futex_key(0x1000), 0x1000);		/* elsewhere */
	assert_int_equal(SYS2(SYS_munmap, a, PG), 0);
	assert_int_equal(SYS2(SYS_munmap, b, PG), 0);
	assert_int_equal(SYS1(SYS_close, fd), 0);
}

/* The protection a borrowed page is mapped with must allow reading
 * whenever the mapping's does: PROT_WRITE alone reads on x86 (and on
 * Linux), any access but none does. The page's entry is checked before
 * the test touches it: a
 * page mapped without access would crash the host test (and fault
 * forever under the real fault handler, which calls the fault done). */
static void assert_readable(long p)
{
	unsigned prot = 0;

	if (cub_vm_query((uintptr_t)p, NULL, NULL) != 0)
		assert_int_equal(cubi_mm_fault((uintptr_t)p, CUB_PROT_READ), 1);
	assert_int_equal(cub_vm_query((uintptr_t)p, NULL, &prot), 0);
	assert_true(prot != CUB_PROT_NONE);
}

/* A write-only private file mapping: a read (the program's, or a
 * system call's from the mapping) sees the file; a store gets a copy.
 * Also reached by mprotect of a read-only one whose pages are borrowed. */
static void write_only_body(void)
{
	int fd = make("/w", 2 * PG), out = make("/o", 0);
	long a;
	char buf[4] = { 0 };

	assert_int_equal(SYS4(SYS_pwrite64, fd, "xyz", 3, 0), 3);
	a = map(2 * PG, 2, PRIVATE, fd, 0);		/* PROT_WRITE */
	assert_true(a > 0);
	assert_readable(a + 1);
	assert_int_equal(peek(a + 1), 'y');
	assert_int_equal(SYS4(SYS_pwrite64, out, (void *)a, 3, 0), 3);	/* from it */
	assert_int_equal(SYS4(SYS_pread64, out, buf, 3, 0), 3);
	assert_string_equal(buf, "xyz");
	poke(a + 2, 'Z');
	assert_int_equal(peek(a + 2), 'Z');
	assert_int_equal(SYS4(SYS_pread64, fd, buf, 3, 0), 3);
	assert_string_equal(buf, "xyz");			/* the file keeps its */
	assert_int_equal(SYS2(SYS_munmap, a, 2 * PG), 0);
	/* Read-only first (pages borrowed), then write-only: with demand
	 * paging the borrowed pages stay (without it mprotect copies them
	 * into write-only anonymous pages, which the host port cannot read
	 * on a program's behalf - process_vm_readv refuses a mapping without
	 * PROT_READ - while bare metal's page tables can). */
	if (demand) {
		a = map(PG, R, PRIVATE, fd, 0);
		assert_int_equal(peek(a), 'x');
		assert_int_equal(SYS3(SYS_mprotect, a, PG, 2), 0);
		assert_readable(a);
		assert_int_equal(SYS4(SYS_pwrite64, out, (void *)a, 3, 4), 3);
		assert_int_equal(SYS4(SYS_pread64, out, buf, 3, 4), 3);
		assert_string_equal(buf, "xyz");
		assert_int_equal(SYS2(SYS_munmap, a, PG), 0);
	}
	assert_int_equal(SYS1(SYS_close, fd), 0);
	assert_int_equal(SYS1(SYS_close, out), 0);
}

static void run_both(void (*body)(void))
{
	for (int on = 0; on < 2; on++) {
		demand = on;
		cubi_mm_set_demand(on);
		cubi_mm_fault_around = 1;
		run_fresh(body, false);
		cubi_mm_set_demand(false);
		cubi_mm_fault_around = 16;
	}
}

static void test_coherence(void **state) { (void)state; run_both(coherence_body); }
static void test_shrink_and_remap(void **state) { (void)state; run_both(shrink_body); }
static void test_lifetime(void **state) { (void)state; run_both(lifetime_body); }
static void test_access(void **state) { (void)state; run_fresh(access_body, false); }
static void test_holes(void **state) { (void)state; run_both(hole_body); }
static void test_private(void **state) { (void)state; run_both(private_body); }
static void test_futex_key(void **state) { (void)state; run_both(futex_body); }
static void test_write_only(void **state) { (void)state; run_both(write_only_body); }
static void test_cow(void **state)
{
	(void)state;
	demand = true;
	cubi_mm_set_demand(true);
	cubi_mm_fault_around = 1;
	run_fresh(cow_body, false);
	cubi_mm_set_demand(false);
	cubi_mm_fault_around = 16;
}

static int setup(void **state)
{
	(void)state;
	cubi_mem_init();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_coherence),
		cmocka_unit_test(test_shrink_and_remap),
		cmocka_unit_test(test_lifetime),
		cmocka_unit_test(test_access),
		cmocka_unit_test(test_holes),
		cmocka_unit_test(test_private),
		cmocka_unit_test(test_futex_key),
		cmocka_unit_test(test_cow),
		cmocka_unit_test(test_write_only),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
