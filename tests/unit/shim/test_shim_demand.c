/*
 * test_shim_demand.c - demand paging (src/shim/mm_fault.c) on the host.
 *
 * The host port serves no page faults, so these tests switch demand
 * paging on themselves and play the CPU's part: a touch of an absent page
 * is a call of cubi_mm_fault, as the x86 page-fault handler makes (the
 * QEMU test musl_demand has the real faults). They check that mmap takes
 * no frame, that a fault takes exactly one and only where the mapping
 * allows the access (and its aligned block with fault-around), that
 * system calls page their buffers in, that
 * MADV_DONTNEED, munmap and mremap give frames back or move them, the
 * populate calls (MAP_POPULATE, MADV_POPULATE_*, mlock, mlockall), and a
 * seeded random run against a model of every page ($CUBRT_SEED repeats
 * it; the seed is printed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cubrt/arch.h>
#include <cubrt/mem.h>
#include "mm.h"
#include "sys.h"

#define PG 4096l
#define R 1
#define W 2
#define RW 3
#define X 4
#define NONE 0
#define PRIV_ANON 0x22
#define FIXED 0x10
#define POPULATE 0x8000

static bool present(long va)
{
	return cub_vm_query((uintptr_t)va, NULL, NULL) == 0;
}

/* Number of resident pages of [a, a + n pages) by mincore. */
static int resident(long a, int n)
{
	unsigned char vec[256];
	int in = 0;

	assert_true(n <= 256);
	assert_int_equal(SYS3(SYS_mincore, a, n * PG, vec), 0);
	for (int i = 0; i < n; i++)
		in += vec[i] & 1;
	return in;
}

static int setup(void **state)
{
	(void)state;
	cubi_mem_init();	/* once: it is idempotent */
	cubi_mm_set_demand(true);
	cubi_mm_fault_around = 1;	/* one page a fault, but in test_fault_around */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cubi_mm_set_demand(false);
	cubi_mm_fault_around = 16;
	return 0;
}

static void test_mmap_takes_no_frame(void **state)
{
	size_t free0 = cub_frame_free_count(), rss0 = cubi_mm_resident;
	long a = sys_mmap_anon(0, 1l << 30, RW, PRIV_ANON);	/* more than the host arena */

	(void)state;
	assert_true(a > 0);
	assert_int_equal(cub_frame_free_count(), free0);
	assert_false(present(a) || present(a + (1l << 29)));
	assert_int_equal(resident(a, 64), 0);
	assert_int_equal(cubi_mm_fault((uintptr_t)a + 5 * PG + 7, CUB_PROT_WRITE), 1);
	assert_true(present(a + 5 * PG));
	assert_int_equal(cub_frame_free_count(), free0 - 1);
	assert_int_equal(cubi_mm_resident, rss0 + 1);
	assert_int_equal(((unsigned char *)a)[5 * PG + 7], 0);	/* zero-filled */
	((unsigned char *)a)[5 * PG + 7] = 42;
	/* Present already: not a demand fault (a real one, if any). */
	assert_int_equal(cubi_mm_fault((uintptr_t)a + 5 * PG, CUB_PROT_WRITE), 0);
	assert_int_equal(resident(a, 64), 1);
	assert_int_equal(SYS2(SYS_munmap, a, 1l << 30), 0);
	assert_int_equal(cub_frame_free_count(), free0);
	assert_int_equal(cubi_mm_resident, rss0);
}

static void test_fault_only_where_allowed(void **state)
{
	long a = sys_mmap_anon(0, 4 * PG, NONE, PRIV_ANON);
	size_t free0 = cub_frame_free_count();

	(void)state;
	assert_int_equal(SYS3(SYS_mprotect, a + PG, PG, R), 0);
	assert_int_equal(SYS3(SYS_mprotect, a + 2 * PG, PG, W), 0);
	assert_int_equal(SYS3(SYS_mprotect, a + 3 * PG, PG, R | X), 0);
	assert_int_equal(cubi_mm_fault((uintptr_t)a, CUB_PROT_READ), 0);	/* PROT_NONE */
	assert_int_equal(cubi_mm_fault((uintptr_t)a + PG, CUB_PROT_WRITE), 0);
	assert_int_equal(cubi_mm_fault((uintptr_t)a + PG, CUB_PROT_EXEC), 0);
	assert_int_equal(cub_frame_free_count(), free0);
	assert_int_equal(cubi_mm_fault((uintptr_t)a + PG, CUB_PROT_READ), 1);
	assert_int_equal(cubi_mm_fault((uintptr_t)a + 2 * PG, CUB_PROT_READ), 1); /* W reads */
	assert_int_equal(cubi_mm_fault((uintptr_t)a + 3 * PG, CUB_PROT_EXEC), 1);
	assert_int_equal(cub_frame_free_count(), free0 - 3);
	assert_int_equal(cubi_mm_fault((uintptr_t)a + 4 * PG, CUB_PROT_READ), 0); /* no vma */
	assert_int_equal(cubi_mm_fault(PG * 16, CUB_PROT_READ), 0);
	assert_int_equal(SYS2(SYS_munmap, a, 4 * PG), 0);
	assert_int_equal(cub_frame_free_count(), free0);
}

