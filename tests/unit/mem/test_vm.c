/*
 * test_vm - the paging API (cub_vm_*) over the host page hooks: mapping
 * arena frames into the window, aliases, protection changes, NX, unmap,
 * every validation error, the host mapping budget, and the fault reports
 * for writes to read-only pages, unmapped pages, NX pages and NULL;
 * cub_vm_next over empty ranges, the window's edges and the arena.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cubrt/arch.h>
#include <cubrt/mem.h>

#include "death.h"
#include "host_mem.h"

#define PG CUB_PAGE_SIZE
#define RW (CUB_PROT_READ | CUB_PROT_WRITE)

static uintptr_t wlo, whi;

static int setup(void **state)
{
	(void)state;
	cubi_mem_init();
	cub_arch_vm_window(&wlo, &whi);
	return 0;
}

static void test_map_alias_unmap(void **state)
{
	uintptr_t pa = cub_frame_alloc(CUB_FRAME_ZERO), got;
	unsigned prot;

	(void)state;
	assert_int_equal(cub_vm_map(wlo, pa, PG, RW), 0);
	assert_int_equal(cub_vm_query(wlo + 100, &got, &prot), 0);
	assert_int_equal(got, pa + 100);
	assert_int_equal(prot, RW);
	strcpy((char *)wlo, "through the window");
	assert_string_equal((char *)pa, "through the window");
	/* A read-only alias of the same frame. */
	assert_int_equal(cub_vm_map(wlo + 5 * PG, pa, PG, CUB_PROT_READ), 0);
	assert_string_equal((char *)(wlo + 5 * PG), "through the window");
	assert_int_equal(cub_vm_query(wlo + 5 * PG, NULL, &prot), 0);
	assert_int_equal(prot, CUB_PROT_READ);
	/* Replace a mapping. */
	assert_int_equal(cub_vm_map(wlo + 5 * PG, pa, PG, RW), 0);
	((char *)(wlo + 5 * PG))[0] = 'T';
	assert_int_equal(((char *)pa)[0], 'T');
	assert_int_equal(cub_vm_unmap(wlo, 6 * PG), 0);	/* holes are fine */
	assert_int_equal(cub_vm_query(wlo, NULL, NULL), -CUB_ENOENT);
	assert_int_equal(cub_vm_query(wlo + 5 * PG, NULL, NULL), -CUB_ENOENT);
	assert_int_equal(((char *)pa)[0], 'T');		/* the frame stays */
	cub_frame_free(pa);
}

static void test_protect(void **state)
{
	uintptr_t pa = cub_frame_alloc_run(4, CUB_FRAME_ZERO);
	unsigned prot;

	(void)state;
	assert_int_equal(cub_vm_map(wlo, pa, 3 * PG, RW), 0);
	assert_int_equal(cub_vm_protect(wlo, 3 * PG, CUB_PROT_READ), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(cub_vm_query(wlo + i * PG, NULL, &prot), 0);
		assert_int_equal(prot, CUB_PROT_READ);
	}
	/* All or nothing: a hole in the range changes nothing. */
	assert_int_equal(cub_vm_protect(wlo, 4 * PG, RW), -CUB_ENOENT);
	assert_int_equal(cub_vm_query(wlo, NULL, &prot), 0);
	assert_int_equal(prot, CUB_PROT_READ);
	assert_int_equal(cub_vm_protect(wlo, 3 * PG, RW), 0);
	((char *)wlo)[2 * PG] = 1;
	/* Identity-mapped arena frames can be protected too. */
	assert_int_equal(cub_vm_protect(pa + 3 * PG, PG, CUB_PROT_READ), 0);
	assert_int_equal(cub_vm_query(pa + 3 * PG, NULL, &prot), 0);
	assert_int_equal(prot, CUB_PROT_READ);
	assert_int_equal(cub_vm_protect(pa + 3 * PG, PG, RW), 0);
	((char *)pa)[3 * PG] = 1;
	assert_int_equal(cub_vm_unmap(wlo, 3 * PG), 0);
	cub_frame_free_run(pa, 4);
}

static void test_exec(void **state)
{
	uintptr_t pa = cub_frame_alloc(CUB_FRAME_ZERO);
	int (*fn)(void) = (int (*)(void))wlo;
	static const unsigned char code[] = { 0xB8, 42, 0, 0, 0, 0xC3 };	/* mov $42,%eax; ret */

	(void)state;
	assert_int_equal(cub_vm_map(wlo, pa, PG, RW), 0);
	memcpy((void *)wlo, code, sizeof(code));
	assert_int_equal(cub_vm_protect(wlo, PG, CUB_PROT_READ | CUB_PROT_EXEC), 0);
	assert_int_equal(fn(), 42);
	assert_int_equal(cub_vm_unmap(wlo, PG), 0);
	cub_frame_free(pa);
}

