/*
 * symbols.c - function names for fault reports, from the image's own ELF
 * symbol table.
 *
 * A multiboot loader does not load .symtab, so scripts/run passes the image
 * file itself as multiboot module 0 (-initrd). We read its section headers
 * in place (the module stays reserved, see memmap.c). A stripped image, or
 * a boot without the module, simply reports bare addresses.
 */
#include <cubrt/arch.h>
#include <cubrt/string.h>

#include "../../src/core/elf.h"
#include "x86.h"

static const struct elf64_sym *syms;
static size_t nsyms;
static const char *strtab;
static size_t strtab_len;

static bool in_module(uint64_t off, uint64_t len, size_t mod_len)
{
	return off <= mod_len && len <= mod_len - off;
}

void cubi_x86_symbols_init(uintptr_t elf, size_t len)
{
	const struct elf64_ehdr *eh = (const void *)elf;
	const struct elf64_shdr *sh;

	if (len < sizeof(*eh) || cub_memcmp(eh->ident, "\177ELF\2", 5) ||
	    eh->shentsize != sizeof(*sh) ||
	    !in_module(eh->shoff, (uint64_t)eh->shnum * sizeof(*sh), len))
		return;
	sh = (const void *)(elf + eh->shoff);
	for (unsigned i = 0; i < eh->shnum; i++) {
		const struct elf64_shdr *str;

		if (sh[i].type != SHT_SYMTAB || sh[i].link >= eh->shnum)
			continue;
		str = &sh[sh[i].link];
		if (!in_module(sh[i].offset, sh[i].size, len) ||
		    !in_module(str->offset, str->size, len))
			return;
		syms = (const void *)(elf + sh[i].offset);
		nsyms = sh[i].size / sizeof(*syms);
		strtab = (const char *)(elf + str->offset);
		strtab_len = str->size;
		return;
	}
}

const char *cub_arch_symbol(uintptr_t addr, uintptr_t *off)
{
	const struct elf64_sym *best = NULL;

	for (size_t i = 0; i < nsyms; i++) {
		const struct elf64_sym *s = &syms[i];

		unsigned type = s->info & 0xF;

		/* Objects too: a jump into data names the array it hit. */
		if ((type != STT_FUNC && type != STT_OBJECT) || s->value > addr ||
		    s->name >= strtab_len)
			continue;
		if (s->size && addr >= s->value + s->size)
			continue;
		if (!best || s->value > best->value)
			best = s;
	}
	if (!best)
		return NULL;
	*off = addr - best->value;
	return strtab + best->name;
}
