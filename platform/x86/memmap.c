/*
 * memmap.c - the firmware memory map from multiboot, minus everything the
 * frame allocator must never hand out.
 *
 * Invariants of the result (see cub_arch_mem_regions in arch.h): regions
 * are page aligned, sorted, disjoint, and exclude the first 1 MiB (BIOS,
 * real-mode structures), the image, the multiboot info, memory map,
 * command line and modules. Modules stay reserved forever: the first is
 * normally the image's own ELF file (passed by scripts/run for symbolised
 * reports), the others what the application reads (cub_arch_boot_module;
 * the shim unpacks cpio archives into its file system).
 */
#include <cubrt/arch.h>
#include <cubrt/panic.h>
#include <cubrt/string.h>

#include "x86.h"

#define MB_BOOT_MAGIC 0x2BADB002
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS (1u << 3)
#define MB_INFO_MMAP (1u << 6)
#define MAX_REGIONS 32
#define MAX_RESERVED 24
#define MAX_MODULES 8
#define CMDLINE_MAX 1024

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
} __attribute__((packed));

struct mb_mmap {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

struct mb_mod {
	uint32_t start, end, string, reserved;
};

struct range {
	uint64_t lo, hi;
};

static struct cub_mem_region regions[MAX_REGIONS];
static size_t nregions;
static struct range reserved[MAX_RESERVED];
static size_t nreserved;
static struct range modules[MAX_MODULES];	/* multiboot modules, in order */
static unsigned nmodules;
static char cmdline[CMDLINE_MAX];
static struct range ram_ranges[MAX_REGIONS];	/* every e820 range, any type */
static size_t nram;

static void reserve(uint64_t lo, uint64_t hi)
{
	if (nreserved == MAX_RESERVED)
		cub_panic("memmap: more than %d reserved ranges", MAX_RESERVED);
	reserved[nreserved++] = (struct range){ CUB_ALIGN_DOWN(lo, CUB_PAGE_SIZE),
						CUB_ALIGN_UP(hi, CUB_PAGE_SIZE) };
}

static void add_region(uint64_t lo, uint64_t hi)
{
	if (lo >= hi)
		return;
	if (nregions == MAX_REGIONS)
		return;		/* further RAM is ignored, not misused */
	regions[nregions++] = (struct cub_mem_region){ (uintptr_t)lo, (size_t)(hi - lo) };
}

/* Adds [lo, hi) minus every reserved range, splitting around them. */
static void add_usable(uint64_t lo, uint64_t hi)
{
	lo = CUB_ALIGN_UP(lo, CUB_PAGE_SIZE);
	hi = CUB_ALIGN_DOWN(hi, CUB_PAGE_SIZE);
	for (size_t i = 0; i < nreserved && lo < hi; i++) {
		const struct range *r = &reserved[i];

		if (r->hi <= lo || r->lo >= hi)
			continue;
		if (r->lo > lo)
			add_usable(lo, r->lo);
		lo = r->hi;
	}
	add_region(lo, hi);
}

static void sort_regions(void)
{
	for (size_t i = 1; i < nregions; i++)
		for (size_t j = i; j > 0 && regions[j - 1].base > regions[j].base; j--) {
			struct cub_mem_region t = regions[j];

			regions[j] = regions[j - 1];
			regions[j - 1] = t;
		}
}

static void reserve_boot_info(const struct mb_info *mbi)
{
	reserve(0, 0x100000);
	reserve((uintptr_t)__image_start, (uintptr_t)__image_end);
	reserve((uintptr_t)mbi, (uintptr_t)mbi + sizeof(*mbi));
	if (mbi->flags & MB_INFO_MMAP)
		reserve(mbi->mmap_addr, (uint64_t)mbi->mmap_addr + mbi->mmap_length);
	if (mbi->flags & MB_INFO_CMDLINE) {
		/* QEMU passes "<image path> <-append text>": keep the text. */
		const char *c = (const char *)(uintptr_t)mbi->cmdline;

		while (*c && *c != ' ')
			c++;
		while (*c == ' ')
			c++;
		cub_strlcpy(cmdline, c, sizeof(cmdline));
	}
	if ((mbi->flags & MB_INFO_MODS) && mbi->mods_count) {
		const struct mb_mod *m = (const void *)(uintptr_t)mbi->mods_addr;

		reserve(mbi->mods_addr, mbi->mods_addr + mbi->mods_count * sizeof(*m));
		for (uint32_t i = 0; i < mbi->mods_count; i++) {
			reserve(m[i].start, m[i].end);
			if (nmodules < MAX_MODULES)
				modules[nmodules++] = (struct range){ m[i].start, m[i].end };
		}
	}
}

void cubi_x86_memmap_init(uint32_t magic, uintptr_t info)
{
	const struct mb_info *mbi = (const void *)info;
	uintptr_t p, end;

	if (magic != MB_BOOT_MAGIC)
		cub_panic("boot: not started by a multiboot loader (magic %x)", magic);
	if (!(mbi->flags & MB_INFO_MMAP))
		cub_panic("boot: the loader passed no memory map");
	reserve_boot_info(mbi);
	p = mbi->mmap_addr;
	end = p + mbi->mmap_length;
	while (p < end) {
		const struct mb_mmap *e = (const void *)p;

		if (nram < MAX_REGIONS)
			ram_ranges[nram++] = (struct range){ e->addr, e->addr + e->len };
		if (e->type == 1 && e->addr < X86_PHYS_LIMIT)
			add_usable(e->addr, CUB_MIN(e->addr + e->len, X86_PHYS_LIMIT));
		p += e->size + sizeof(e->size);
	}
	sort_regions();
}

size_t cub_arch_mem_regions(const struct cub_mem_region **out)
{
	*out = regions;
	return nregions;
}

void cub_arch_image_range(uintptr_t *lo, uintptr_t *hi)
{
	*lo = (uintptr_t)__image_start;
	*hi = (uintptr_t)__image_end;
}

/* Every range the firmware listed (RAM or reserved), for the identity map. */
size_t cubi_x86_firmware_ranges(uint64_t (*out)[2], size_t max)
{
	size_t n = nram < max ? nram : max;

	for (size_t i = 0; i < n; i++) {
		out[i][0] = ram_ranges[i].lo;
		out[i][1] = ram_ranges[i].hi;
	}
	return n;
}

bool cub_arch_boot_module(unsigned i, const void **base, size_t *len)
{
	if (i >= nmodules || modules[i].hi <= modules[i].lo)
		return false;
	*base = (const void *)(uintptr_t)modules[i].lo;
	*len = (size_t)(modules[i].hi - modules[i].lo);
	return true;
}

const char *cubi_x86_cmdline(void)
{
	return cmdline;
}
