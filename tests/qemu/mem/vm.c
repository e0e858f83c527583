/*
 * vm.c - the paging API on bare metal: map a frame at a fresh address,
 * read it back through the identity map, alias it read-only, change
 * protections (NX honoured: code runs only once mapped executable),
 * unmap, and every validation error; the access checks
 * (cub_arch_addr_readable/writable, which cache the leaves they find)
 * following every change, and refusing non-canonical addresses;
 * cub_vm_next across empty tables and ones an unmap freed. Exit 0 when
 * all holds.
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/mem.h>
#include <cubrt/runtime.h>
#include <cubrt/string.h>

#define VA (512ull << 30)	/* far above the identity map */
#define PG CUB_PAGE_SIZE
#define RW (CUB_PROT_READ | CUB_PROT_WRITE)
#define CHECK(c) do { if (!(c)) { cub_printk("vm: FAIL: %s (line %d)\n", #c, __LINE__); return 1; } } while (0)

static int round_trips(void)
{
	uintptr_t pa = cub_frame_alloc_run(2, CUB_FRAME_ZERO), got;
	unsigned prot;

	CHECK(cub_vm_query(VA, NULL, NULL) == -CUB_ENOENT);
	CHECK(cub_vm_map(VA, pa, 2 * PG, RW) == 0);
	CHECK(cub_vm_query(VA + PG + 5, &got, &prot) == 0);
	CHECK(got == pa + PG + 5 && prot == RW);
	cub_strlcpy((char *)(VA + PG), "mapped", 16);
	CHECK(cub_strcmp((char *)(pa + PG), "mapped") == 0);
	CHECK(cub_vm_map(VA + 8 * PG, pa + PG, PG, CUB_PROT_READ) == 0);
	CHECK(cub_strcmp((char *)(VA + 8 * PG), "mapped") == 0);
	CHECK(cub_vm_protect(VA, 2 * PG, CUB_PROT_READ) == 0);
	CHECK(cub_vm_query(VA, NULL, &prot) == 0 && prot == CUB_PROT_READ);
	CHECK(cub_vm_protect(VA, 3 * PG, RW) == -CUB_ENOENT);	/* hole */
	CHECK(cub_vm_query(VA, NULL, &prot) == 0 && prot == CUB_PROT_READ);
	CHECK(cub_vm_protect(VA, 2 * PG, RW) == 0);
	((char *)VA)[0] = 'x';
	CHECK(cub_vm_unmap(VA, 9 * PG) == 0);
	CHECK(cub_vm_query(VA, NULL, NULL) == -CUB_ENOENT);
	CHECK(cub_vm_query(VA + 8 * PG, NULL, NULL) == -CUB_ENOENT);
	CHECK(((char *)pa)[0] == 'x');
	cub_frame_free_run(pa, 2);
	cub_printk("vm: map/alias/protect/unmap round trips ok\n");
	return 0;
}

static int exec(void)
{
	static const unsigned char code[] = { 0xB8, 42, 0, 0, 0, 0xC3 };
	uintptr_t pa = cub_frame_alloc(CUB_FRAME_ZERO);
	unsigned prot;

	CHECK(cub_vm_map(VA, pa, PG, RW) == 0);
	cub_memcpy((void *)VA, code, sizeof(code));
	CHECK(cub_vm_map(VA, pa, PG, RW | CUB_PROT_EXEC) == -CUB_EPERM);	/* W^X */
	CHECK(cub_vm_protect(VA, PG, CUB_PROT_READ | CUB_PROT_EXEC) == 0);
	CHECK(cub_vm_query(VA, NULL, &prot) == 0 && prot == (CUB_PROT_READ | CUB_PROT_EXEC));
	CHECK(((int (*)(void))VA)() == 42);
	CHECK(cub_vm_unmap(VA, PG) == 0);
	cub_frame_free(pa);
	cub_printk("vm: code runs from a R+X mapping\n");
	return 0;
}

