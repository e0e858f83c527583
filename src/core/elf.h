/*
 * elf.h - the ELF64 records cubrt reads (System V gABI, x86-64): the file
 * header (also read back from cubrt's own image, src/shim/linux_main.c),
 * program headers (the shim's loader, src/shim/exec.c) and section
 * headers and symbols (the fault report's symbolizer, platform/x86/
 * symbols.c). Only the fields and constants those readers use are named.
 * Private to cubrt.
 */
#ifndef CUBRT_CORE_ELF_H
#define CUBRT_CORE_ELF_H

#include <cubrt/base.h>

struct elf64_ehdr {
	unsigned char ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

struct elf64_shdr {
	uint32_t name, type;
	uint64_t flags, addr, offset, size;
	uint32_t link, info;
	uint64_t addralign, entsize;
};

struct elf64_sym {
	uint32_t name;
	unsigned char info, other;
	uint16_t shndx;
	uint64_t value, size;
};

_Static_assert(sizeof(struct elf64_ehdr) == 64, "ELF64 file header");
_Static_assert(sizeof(struct elf64_phdr) == 56, "ELF64 program header");
_Static_assert(sizeof(struct elf64_shdr) == 64, "ELF64 section header");
_Static_assert(sizeof(struct elf64_sym) == 24, "ELF64 symbol");

#define ET_EXEC 2		/* ehdr.type */
#define ET_DYN 3
#define PT_LOAD 1		/* phdr.type */
#define PT_INTERP 3
#define PT_PHDR 6
#define PF_X 1			/* phdr.flags */
#define PF_W 2
#define PF_R 4
#define SHT_SYMTAB 2		/* shdr.type */
#define STT_OBJECT 1		/* sym.info & 15 */
#define STT_FUNC 2

#endif
