/*
 * test_shim_mmhuge.c - memory calls on a huge, sparsely used mapping:
 * a 768 MiB PROT_NONE reservation (most of the host's 1 GiB window)
 * with a few thousand scattered pages made accessible, touched, parked
 * by mprotect NONE, restored, dropped by MADV_DONTNEED and unmapped, with
 * demand paging off (the host's default: frames at mprotect time) and on
 * (the bare-metal case: absent pages stay absent), and moved by mremap.
 * These calls find the
 * pages holding a frame by cub_vm_next and the park table's slots
 * (mm_table.c, mm_park.c) instead of probing every page: the checks are
 * that every byte survives and every frame comes back
 * (cub_frame_free_count, cubi_mm_resident). The time they save shows
 * under emulation: the QEMU test musl_mmhuge.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <cubrt/arch.h>
#include <cubrt/mem.h>
#include "mm.h"
#include "mm_impl.h"
#include "sys.h"

#define PG 4096l
#define R 1
#define W 2
#define RW 3
#define NONE 0
#define PRIV_ANON 0x22
#define MADV_DONTNEED 4
#define HUGE (768l << 20)
#define NPAGES (HUGE / PG)
/* Scattered pages: under valgrind the host maps at most 5000 pages. */
#define N 3000

/* The k-th scattered page (k < N): distinct (7919 is prime to NPAGES),
 * the first and the last of the range among them. */
static long page_of(long k)
{
	return k == 0 ? 0 : k == 1 ? NPAGES - 1 : (k * 7919 + 3) % NPAGES;
}

static unsigned char byte_of(long k)
{
	return (unsigned char)(k * 31 + 7);
}

/* Frames taken since free0 was the free count, but the mapping
 * table's (mm_tree.c's pool, which follows the number of vmas: the
 * scattered pages split the range into up to 2N+1). */
static size_t taken(size_t free0)
{
	return free0 - cub_frame_free_count() - cubi_mm_tree_frames();
}

/* Frames taken since a count of `was` taken (taken()): those of the
 * pages plus the park table's own, at most 4 slots of 16 bytes a parked
 * page (grown twice over at half full). */
static void assert_taken(size_t free0, size_t was)
{
	size_t now = taken(free0);

	assert_true(now >= was && now <= was + (4 * 16 * N + PG - 1) / PG);
}

static bool present(long va)
{
	return cub_vm_query((uintptr_t)va, NULL, NULL) == 0;
}

static int setup(void **state)
{
	(void)state;
	cubi_mem_init();	/* once: it is idempotent */
	return 0;
}

/* Every scattered page holds its byte (made readable first). */
static void check_bytes(long a)
{
	for (long k = 0; k < N; k++)
		assert_int_equal(((unsigned char *)a)[page_of(k) * PG + 9], byte_of(k));
}

/* Demand paging off: each mprotect RW gives its page a frame at once;
 * the NONE calls over the whole range park them. */
static void test_huge_eager(void **state)
{
	size_t free0 = cub_frame_free_count(), rss0 = cubi_mm_resident;
	long a = sys_mmap_anon(0, HUGE, NONE, PRIV_ANON);
	size_t used;

	(void)state;
	assert_true(a > 0);
	for (long k = 0; k < N; k++) {
		long p = a + page_of(k) * PG;

		assert_int_equal(SYS3(SYS_mprotect, p, PG, RW), 0);
		((unsigned char *)p)[9] = byte_of(k);
	}
	assert_int_equal(cubi_mm_resident, rss0 + N);
	used = taken(free0);
	/* Away: every frame parked, none freed or taken. */
	assert_int_equal(SYS3(SYS_mprotect, a, HUGE, NONE), 0);
	assert_taken(free0, used);
	assert_int_equal(cubi_mm_resident, rss0 + N);
	for (long k = 0; k < N; k++)
		assert_false(cub_arch_addr_readable((uintptr_t)(a + page_of(k) * PG), 1));
	assert_int_equal(SYS3(SYS_mprotect, a, HUGE, NONE), 0);	/* again: nothing */
	/* Back one by one: the bytes are kept. */
	for (long k = 0; k < N; k++)
		assert_int_equal(SYS3(SYS_mprotect, a + page_of(k) * PG, PG, R), 0);
	check_bytes(a);
	/* Half of them parked again, then everything unmapped at once. */
	for (long k = 0; k < N; k += 2)
		assert_int_equal(SYS3(SYS_mprotect, a + page_of(k) * PG, PG, NONE), 0);
	assert_int_equal(SYS2(SYS_munmap, a, HUGE), 0);
	assert_int_equal(cubi_mm_resident, rss0);
	assert_int_equal(cub_frame_free_count(), free0);
	assert_false(cub_arch_addr_readable((uintptr_t)(a + page_of(1) * PG), 1));
	assert_int_equal(cub_vm_next((uintptr_t)a, (uintptr_t)(a + HUGE), NULL, NULL),
			 (uintptr_t)(a + HUGE));
}

/* Demand paging on: mprotect of the whole range takes no frame, the
 * touched pages get theirs by fault, the rest stay absent throughout. */
