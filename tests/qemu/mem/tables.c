/*
 * tables.c - x86 page tables an unmap leaves empty are freed: 1,000
 * maps 1 GiB apart each give back every frame and table; unmapping in
 * the middle of a table frees nothing, the last entry frees it and its
 * emptied parents; a freed table's frame, reused and filled with
 * entries that would map a decoy, never answers for the address it
 * covered (a new mapping there reads its own frame); tables of a split
 * 2 MiB identity page stay; a map that runs out of frames gives back
 * the tables it made. The boot pool is drained first so every table is
 * a frame (cubi_x86_table_stats). Exit 0 when all holds.
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/mem.h>
#include <cubrt/runtime.h>

#include "../../../platform/x86/x86.h"

#define PG CUB_PAGE_SIZE
#define GB (1ull << 30)
#define MB2 (2ull << 20)
#define TB (1ull << 40)
#define RW (CUB_PROT_READ | CUB_PROT_WRITE)
#define ADDR 0x000FFFFFFFFFF000ull
#define CHECK(c) do { if (!(c)) { cub_printk("tables: FAIL: %s (line %d)\n", #c, __LINE__); return 1; } } while (0)

static size_t live(void)
{
	size_t n, pool;

	cubi_x86_table_stats(&n, &pool);
	return n;
}

static size_t pool_left(void)
{
	size_t n, pool;

	cubi_x86_table_stats(&n, &pool);
	return pool;
}

/* The page table holding va's entry at level (1: the PT, 2: the PD, 3:
 * the PDPT), read from CR3 as the MMU does; 0 when a table above is
 * missing or a large page maps va. */
static uintptr_t table_at(uintptr_t va, int level)
{
	uint64_t *t = (uint64_t *)(uintptr_t)(read_cr3() & ADDR);

	for (int l = 4; l > level; l--) {
		uint64_t e = t[(va >> (12 + 9 * (l - 1))) & 511];

		if (!(e & 1) || (e & 0x80))
			return 0;
		t = (uint64_t *)(uintptr_t)(e & ADDR);
	}
	return (uintptr_t)t;
}

/* Pages mapped at fresh 512 GiB slots until the boot pool is empty, so
 * the tables the tests make are frames of the allocator. */
#define DRAIN_BASE (64 * TB)
static size_t drained;

static int drain_pool(uintptr_t frame)
{
	while (pool_left() > 0 && drained < 40) {
		CHECK(cub_vm_map(DRAIN_BASE + drained * 512 * GB, frame, PG, RW) == 0);
		drained++;
	}
	CHECK(pool_left() == 0);
	return 0;
}

/* 1,000 pages 1 GiB apart, each mapped, written, read and unmapped:
 * a PD and a PT (and a PDPT every 512) made and freed each time. */
static int churn(uintptr_t frame)
{
	const uintptr_t pa = frame + 7 * PG;	/* the others keep their marks */
	size_t free0 = cub_frame_free_count(), live0 = live();

	for (uint64_t i = 0; i < 1000; i++) {
		uintptr_t va = TB + i * GB + (i % 512) * PG;

		CHECK(cub_vm_map(va, pa, PG, RW) == 0);
		CHECK(live() >= live0 + 2 && cub_frame_free_count() <= free0 - 2);
		*(volatile uint64_t *)va = i * 0x9E3779B97F4A7C15ull;
		CHECK(*(volatile uint64_t *)pa == i * 0x9E3779B97F4A7C15ull);
		CHECK(cub_vm_unmap(va, PG) == 0);
		CHECK(live() == live0 && cub_frame_free_count() == free0);
		CHECK(!cub_arch_addr_readable(va, 1) && table_at(va, 1) == 0);
	}
	cub_printk("tables: 1000 pages 1 GiB apart mapped and unmapped, "
		   "every frame back each time\n");
	return 0;
}

/* Unmapping inside a table frees nothing; its last entry frees it, the
 * next table's last entry frees that, the PD and the PDPT. */