static void test_fault_around(void **state)
{
	long a = sys_mmap_anon(0, 40 * PG, RW, PRIV_ANON), b = sys_mmap_anon(0, 5 * PG, RW, PRIV_ANON);
	size_t free0 = cub_frame_free_count();
	/* An aligned block with a page of the mapping on either side. */
	int block0 = (int)((CUB_ALIGN_UP(a + PG, 16 * PG) - a) / PG);

	(void)state;
	cubi_mm_fault_around = 16;
	assert_int_equal(cubi_mm_fault((uintptr_t)(a + (block0 + 3) * PG), CUB_PROT_WRITE), 1);
	/* The whole aligned block, nothing outside it. */
	assert_int_equal(resident(a, 40), 16);
	assert_false(present(a + (block0 - 1) * PG) || present(a + (block0 + 16) * PG));
	assert_true(present(a + block0 * PG) && present(a + (block0 + 15) * PG));
	assert_int_equal(cub_frame_free_count(), free0 - 16);
	/* A present page stays as it is; the block ends at the mapping. */
	assert_int_equal(SYS3(SYS_mprotect, b + 4 * PG, PG, NONE), 0);
	assert_int_equal(cubi_mm_fault((uintptr_t)(b + PG), CUB_PROT_READ), 1);
	assert_int_equal(resident(b, 5), 4);				/* not the NONE page */
	((unsigned char *)b)[0] = 5;
	assert_int_equal(cubi_mm_fault((uintptr_t)(b + 4 * PG), CUB_PROT_READ), 0);
	assert_int_equal(((unsigned char *)b)[0], 5);
	cubi_mm_fault_around = 1;
	assert_int_equal(SYS2(SYS_munmap, a, 40 * PG), 0);
	assert_int_equal(SYS2(SYS_munmap, b, 5 * PG), 0);
	assert_int_equal(cub_frame_free_count(), free0);
}

static void test_syscalls_page_in(void **state)
{
	long a = sys_mmap_anon(0, 4 * PG, RW, PRIV_ANON), ro = sys_mmap_anon(0, PG, R, PRIV_ANON);
	int fds[2];

	(void)state;
	assert_int_equal(SYS2(SYS_pipe2, fds, 0), 0);
	/* A write from never-touched memory sends zeroes. */
	assert_int_equal(SYS3(SYS_write, fds[1], a + PG - 3, 6), 6);
	assert_true(present(a) && present(a + PG));
	assert_false(present(a + 2 * PG));
	assert_int_equal(SYS3(SYS_read, fds[0], a + 3 * PG + 10, 6), 6);
	assert_true(present(a + 3 * PG));
	assert_int_equal(((unsigned char *)a)[3 * PG + 12], 0);
	/* Into a read-only page: -EFAULT, and nothing paged in for it. */
	assert_int_equal(SYS3(SYS_write, fds[1], "abc", 3), 3);
	assert_int_equal(SYS3(SYS_read, fds[0], ro, 3), -CUB_EFAULT);
	assert_false(present(ro));
	assert_int_equal(SYS3(SYS_read, fds[0], a + 2 * PG, 3), 3);
	assert_memory_equal((void *)(a + 2 * PG), "abc", 3);
	assert_int_equal(SYS1(SYS_close, fds[0]), 0);
	assert_int_equal(SYS1(SYS_close, fds[1]), 0);
	assert_int_equal(SYS2(SYS_munmap, a, 4 * PG), 0);
	assert_int_equal(SYS2(SYS_munmap, ro, PG), 0);
}