static void test_validation(void **state)
{
	uintptr_t pa = cub_frame_alloc(0);
	uintptr_t img = (uintptr_t)&test_validation & ~(PG - 1);

	(void)state;
	assert_int_equal(cub_vm_map(wlo + 1, pa, PG, RW), -CUB_EINVAL);
	assert_int_equal(cub_vm_map(wlo, pa + 1, PG, RW), -CUB_EINVAL);
	assert_int_equal(cub_vm_map(wlo, pa, PG + 1, RW), -CUB_EINVAL);
	assert_int_equal(cub_vm_map(wlo, pa, 0, RW), -CUB_EINVAL);
	assert_int_equal(cub_vm_map(wlo, pa, SIZE_MAX & ~(PG - 1), RW), -CUB_EINVAL);
	assert_int_equal(cub_vm_map(CUB_VM_LIMIT - PG, pa, 2 * PG, RW), -CUB_EINVAL);
	assert_int_equal(cub_vm_map(CUB_VM_LIMIT, pa, PG, RW), -CUB_EINVAL);
	assert_int_equal(cub_vm_map(wlo, pa, PG, 8), -CUB_EINVAL);
	assert_int_equal(cub_vm_map(0, pa, PG, RW), -CUB_EPERM);
	assert_int_equal(cub_vm_unmap(0, 2 * PG), -CUB_EPERM);
	assert_int_equal(cub_vm_map(img, pa, PG, RW), -CUB_EPERM);
	assert_int_equal(cub_vm_protect(img, PG, RW), -CUB_EPERM);
	assert_int_equal(cub_vm_unmap(img - PG, 2 * PG), -CUB_EPERM);
	assert_int_equal(cub_vm_map(wlo, pa, PG, RW | CUB_PROT_EXEC), -CUB_EPERM);
	/* No writable or executable second mapping of the image's frames. */
	assert_int_equal(cub_vm_map(wlo, img, PG, RW), -CUB_EPERM);
	assert_int_equal(cub_vm_map(wlo, img, PG, CUB_PROT_READ | CUB_PROT_EXEC), -CUB_EPERM);
	assert_int_equal(cub_vm_map(wlo, 1ull << 52, PG, RW), -CUB_EINVAL);
	assert_int_equal(cub_vm_query(wlo, NULL, NULL), -CUB_ENOENT);	/* unchanged */
	/* The host cannot map outside its arena and window. */
	assert_int_equal(cub_vm_map(whi, pa, PG, RW), -CUB_EINVAL);
	assert_int_equal(cub_vm_map(wlo, 4 * PG, PG, RW), -CUB_EINVAL);
	/* W^X can be relaxed. */
	assert_true(cub_vm_set_wx_enforced(false));
	assert_int_equal(cub_vm_map(wlo, pa, PG, RW | CUB_PROT_EXEC), 0);
	assert_false(cub_vm_set_wx_enforced(true));
	assert_int_equal(cub_vm_unmap(wlo, PG), 0);
	assert_int_equal(cub_vm_query(CUB_VM_LIMIT, NULL, NULL), -CUB_ENOENT);
	cub_frame_free(pa);
}

/* Every changed page may split a kernel mapping: the host caps them. */
static void test_budget(void **state)
{
	uintptr_t pa = cub_frame_alloc(0);
	size_t n = 0;
	int rc;

	(void)state;
	while ((rc = cub_vm_map(wlo + 2 * n * PG, pa, PG, CUB_PROT_READ)) == 0)
		n++;
	assert_int_equal(rc, -CUB_ENOMEM);
	assert_true(n >= 1000);
	assert_int_equal(cub_vm_unmap(wlo, 2 * n * PG), 0);
	assert_int_equal(cub_vm_map(wlo, pa, PG, CUB_PROT_READ), 0);
	assert_int_equal(cub_vm_unmap(wlo, PG), 0);
	cub_frame_free(pa);
}