static int middle(uintptr_t pa)
{
	const uintptr_t va = 8 * TB;
	const unsigned slots[] = { 0, 1, 2, 511 };
	size_t free0 = cub_frame_free_count(), live0 = live(), live1;
	uintptr_t pt;

	for (unsigned i = 0; i < 4; i++)
		CHECK(cub_vm_map(va + slots[i] * PG, pa + i * PG, PG, RW) == 0);
	CHECK(cub_vm_map(va + MB2, pa + 4 * PG, PG, RW) == 0);
	live1 = live();
	CHECK(live1 == live0 + 4);	/* PDPT, PD, two PTs */
	pt = table_at(va, 1);
	CHECK(pt && table_at(va + MB2, 1) && table_at(va + MB2, 1) != pt);
	CHECK(cub_vm_unmap(va + PG, PG) == 0);
	CHECK(live() == live1 && table_at(va, 1) == pt);
	CHECK(*(volatile uint64_t *)va == 0xAA00 && *(volatile uint64_t *)(va + 2 * PG) == 0xAA02);
	CHECK(*(volatile uint64_t *)(va + 511 * PG) == 0xAA03);
	CHECK(cub_vm_unmap(va, 511 * PG) == 0);	/* a range, 2 present */
	CHECK(live() == live1 && table_at(va, 1) == pt);
	CHECK(!cub_arch_addr_readable(va, 1) && cub_arch_addr_readable(va + 511 * PG, PG));
	CHECK(cub_vm_unmap(va + 511 * PG, PG) == 0);
	CHECK(live() == live1 - 1 && table_at(va, 1) == 0 && table_at(va, 2) != 0);
	CHECK(!cub_frame_is_allocated(pt));
	CHECK(cub_vm_next(va, va + GB, NULL, NULL) == va + MB2);
	CHECK(*(volatile uint64_t *)(va + MB2) == 0xAA04);
	CHECK(cub_vm_unmap(va, 4 * MB2) == 0);
	CHECK(live() == live0 && cub_frame_free_count() == free0);
	CHECK(table_at(va, 2) == 0 && table_at(va, 3) == 0);
	cub_printk("tables: unmaps inside a table free nothing, its last entry "
		   "frees it and its emptied parents\n");
	return 0;
}

/*
 * A page read through (its translation cached), unmapped: its PT, PD
 * and PDPT are freed. Those frames are taken back and filled with
 * entries mapping a decoy frame; a walk through any cached link to them
 * would find the decoy. The address must be unmapped, and a new mapping
 * there and beside it must read their own frames.
 */
static int stale(uintptr_t pa)
{
	const uintptr_t va = 9 * TB + 3 * GB + 5 * MB2 + 7 * PG;
	uintptr_t old[3], decoy = cub_frame_alloc(0), got[64];
	size_t n = 0, found = 0, live0 = live();

	CHECK(decoy);
	*(volatile uint64_t *)decoy = 0xDEC0;
	CHECK(cub_vm_map(va, pa, PG, RW) == 0);
	CHECK(*(volatile uint64_t *)va == 0xAA00);
	for (int l = 1; l <= 3; l++)
		CHECK((old[l - 1] = table_at(va, l)) != 0);
	CHECK(cub_vm_unmap(va, PG) == 0);
	for (int i = 0; i < 3; i++)
		CHECK(!cub_frame_is_allocated(old[i]));
	while (found < 3 && n < 64 && (got[n] = cub_frame_alloc(0)) != 0) {
		uint64_t *t = (uint64_t *)got[n];

		for (int i = 0; i < 3; i++)
			found += got[n] == old[i];
		for (unsigned e = 0; e < 512; e++)
			t[e] = decoy | 3;	/* P|RW: PDPTE, PDE or PTE alike */
		n++;
	}
	CHECK(found == 3);
	CHECK(cub_vm_query(va, NULL, NULL) == -CUB_ENOENT && !cub_arch_addr_readable(va, 1));
	CHECK(cub_vm_map(va, pa + PG, PG, RW) == 0);
	CHECK(cub_vm_map(va + PG, pa, PG, RW) == 0);
	CHECK(*(volatile uint64_t *)va == 0xAA01 && *(volatile uint64_t *)(va + PG) == 0xAA00);
	*(volatile uint64_t *)va = 0x5EED;
	CHECK(*(volatile uint64_t *)(pa + PG) == 0x5EED && *(volatile uint64_t *)decoy == 0xDEC0);
	*(volatile uint64_t *)(pa + PG) = 0xAA01;
	CHECK(cub_vm_unmap(va, 2 * PG) == 0 && live() == live0);
	while (n)
		cub_frame_free(got[--n]);
	cub_frame_free(decoy);
	cub_printk("tables: a freed table's frame reused as a decoy table is "
		   "never walked; new mappings there read their own frames\n");
	return 0;
}