static int validation(void)
{
	uintptr_t lo, hi, pa = cub_frame_alloc(0);

	cub_arch_image_range(&lo, &hi);
	/* The kernel text may be aliased read-only, never writable. */
	CHECK(cub_vm_map(VA, lo, PG, RW) == -CUB_EPERM);
	CHECK(cub_vm_map(VA, lo, PG, CUB_PROT_READ | CUB_PROT_EXEC) == -CUB_EPERM);
	CHECK(cub_vm_map(VA, lo, PG, CUB_PROT_READ) == 0);
	CHECK(cub_memcmp((void *)VA, (void *)lo, PG) == 0);
	CHECK(cub_vm_unmap(VA, PG) == 0);
	CHECK(cub_vm_map(VA + 1, pa, PG, RW) == -CUB_EINVAL);
	CHECK(cub_vm_map(VA, pa + 8, PG, RW) == -CUB_EINVAL);
	CHECK(cub_vm_map(VA, pa, 100, RW) == -CUB_EINVAL);
	CHECK(cub_vm_map(VA, pa, 0, RW) == -CUB_EINVAL);
	CHECK(cub_vm_map(VA, pa, SIZE_MAX & ~(PG - 1), RW) == -CUB_EINVAL);
	CHECK(cub_vm_map(CUB_VM_LIMIT - PG, pa, 2 * PG, RW) == -CUB_EINVAL);
	CHECK(cub_vm_map(VA, pa, PG, 16) == -CUB_EINVAL);
	CHECK(cub_vm_map(0, pa, PG, RW) == -CUB_EPERM);
	CHECK(cub_vm_map(lo, pa, PG, RW) == -CUB_EPERM);
	CHECK(cub_vm_protect(hi - PG, 2 * PG, RW) == -CUB_EPERM);
	CHECK(cub_vm_unmap(lo - PG, PG * 2) == -CUB_EPERM);
	CHECK(cub_vm_query(CUB_VM_LIMIT + PG, NULL, NULL) == -CUB_ENOENT);
	cub_frame_free(pa);
	cub_printk("vm: bad requests rejected\n");
	return 0;
}

/* Asked twice each time, so that the second answer comes from the
 * cache the checks keep: it must agree with the walk's, and both must
 * follow every change of the tables. */
static bool agreed = true;

static bool readable(uintptr_t a, size_t n)
{
	bool walked = cub_arch_addr_readable(a, n), cached = cub_arch_addr_readable(a, n);

	agreed &= walked == cached;
	return cached;
}

static bool writable(uintptr_t a, size_t n)
{
	bool walked = cub_arch_addr_writable(a, n), cached = cub_arch_addr_writable(a, n);

	agreed &= walked == cached;
	return cached;
}

static int access_checks(void)
{
	uintptr_t pa = cub_frame_alloc_run(2, CUB_FRAME_ZERO);
	static char var;

	CHECK(!readable(VA, 1));
	CHECK(cub_vm_map(VA, pa, 2 * PG, RW) == 0);
	CHECK(readable(VA + 10, 64) && writable(VA + 10, 64));
	CHECK(writable(VA + PG - 8, 16) && writable(VA, 2 * PG));
	CHECK(!readable(VA, 2 * PG + 1));
	CHECK(cub_vm_protect(VA + PG, PG, CUB_PROT_READ) == 0);
	CHECK(!writable(VA + PG - 8, 16) && !writable(VA + PG, 1));
	CHECK(readable(VA + PG - 8, 16) && writable(VA, PG));
	CHECK(cub_vm_unmap(VA + PG, PG) == 0);
	CHECK(!readable(VA + PG, 1) && !readable(VA + PG - 8, 16));
	CHECK(readable(VA, PG) && !readable(VA, PG + 1));
	CHECK(cub_vm_unmap(VA, PG) == 0);
	CHECK(!readable(VA, 1) && !writable(VA + 100, 1));
	CHECK(cub_vm_map(VA, pa, PG, CUB_PROT_READ) == 0);
	CHECK(readable(VA, PG) && !writable(VA, 1));
	CHECK(cub_vm_protect(VA, PG, RW) == 0);
	CHECK(writable(VA, 1));
	CHECK(cub_vm_unmap(VA, PG) == 0);
	CHECK(!readable(VA, 1));
	/* Through the identity map (large pages where nothing split them). */
	CHECK(writable(pa, 2 * PG) && readable((uintptr_t)&var, 1));
	CHECK(readable(VA, 0) && !readable(UINTPTR_MAX - 4, 16));
	/* A walk uses bits 12-47: one with bit 48 set would find var's entry. */
	CHECK(!readable((1ull << 48) + (uintptr_t)&var, 1));
	CHECK(!readable((uintptr_t)&var | 0xffff800000000000ull, 1));
	CHECK(agreed);
	cub_frame_free_run(pa, 2);
	cub_printk("vm: access checks follow map/protect/unmap\n");
	return 0;
}