/* cub_vm_next: the lowest mapped page of a range, or its end. */
static void test_next(void **state)
{
	uintptr_t pa = cub_frame_alloc(CUB_FRAME_ZERO), got = 1, alo, ahi, w0, w1;
	unsigned prot = 99;

	(void)state;
	cubi_host_mem_ranges(&alo, &ahi, &w0, &w1);
	/* Nothing mapped in the window: the end, the out values untouched. */
	assert_int_equal(cub_vm_next(wlo, whi, &got, &prot), whi);
	assert_int_equal(got, 1);
	assert_int_equal(prot, 99);
	assert_int_equal(cub_vm_next(wlo + PG, wlo + PG, NULL, NULL), wlo + PG); /* empty */
	assert_int_equal(cub_vm_next(wlo + 2 * PG, wlo + PG, NULL, NULL), wlo + PG); /* backwards */
	/* One page, the window's last: found from its start, from itself,
	 * not from past it, not in a range that ends at it. */
	assert_int_equal(cub_vm_map(whi - PG, pa, PG, CUB_PROT_READ), 0);
	assert_int_equal(cub_vm_next(wlo, whi, &got, &prot), whi - PG);
	assert_int_equal(got, pa);
	assert_int_equal(prot, CUB_PROT_READ);
	assert_int_equal(cub_vm_next(whi - PG + 123, whi, NULL, NULL), whi - PG); /* rounded */
	assert_int_equal(cub_vm_next(wlo, whi - PG, NULL, NULL), whi - PG);
	assert_int_equal(cub_vm_next(wlo, CUB_VM_LIMIT, NULL, NULL), whi - PG);
	assert_int_equal(cub_vm_next(whi, CUB_VM_LIMIT, NULL, NULL), CUB_VM_LIMIT);
	assert_int_equal(cub_vm_next(whi, UINTPTR_MAX, NULL, NULL), UINTPTR_MAX);
	assert_int_equal(cub_vm_next(CUB_VM_LIMIT, UINTPTR_MAX, NULL, NULL), UINTPTR_MAX);
	/* And the window's first: the lower of the two. */
	assert_int_equal(cub_vm_map(wlo, pa, PG, RW), 0);
	assert_int_equal(cub_vm_next(wlo, whi, &got, &prot), wlo);
	assert_int_equal(prot, RW);
	assert_int_equal(cub_vm_next(wlo + PG, whi, NULL, NULL), whi - PG);
	assert_int_equal(cub_vm_unmap(wlo, PG), 0);
	assert_int_equal(cub_vm_unmap(whi - PG, PG), 0);
	assert_int_equal(cub_vm_next(wlo, whi, NULL, NULL), whi);
	/* The arena is mapped to itself: its pages are found at once, but
	 * not one that is unmapped, and nothing below it is mapped. */
	assert_int_equal(cub_vm_next(alo, ahi, &got, NULL), alo);
	assert_int_equal(got, alo);
	assert_int_equal(cub_vm_next(PG, alo + PG, NULL, NULL), alo);
	assert_int_equal(cub_vm_unmap(pa, PG), 0);
	assert_int_equal(cub_vm_next(pa, pa + 2 * PG, NULL, NULL), pa + PG);
	assert_int_equal(cub_vm_next(pa, pa + PG, NULL, NULL), pa + PG);
	assert_int_equal(cub_vm_map(pa, pa, PG, RW), 0);
	assert_int_equal(cub_vm_next(pa, pa + PG, NULL, NULL), pa);
	assert_int_equal(cub_vm_next(ahi - PG, whi, NULL, NULL), ahi - PG);
	assert_int_equal(cub_vm_next(ahi, whi, NULL, NULL), whi);
	cub_frame_free(pa);
}

/* ------------------------------------------------------ fault reports */

static void write_read_only(void *arg)
{
	uintptr_t pa = cub_frame_alloc(0);

	(void)arg;
	cub_vm_map(wlo, pa, PG, CUB_PROT_READ);
	*(volatile char *)(wlo + 8) = 1;
}

static void read_unmapped(void *arg)
{
	(void)arg;
	(void)*(volatile char *)(wlo + 3 * PG);
}

static void exec_nx(void *arg)
{
	uintptr_t pa = cub_frame_alloc(0);

	(void)arg;
	cub_vm_map(wlo, pa, PG, RW);
	*(volatile unsigned char *)wlo = 0xC3;
	((void (*)(void))wlo)();
}

/* The fault is the point: UBSan must not stop it first. */
__attribute__((no_sanitize("undefined"))) static void null_write(void *arg)
{
	(void)arg;
	*(volatile int *)(uintptr_t)arg = 1;
}

static void test_fault_reports(void **state)
{
	char want[96];

	(void)state;
	assert_dies_with(write_read_only, NULL, "*** cubrt fault ***");
	assert_dies_with(write_read_only, NULL, "page fault on a protected page (SIGSEGV)");
	assert_dies_with(write_read_only, NULL, "(write to a protected page)");
	snprintf(want, sizeof(want), "address %016lx", (unsigned long)wlo + 8);
	assert_dies_with(write_read_only, NULL, want);
	assert_dies_with(write_read_only, NULL, "backtrace:");
	/* The load address, to symbolise a position-independent binary. */
	assert_dies_with(write_read_only, NULL, "program test_mem_vm loaded at ");
	assert_dies_with(write_read_only, NULL, ": RIP at +0x");
	assert_dies_with(read_unmapped, NULL, "(read from a protected page)");
	/* valgrind translates code by reading it: a read fault there. */
	assert_dies_with(exec_nx, NULL, on_valgrind() ? "a protected page)"
				       : "(instruction fetch from a protected page)");
	assert_dies_with(null_write, NULL, "NULL pointer dereference");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_alias_unmap),
		cmocka_unit_test(test_protect),
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_validation),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_next),
		cmocka_unit_test(test_fault_reports),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
