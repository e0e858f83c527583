/*
 * test_shim_mm.c - mmap, munmap, mprotect, madvise and brk through the
 * dispatcher, over the host platform's emulated page tables, including
 * every error path and the frame accounting (no frame leaks).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <cubrt/arch.h>
#include <cubrt/mem.h>
#include "sys.h"

#define PG 4096l
#define RW 3
#define NONE 0
#define PRIV_ANON 0x22
#define FIXED 0x10
#define NOREPLACE 0x100000

static int setup(void **state)
{
	(void)state;
	cubi_mem_init();	/* once: it is idempotent */
	return 0;
}

static void test_mmap_errors(void **state)
{
	(void)state;
	assert_int_equal(sys_mmap_anon(0, 0, RW, PRIV_ANON), -CUB_EINVAL);
	assert_int_equal(sys_mmap_anon(0, PG, 8, PRIV_ANON), -CUB_EINVAL);
	assert_int_equal(sys_mmap_anon(0, PG, RW, 0x20), -CUB_EINVAL);		/* no type */
	assert_int_equal(sys_mmap_anon(0, PG, RW, 0x24), -CUB_EINVAL);		/* type 4 */
	assert_int_equal(sys_mmap_anon(0, PG, RW, PRIV_ANON | 0x40000000), -CUB_EINVAL);
	assert_int_equal(SYS6(SYS_mmap, 0, PG, RW, 0x02, 5, 0), -CUB_EBADF);
	assert_int_equal(SYS6(SYS_mmap, 0, PG, RW, 0x02, 0, 0), -19);	/* the console: ENODEV */
	assert_int_equal(SYS6(SYS_mmap, 0, PG, RW, PRIV_ANON, -1, 100), -CUB_EINVAL);
	assert_int_equal(sys_mmap_anon(12345, PG, RW, PRIV_ANON | FIXED), -CUB_EINVAL);
	assert_int_equal(sys_mmap_anon(0, -1l, RW, PRIV_ANON), -CUB_ENOMEM);
	assert_int_equal(sys_mmap_anon(PG * 16, PG, RW, PRIV_ANON | FIXED), -CUB_ENOMEM);
}

static void test_mmap_rw_and_unmap(void **state)
{
	size_t before = cub_frame_free_count();
	long a = sys_mmap_anon(0, 3 * PG + 5, RW, PRIV_ANON);
	unsigned char *p = (unsigned char *)a;

	(void)state;
	assert_true(a > 0 && a % PG == 0);
	for (long i = 0; i < 4 * PG; i++)
		assert_int_equal(p[i], 0);	/* fresh pages are zero */
	memset(p, 0xA5, 4 * PG);
	assert_int_equal(cub_frame_free_count(), before - 4);
	assert_int_equal(SYS2(SYS_munmap, a, 4 * PG), 0);
	assert_int_equal(cub_frame_free_count(), before);
	assert_false(cub_arch_addr_readable((uintptr_t)a, 1));
	assert_int_equal(SYS2(SYS_munmap, a, 4 * PG), 0);	/* unmapped: fine */
	assert_int_equal(SYS2(SYS_munmap, a + 1, PG), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_munmap, a, 0), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_munmap, PG * 16, PG), -CUB_EINVAL); /* not ours */
}

static void test_reserve_then_protect(void **state)
{
	long a = sys_mmap_anon(0, 8 * PG, NONE, PRIV_ANON);
	size_t before = cub_frame_free_count();

	(void)state;
	assert_true(a > 0);
	assert_false(cub_arch_addr_readable((uintptr_t)a, 1));
	assert_int_equal(SYS3(SYS_mprotect, a + 2 * PG, 2 * PG, RW), 0);
	assert_int_equal(cub_frame_free_count(), before - 2);
	memset((void *)(a + 2 * PG), 7, 2 * PG);
	/* Away and back: Linux keeps the contents of PROT_NONE pages. */
	assert_int_equal(SYS3(SYS_mprotect, a + 2 * PG, PG, NONE), 0);
	assert_false(cub_arch_addr_readable((uintptr_t)(a + 2 * PG), 1));
	assert_int_equal(SYS3(SYS_mprotect, a + 2 * PG, PG, 1), 0);
	assert_int_equal(((unsigned char *)a)[2 * PG + 100], 7);
	assert_false(cub_arch_addr_writable((uintptr_t)(a + 2 * PG), 1));
	assert_int_equal(SYS3(SYS_mprotect, a + 1, PG, RW), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_mprotect, a, PG, 9), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_mprotect, a, 100 * PG, RW), -CUB_ENOMEM);
	assert_int_equal(SYS3(SYS_mprotect, a, 0, RW), 0);
	assert_int_equal(SYS2(SYS_munmap, a, 8 * PG), 0);
	assert_int_equal(cub_frame_free_count(), before);
}