static void test_dontneed_gives_frames_back(void **state)
{
	long a = sys_mmap_anon(0, 16 * PG, RW, PRIV_ANON);
	size_t free0 = cub_frame_free_count();

	(void)state;
	for (int i = 0; i < 16; i++) {
		assert_int_equal(cubi_mm_fault((uintptr_t)(a + i * PG), CUB_PROT_WRITE), 1);
		memset((void *)(a + i * PG), 0x60 + i, PG);
	}
	assert_int_equal(cub_frame_free_count(), free0 - 16);
	assert_int_equal(SYS3(SYS_madvise, a + 4 * PG, 6 * PG, 4), 0);	/* DONTNEED */
	assert_int_equal(SYS3(SYS_madvise, a + 12 * PG, 2 * PG, 8), 0);	/* FREE */
	assert_int_equal(cub_frame_free_count(), free0 - 8);
	assert_int_equal(resident(a, 16), 8);
	assert_false(present(a + 4 * PG) || present(a + 13 * PG));
	assert_int_equal(cubi_mm_fault((uintptr_t)(a + 5 * PG), CUB_PROT_READ), 1);
	assert_int_equal(((unsigned char *)a)[5 * PG + 9], 0);		/* zeroes again */
	assert_int_equal(((unsigned char *)a)[3 * PG + 9], 0x63);	/* kept */
	assert_int_equal(((unsigned char *)a)[11 * PG + 9], 0x6b);
	assert_int_equal(SYS2(SYS_munmap, a, 16 * PG), 0);
	assert_int_equal(cub_frame_free_count(), free0);
}

static void test_populate_calls(void **state)
{
	long a = sys_mmap_anon(0, 8 * PG, RW, PRIV_ANON | POPULATE), b = sys_mmap_anon(0, 8 * PG, RW, PRIV_ANON);
	long ro = sys_mmap_anon(0, 2 * PG, R, PRIV_ANON), c, d;

	(void)state;
	assert_int_equal(resident(a, 8), 8);
	assert_int_equal(SYS3(SYS_madvise, b, 2 * PG, 22), 0);		/* POPULATE_READ */
	assert_int_equal(SYS3(SYS_madvise, b + 2 * PG, PG, 23), 0);	/* POPULATE_WRITE */
	assert_int_equal(resident(b, 8), 3);
	assert_int_equal(SYS3(SYS_madvise, ro, PG, 23), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_madvise, ro, PG, 22), 0);
	assert_int_equal(SYS3(SYS_madvise, ro + 2 * PG, PG, 22), -CUB_ENOMEM);
	assert_int_equal(SYS3(SYS_mlock2, b + 3 * PG, PG, 1), 0);		/* ONFAULT */
	assert_int_equal(resident(b, 8), 3);
	assert_int_equal(SYS2(SYS_mlock, b + 3 * PG + 5, PG), 0);		/* two pages */
	assert_int_equal(resident(b, 8), 5);
	assert_int_equal(SYS1(SYS_mlockall, 2), 0);			/* MCL_FUTURE */
	c = sys_mmap_anon(0, 4 * PG, RW, PRIV_ANON);
	assert_int_equal(resident(c, 4), 4);
	assert_int_equal(SYS0(SYS_munlockall), 0);
	d = sys_mmap_anon(0, 4 * PG, RW, PRIV_ANON);
	assert_int_equal(resident(d, 4), 0);
	assert_int_equal(SYS1(SYS_mlockall, 1), 0);			/* MCL_CURRENT */
	assert_int_equal(resident(d, 4) + resident(b, 8), 12);
	assert_int_equal(SYS2(SYS_munmap, a, 8 * PG), 0);
	assert_int_equal(SYS2(SYS_munmap, b, 8 * PG), 0);
	assert_int_equal(SYS2(SYS_munmap, c, 4 * PG), 0);
	assert_int_equal(SYS2(SYS_munmap, d, 4 * PG), 0);
	assert_int_equal(SYS2(SYS_munmap, ro, 2 * PG), 0);
}

static void test_mprotect_and_mremap_keep_pages(void **state)
{
	long a = sys_mmap_anon(0, 6 * PG, RW, PRIV_ANON), b;
	size_t free0 = cub_frame_free_count();

	(void)state;
	assert_int_equal(cubi_mm_fault((uintptr_t)(a + PG), CUB_PROT_WRITE), 1);
	((unsigned char *)a)[PG] = 9;
	assert_int_equal(SYS3(SYS_mprotect, a, 6 * PG, NONE), 0);
	assert_int_equal(SYS3(SYS_mprotect, a, 6 * PG, R), 0);
	assert_int_equal(resident(a, 6), 1);
	assert_int_equal(((unsigned char *)a)[PG], 9);
	assert_int_equal(SYS3(SYS_mprotect, a, 6 * PG, RW), 0);
	b = SYS4(SYS_mremap, a, 6 * PG, 40 * PG, 1);			/* MAYMOVE */
	assert_true(b > 0);
	assert_int_equal(resident(b, 40), 1);
	assert_int_equal(((unsigned char *)b)[PG], 9);
	assert_int_equal(cub_frame_free_count(), free0 - 1);
	assert_int_equal(cubi_mm_fault((uintptr_t)(b + 39 * PG), CUB_PROT_WRITE), 1);
	assert_int_equal(SYS2(SYS_munmap, b, 40 * PG), 0);
	assert_int_equal(cub_frame_free_count(), free0);
}