/* A 2 MiB identity page unmapped page by page: its split PT stays even
 * when empty, the PD holding large pages too; mapped back it works. */
static int pinned(void)
{
	uintptr_t run = cub_frame_alloc_run(1024, 0), a = CUB_ALIGN_UP(run, MB2);
	size_t live0 = live();
	uintptr_t pd = table_at(a, 2);
	size_t split = table_at(a, 1) == 0;	/* a 2 MiB leaf maps a */

	CHECK(run && pd);
	CHECK(cub_vm_unmap(a, MB2) == 0);
	CHECK(live() == live0 + split && table_at(a, 1) != 0 && table_at(a, 2) == pd);
	CHECK(!cub_arch_addr_readable(a, 1) && !cub_arch_addr_readable(a + MB2 - PG, 1));
	CHECK(cub_vm_next(a, a + MB2, NULL, NULL) == a + MB2);
	CHECK(cub_vm_map(a, a, MB2, RW) == 0 && live() == live0 + split);
	*(volatile uint64_t *)(a + 77 * PG) = 0x1D;
	CHECK(*(volatile uint64_t *)(a + 77 * PG) == 0x1D);
	cub_frame_free_run(run, 1024);
	cub_printk("tables: a split identity page's table stays when emptied\n");
	return 0;
}

/* With k < 3 frames left a map at a fresh 512 GiB slot fails with
 * -CUB_ENOMEM and gives back what it made; with 3 it works. Nothing is
 * printed while the frames are used up. */
static int enomem(uintptr_t pa)
{
	const uintptr_t va = 10 * TB + 5 * PG;
	size_t live0 = live(), free0 = cub_frame_free_count(), k;
	uintptr_t head = 0, f;
	int rc = 0;

	while (cub_frame_free_count() > 0 && (f = cub_frame_alloc(0)) != 0) {
		*(uintptr_t *)f = head;
		head = f;
	}
	for (k = 0; k <= 3 && !rc; k++) {
		if (k > 0) {	/* one more frame free */
			f = head;
			head = *(uintptr_t *)f;
			cub_frame_free(f);
		}
		if (cub_vm_map(va, pa, PG, RW) != (k < 3 ? -CUB_ENOMEM : 0))
			rc = 10 + (int)k;
		else if (k < 3 && (live() != live0 || cub_frame_free_count() != k))
			rc = 20 + (int)k;
		else if (k == 3 && *(volatile uint64_t *)va != 0xAA00)
			rc = 30;
	}
	if (!rc && (cub_vm_unmap(va, PG) || cub_frame_free_count() != 3 || live() != live0))
		rc = 40;
	while (head) {
		f = head;
		head = *(uintptr_t *)f;
		cub_frame_free(f);
	}
	CHECK(rc == 0);
	CHECK(cub_frame_free_count() == free0);
	cub_printk("tables: a map out of frames gives back the tables it made\n");
	return 0;
}

int cub_main(void)
{
	uintptr_t pa = cub_frame_alloc_run(8, CUB_FRAME_ZERO);
	size_t live0, free0;

	CHECK(pa);
	for (unsigned i = 0; i < 8; i++)
		*(uint64_t *)(pa + i * PG) = 0xAA00 + i;
	if (drain_pool(pa))
		return 1;
	live0 = live();
	free0 = cub_frame_free_count();
	if (churn(pa) || middle(pa) || stale(pa) || pinned() || enomem(pa))
		return 1;
	CHECK(live() == live0 + 1 || live() == live0);	/* pinned()'s split PT */
	CHECK(cub_frame_free_count() == free0 - (live() - live0));
	for (size_t i = 0; i < drained; i++)
		CHECK(cub_vm_unmap(DRAIN_BASE + i * 512 * GB, PG) == 0);
	CHECK(pool_left() > 0);
	cub_frame_free_run(pa, 8);
	cub_printk("tables: ok\n");
	return 0;
}