/* More PROT_NONE pages than the old fixed table held (4096), restored
 * one by one in a scattered order: every page keeps its bytes, and the
 * mprotect calls' splits join again (a table of 1024 vmas would not
 * hold the pieces). 4500 pages: under valgrind the host port maps at
 * most 5000 pages (its map budget). */
static void test_many_parked(void **state)
{
	const long n = 4500;
	long a = sys_mmap_anon(0, n * PG, RW, PRIV_ANON);
	size_t before = cub_frame_free_count();
	unsigned char *p = (unsigned char *)a;

	(void)state;
	assert_true(a > 0);
	for (long i = 0; i < n; i++)
		p[i * PG + 7] = (unsigned char)(i * 31 + 1);
	assert_int_equal(SYS3(SYS_mprotect, a, n * PG, NONE), 0);
	assert_false(cub_arch_addr_readable((uintptr_t)a, 1));
	for (long k = 0; k < n; k++) {		/* 1223 is prime to 4500 */
		long i = k * 1223 % n;

		assert_int_equal(SYS3(SYS_mprotect, a + i * PG, PG, RW), 0);
		assert_int_equal(p[i * PG + 7], (unsigned char)(i * 31 + 1));
	}
	assert_int_equal(SYS2(SYS_munmap, a, n * PG), 0);
	/* Every page's frame is back, and the parked table's and the vma
	 * table's (grown past its first 1024, back in .bss once emptied). */
	assert_int_equal(cub_frame_free_count(), before + n);
}

static void test_fixed_and_noreplace(void **state)
{
	long a = sys_mmap_anon(0, 4 * PG, RW, PRIV_ANON);
	long b;

	(void)state;
	memset((void *)a, 1, 4 * PG);
	assert_int_equal(sys_mmap_anon(a + PG, PG, RW, PRIV_ANON | NOREPLACE), -CUB_EEXIST);
	b = sys_mmap_anon(a + PG, PG, RW, PRIV_ANON | FIXED);
	assert_int_equal(b, a + PG);
	assert_int_equal(((unsigned char *)a)[PG + 10], 0);	/* replaced */
	assert_int_equal(((unsigned char *)a)[10], 1);		/* neighbours kept */
	assert_int_equal(((unsigned char *)a)[2 * PG], 1);
	/* A hint is honoured when free. */
	assert_int_equal(SYS2(SYS_munmap, a, 4 * PG), 0);
	assert_int_equal(sys_mmap_anon(a + 2 * PG, PG, RW, PRIV_ANON), a + 2 * PG);
	assert_int_equal(SYS2(SYS_munmap, a + 2 * PG, PG), 0);
}

static void test_madvise(void **state)
{
	long a = sys_mmap_anon(0, 2 * PG, RW, PRIV_ANON);

	(void)state;
	memset((void *)a, 9, 2 * PG);
	assert_int_equal(SYS3(SYS_madvise, a, PG, 4), 0);	/* DONTNEED */
	assert_int_equal(((unsigned char *)a)[5], 0);
	assert_int_equal(((unsigned char *)a)[PG + 5], 9);
	assert_int_equal(SYS3(SYS_madvise, a, PG, 0), 0);	/* NORMAL */
	assert_int_equal(SYS3(SYS_madvise, a + 3, PG, 4), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_madvise, a, PG, 999), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_madvise, a, 64 * PG, 4), -CUB_ENOMEM);
	assert_int_equal(SYS2(SYS_munmap, a, 2 * PG), 0);
}

static void test_brk(void **state)
{
	long cur = SYS1(SYS_brk, 0);
	long grown;

	(void)state;
	assert_true(cur > 0);
	grown = SYS1(SYS_brk, cur + 10000);
	assert_int_equal(grown, cur + 10000);
	memset((void *)cur, 3, 10000);
	assert_int_equal(SYS1(SYS_brk, 0), grown);
	assert_int_equal(SYS1(SYS_brk, cur - 5), grown);	/* below base: unchanged */
	assert_int_equal(SYS1(SYS_brk, cur + 100), cur + 100);	/* shrink */
	assert_false(cub_arch_addr_readable((uintptr_t)(cur + 2 * PG), 1));
	assert_int_equal(SYS1(SYS_brk, cur), cur);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mmap_errors),
		cmocka_unit_test(test_mmap_rw_and_unmap),
		cmocka_unit_test(test_reserve_then_protect),
		cmocka_unit_test(test_many_parked),
		cmocka_unit_test(test_fixed_and_noreplace),
		cmocka_unit_test(test_madvise),
		cmocka_unit_test(test_brk),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