/* cub_vm_next over the x86 tables: empty PML4, PDPT and PD entries
 * skipped, a table's last and a next table's first entry, large pages
 * of the identity map, ends past the lower half. */
static int next_checks(void)
{
	const uintptr_t T = 1ull << 40, GB = 1ull << 30, MB2 = 2ull << 20;
	uintptr_t pa = cub_frame_alloc(CUB_FRAME_ZERO), got = 0;
	uintptr_t far = VA + 700 * GB + 3 * MB2 + 5 * PG;
	unsigned prot = 0;

	CHECK(cub_vm_next(VA, VA + T, NULL, NULL) == VA + T);
	CHECK(cub_vm_next(VA, CUB_VM_LIMIT, NULL, NULL) == CUB_VM_LIMIT);
	CHECK(cub_vm_next(VA, UINTPTR_MAX, NULL, NULL) == UINTPTR_MAX);
	CHECK(cub_vm_map(far, pa, PG, CUB_PROT_READ) == 0);
	CHECK(cub_vm_next(VA, VA + T, &got, &prot) == far);
	CHECK(got == pa && prot == CUB_PROT_READ);
	CHECK(cub_vm_next(VA, UINTPTR_MAX, NULL, NULL) == far);
	CHECK(cub_vm_next(far, far + PG, NULL, NULL) == far);
	CHECK(cub_vm_next(VA, far, NULL, NULL) == far);	/* ends at it */
	CHECK(cub_vm_next(far + PG, VA + T, NULL, NULL) == VA + T);
	CHECK(cub_vm_next(far - PG, far + PG, NULL, NULL) == far);
	/* The last entry of a page table, then the first of the next. */
	CHECK(cub_vm_map(VA + MB2 - PG, pa, PG, RW) == 0);
	CHECK(cub_vm_map(VA + MB2, pa, PG, RW) == 0);
	CHECK(cub_vm_next(VA, VA + T, NULL, NULL) == VA + MB2 - PG);
	CHECK(cub_vm_next(VA + MB2 - PG + 1, VA + T, NULL, NULL) == VA + MB2 - PG);
	CHECK(cub_vm_next(VA + MB2 - PG + PG, VA + T, NULL, NULL) == VA + MB2);
	CHECK(cub_vm_next(VA + MB2 + PG, VA + T, NULL, NULL) == far);
	CHECK(cub_vm_unmap(VA + MB2 - PG, 2 * PG) == 0);
	/* The tables they emptied are gone (mem_tables): skipped at once. */
	CHECK(cub_vm_next(VA, VA + T, NULL, NULL) == far);
	CHECK(cub_vm_unmap(far, PG) == 0);
	CHECK(cub_vm_next(VA, VA + T, NULL, NULL) == VA + T);
	/* The identity map's frames are found where they are. */
	CHECK(cub_vm_next(pa, pa + PG, &got, NULL) == pa && got == pa);
	CHECK(cub_vm_next(CUB_VM_LIMIT - PG, UINTPTR_MAX, NULL, NULL) == UINTPTR_MAX);
	cub_frame_free(pa);
	cub_printk("vm: next mapped page skips empty tables\n");
	return 0;
}

int cub_main(void)
{
	if (round_trips() || exec() || validation() || access_checks() || next_checks())
		return 1;
	cub_printk("vm: ok\n");
	return 0;
}