static void test_huge_demand(void **state)
{
	size_t free0 = cub_frame_free_count(), rss0 = cubi_mm_resident;
	long a = sys_mmap_anon(0, HUGE, NONE, PRIV_ANON), half = NPAGES / 2, low = 0;
	size_t used;

	(void)state;
	cubi_mm_set_demand(true);
	cubi_mm_fault_around = 1;	/* one frame a touch: the host's map budget */
	assert_true(a > 0);
	assert_int_equal(SYS3(SYS_mprotect, a, HUGE, RW), 0);
	assert_int_equal(cub_frame_free_count(), free0);
	for (long k = 0; k < N; k++) {
		long p = a + page_of(k) * PG;

		assert_int_equal(cubi_mm_fault((uintptr_t)p, W), 1);	/* the touch */
		((unsigned char *)p)[9] = byte_of(k);
		low += page_of(k) < half;
	}
	assert_int_equal(cubi_mm_resident, rss0 + N);
	used = taken(free0);
	assert_int_equal(SYS3(SYS_mprotect, a, HUGE, NONE), 0);
	assert_taken(free0, used);
	assert_false(present(a) || present(a + (NPAGES - 1) * PG));
	assert_int_equal(SYS3(SYS_mprotect, a, HUGE, R), 0);
	check_bytes(a);
	assert_false(present(a + PG) || present(a + 2 * PG) || present(a + (NPAGES - 2) * PG));
	assert_int_equal(cubi_mm_resident, rss0 + N);
	/* DONTNEED on the lower half: its frames go, the upper half's stay
	 * (some of them parked by now). */
	assert_int_equal(SYS3(SYS_mprotect, a + half * PG, HUGE / 4, NONE), 0);
	assert_int_equal(SYS3(SYS_madvise, a, half * PG, MADV_DONTNEED), 0);
	assert_int_equal(cubi_mm_resident, rss0 + N - low);
	assert_false(present(a));
	assert_int_equal(cubi_mm_fault((uintptr_t)a, R), 1);
	assert_int_equal(((unsigned char *)a)[9], 0);	/* a fresh page */
	assert_int_equal(SYS2(SYS_munmap, a, HUGE), 0);
	assert_int_equal(cubi_mm_resident, rss0);
	assert_int_equal(cub_frame_free_count(), free0);
	cubi_mm_set_demand(false);
	cubi_mm_fault_around = 16;
}

#define MLEN (256l << 20)

static long mpage_of(long k)
{
	return (k * 7919 + 1) % (MLEN / PG);
}

/* 2000 scattered pages of a 256 MiB mapping at a, written. */
static void write_scattered(long a)
{
	for (long k = 0; k < 2000; k++) {
		long p = a + mpage_of(k) * PG;

		if (cubi_mm_demand)
			assert_int_equal(cubi_mm_fault((uintptr_t)p, W), 1);
		else
			assert_int_equal(SYS3(SYS_mprotect, p, PG, RW), 0);
		((unsigned char *)p)[9] = byte_of(k);
	}
}

/* mremap (MAYMOVE | FIXED) of a onto b: nothing left at a, the bytes at b. */
static void move_and_check(long a, long b)
{
	bool same = true;

	assert_int_equal(SYS6(SYS_mremap, a, MLEN, MLEN, 3, b, 0), b);
	assert_false(cub_arch_addr_readable((uintptr_t)(a + PG), 1));
	assert_int_equal(cub_vm_next((uintptr_t)a, (uintptr_t)(a + MLEN), NULL, NULL),
			 (uintptr_t)(a + MLEN));
	assert_false(cub_arch_addr_readable((uintptr_t)(b + 2 * PG), 1));	/* absent */
	if (cubi_mm_demand)	/* else a frame for every page: one by one */
		assert_int_equal(SYS3(SYS_mprotect, b, MLEN, R), 0);
	for (long k = 0; k < 2000 && !cubi_mm_demand; k++)
		assert_int_equal(SYS3(SYS_mprotect, b + mpage_of(k) * PG, PG, R), 0);
	for (long k = 0; k < 2000; k++)
		same &= ((unsigned char *)b)[mpage_of(k) * PG + 9] == byte_of(k);
	assert_true(same);
	assert_int_equal(SYS2(SYS_munmap, b, MLEN), 0);
}

/* mremap moving 256 MiB with 2000 scattered pages: all parked (the park
 * table's slots are visited, the range having more pages than it has
 * slots, and each frame parked again at its new page), then, with
 * demand paging, all mapped among absent ones (found by cub_vm_next).
 * Nothing else appears, nothing is lost. */
static void test_huge_mremap(void **state)
{
	size_t free0 = cub_frame_free_count(), rss0 = cubi_mm_resident;
	long a = sys_mmap_anon(0, MLEN, NONE, PRIV_ANON), b = sys_mmap_anon(0, MLEN, NONE, PRIV_ANON);

	(void)state;
	assert_true(a > 0 && b > 0);
	write_scattered(a);
	assert_int_equal(SYS3(SYS_mprotect, a, MLEN, NONE), 0);	/* all parked */
	move_and_check(a, b);
	assert_int_equal(cubi_mm_resident, rss0);
	assert_int_equal(cub_frame_free_count(), free0);

	cubi_mm_set_demand(true);
	cubi_mm_fault_around = 1;
	a = sys_mmap_anon(0, MLEN, RW, PRIV_ANON);
	b = sys_mmap_anon(0, MLEN, RW, PRIV_ANON);
	assert_true(a > 0 && b > 0);
	write_scattered(a);
	assert_int_equal(cubi_mm_resident, rss0 + 2000);
	move_and_check(a, b);
	assert_int_equal(cubi_mm_resident, rss0);
	assert_int_equal(cub_frame_free_count(), free0);
	cubi_mm_set_demand(false);
	cubi_mm_fault_around = 16;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_huge_eager),
		cmocka_unit_test(test_huge_demand),
		cmocka_unit_test(test_huge_mremap),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
