/*
 * acpi.c - just enough ACPI to route interrupts: find the RSDP, walk the
 * RSDT/XSDT to the MADT ("APIC") and read its I/O APICs and ISA interrupt
 * source overrides.
 *
 * Every table is checked for readability (cub_arch_addr_readable) and
 * checksum before use: a broken or missing table means "no MADT", never
 * a fault.
 */
#include <cubrt/arch.h>
#include <cubrt/string.h>

#include "intr.h"
#include "x86.h"

struct sdt_header {
	char sig[4];
	uint32_t len;
	uint8_t rev, sum;
	char oem[6], oem_table[8];
	uint32_t oem_rev, creator, creator_rev;
} __attribute__((packed));
_Static_assert(sizeof(struct sdt_header) == 36, "ACPI header");

#define MADT_PCAT_COMPAT 1u
#define MADT_IOAPIC 1
#define MADT_ISO 2
#define MAX_TABLE (1u << 20)

static bool checksum_ok(uintptr_t p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += ((const uint8_t *)p)[i];
	return sum == 0;
}

/* The RSDP: 16-byte aligned in the EBDA's first KiB or 0xE0000-0xFFFFF. */
static uintptr_t scan_rsdp(uintptr_t lo, uintptr_t hi)
{
	for (uintptr_t p = lo; p + 20 <= hi; p += 16)
		if (cub_memcmp((const void *)p, "RSD PTR ", 8) == 0 &&
		    checksum_ok(p, 20))
			return p;
	return 0;
}

/* Page 0 (with the EBDA pointer) is unmapped to catch NULL: the EBDA is
 * searched only while it is readable, then the BIOS area. */
static uintptr_t find_rsdp(void)
{
	uintptr_t ebda, p = 0;

	if (cub_arch_addr_readable(0x40E, 2)) {
		uintptr_t bda = 0x40E;

		__asm__("" : "+r"(bda));	/* a real pointer, not a constant */
		ebda = (uintptr_t)*(volatile uint16_t *)bda << 4;
		if (ebda >= 0x80000 && ebda < 0xA0000 &&
		    cub_arch_addr_readable(ebda, 1024))
			p = scan_rsdp(ebda, ebda + 1024);
	}
	if (!p && cub_arch_addr_readable(0xE0000, 0x20000))
		p = scan_rsdp(0xE0000, 0x100000);
	return p;
}

static const struct sdt_header *table_at(uint64_t pa)
{
	const struct sdt_header *h = (const void *)(uintptr_t)pa;

	if (!pa || pa >= X86_PHYS_LIMIT ||
	    !cub_arch_addr_readable((uintptr_t)pa, sizeof(*h)))
		return NULL;
	if (h->len < sizeof(*h) || h->len > MAX_TABLE ||
	    !cub_arch_addr_readable((uintptr_t)pa, h->len) ||
	    !checksum_ok((uintptr_t)pa, h->len))
		return NULL;
	return h;
}

/* Finds the MADT through the XSDT (ACPI 2+) or the RSDT. */
static const struct sdt_header *find_madt(void)
{
	uintptr_t rsdp = find_rsdp();
	const struct sdt_header *root;
	uint64_t xsdt = 0;
	size_t esize = 4;

	if (!rsdp)
		return NULL;
	if (((const uint8_t *)rsdp)[15] >= 2)
		cub_memcpy(&xsdt, (const void *)(rsdp + 24), 8);
	root = xsdt ? table_at(xsdt) : NULL;
	if (root)
		esize = 8;
	else
		root = table_at(*(const uint32_t *)(rsdp + 16));
	if (!root)
		return NULL;
	for (size_t off = sizeof(*root); off + esize <= root->len; off += esize) {
		uint64_t pa = 0;
		const struct sdt_header *t;

		cub_memcpy(&pa, (const char *)root + off, esize);
		t = table_at(pa);
		if (t && cub_memcmp(t->sig, "APIC", 4) == 0)
			return t;
	}
	return NULL;
}

static void madt_entry(struct x86_madt *m, const uint8_t *e)
{
	uint32_t v;
	uint16_t flags;

	if (e[0] == MADT_IOAPIC && e[1] >= 12 && m->n_ioapic < ACPI_MAX_IOAPICS) {
		cub_memcpy(&v, e + 4, 4);
		m->ioapic_addr[m->n_ioapic] = v;
		cub_memcpy(&v, e + 8, 4);
		m->ioapic_gsi_base[m->n_ioapic++] = v;
	} else if (e[0] == MADT_ISO && e[1] >= 10 && e[2] == 0 && e[3] < 16) {
		cub_memcpy(&v, e + 4, 4);
		cub_memcpy(&flags, e + 8, 2);
		m->isa_gsi[e[3]] = v;
		m->isa_flags[e[3]] = flags;
	}
}

/* Fills *m from the MADT; ISA irqs without override map to the same GSI.
 * Contexts: boot (after paging). */
bool cubi_x86_acpi_madt(struct x86_madt *m)
{
	const struct sdt_header *t;
	const uint8_t *p, *end;
	uint32_t flags;

	cub_memset(m, 0, sizeof(*m));
	for (unsigned i = 0; i < 16; i++)
		m->isa_gsi[i] = i;
	t = find_madt();
	if (!t || t->len < sizeof(*t) + 8)
		return false;
	p = (const uint8_t *)t + sizeof(*t);
	cub_memcpy(&flags, p + 4, 4);
	m->pcat_compat = flags & MADT_PCAT_COMPAT;
	end = (const uint8_t *)t + t->len;
	for (p += 8; p + 2 <= end && p[1] >= 2 && p + p[1] <= end; p += p[1])
		madt_entry(m, p);
	return true;
}