/* ------------------------------------------------ the random model run */

#define MODEL_PAGES 48
static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng >> 33) % n;
}

/* What the model knows of a page: mapped, prot, holds a frame, and the
 * byte at its offset 0 (0 for a fresh page). */
static struct mpage { bool mapped, frame; int prot; unsigned char byte; } model[MODEL_PAGES];
static long base;
static size_t rss0;	/* cubi_mm_resident without the model's pages */

static void check_model(void)
{
	size_t frames = 0;

	for (int i = 0; i < MODEL_PAGES; i++) {
		uintptr_t pa;
		bool in = cub_vm_query((uintptr_t)(base + i * PG), &pa, NULL) == 0;

		assert_int_equal(in, model[i].mapped && model[i].frame && model[i].prot);
		if (in)
			assert_int_equal(*(unsigned char *)pa, model[i].byte);
		frames += model[i].frame;
		assert_int_equal(cubi_mm_page_resident((uintptr_t)(base + i * PG)),
				 model[i].mapped && model[i].frame);
	}
	assert_int_equal(cubi_mm_resident, rss0 + frames);
}

/* One random operation on pages [lo, lo + n), applied to both. */
static void random_op(void)
{
	int lo = (int)rnd(MODEL_PAGES), n = 1 + (int)rnd((uint32_t)(MODEL_PAGES - lo));
	int prot = (int)rnd(4), op = (int)rnd(6);
	long va = base + lo * PG;

	if (op == 0) {			/* mmap MAP_FIXED: fresh pages */
		assert_int_equal(sys_mmap_anon(va, n * PG, prot, PRIV_ANON | FIXED), va);
		for (int i = lo; i < lo + n; i++)
			model[i] = (struct mpage){ true, false, prot, 0 };
	} else if (op == 1) {		/* munmap */
		assert_int_equal(SYS2(SYS_munmap, va, n * PG), 0);
		for (int i = lo; i < lo + n; i++)
			model[i] = (struct mpage){ 0 };
	} else if (op == 2 || op == 3) {	/* mprotect / DONTNEED */
		bool all = true;

		for (int i = lo; i < lo + n; i++)
			all &= model[i].mapped;
		assert_int_equal(op == 2 ? SYS3(SYS_mprotect, va, n * PG, prot)
					 : SYS3(SYS_madvise, va, n * PG, 4),
				 all ? 0 : -CUB_ENOMEM);
		for (int i = lo; all && i < lo + n; i++) {
			if (op == 2)
				model[i].prot = prot;
			else
				model[i].frame = false, model[i].byte = 0;
		}
	} else {			/* a touch of one page: read or write */
		struct mpage *m = &model[lo];
		unsigned access = op == 4 ? CUB_PROT_READ : CUB_PROT_WRITE;
		bool ok = m->mapped && m->prot && (access == CUB_PROT_READ || m->prot & W);
		int rc = cubi_mm_fault((uintptr_t)va, access);

		assert_int_equal(rc, ok && !m->frame);
		if (ok && !m->frame)
			m->frame = true;
		if (ok && access == CUB_PROT_WRITE)
			*(unsigned char *)va = m->byte = (unsigned char)(1 + rnd(255));
	}
	check_model();
}

static void test_random_model(void **state)
{
	const char *env = getenv("CUBRT_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
	size_t free0 = cub_frame_free_count();

	(void)state;
	printf("# test_random_model seed %llu (CUBRT_SEED)\n", (unsigned long long)seed);
	rng = seed;
	rss0 = cubi_mm_resident;
	base = sys_mmap_anon(0, MODEL_PAGES * PG, NONE, PRIV_ANON);
	assert_true(base > 0);
	for (int i = 0; i < MODEL_PAGES; i++)
		model[i] = (struct mpage){ true, false, NONE, 0 };
	for (int step = 0; step < 4000; step++)
		random_op();
	assert_int_equal(SYS2(SYS_munmap, base, MODEL_PAGES * PG), 0);
	assert_int_equal(cub_frame_free_count(), free0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mmap_takes_no_frame),
		cmocka_unit_test(test_fault_only_where_allowed),
		cmocka_unit_test(test_fault_around),
		cmocka_unit_test(test_syscalls_page_in),
		cmocka_unit_test(test_dontneed_gives_frames_back),
		cmocka_unit_test(test_populate_calls),
		cmocka_unit_test(test_mprotect_and_mremap_keep_pages),
		cmocka_unit_test(test_random_model),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
