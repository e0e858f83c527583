/*
 * exec.c - start a static Linux ELF executable in the running coroutine.
 *
 * Loads every PT_LOAD segment at its link address (ET_EXEC) or at a bias
 * in the VM window (ET_DYN: static-pie), builds the initial stack Linux
 * gives a new process, and jumps to the entry with all registers zero but
 * rsp (start.c). From then on the program is the coroutine; its system
 * calls reach cub_shim_syscall. Errors are returned before anything runs.
 */
#include <cubrt/arch.h>
#include <cubrt/string.h>

#include "../core/elf.h"
#include "shim_impl.h"

#define DYN_BIAS (80ull << 30)	/* static-pie load address; see mm.c */

struct image {
	const uint8_t *file;
	size_t len;
	const struct elf64_ehdr *eh;
	const struct elf64_phdr *ph;
	uintptr_t bias, phdr_addr, end;
};

static int check_header(struct image *im)
{
	const struct elf64_ehdr *eh = (const void *)im->file;

	if (im->len < sizeof(*eh) || cub_memcmp(eh->ident, "\177ELF\2\1", 6) ||
	    eh->machine != 62 || (eh->type != ET_EXEC && eh->type != ET_DYN) ||
	    eh->phentsize != sizeof(struct elf64_phdr) || eh->phnum == 0 ||
	    eh->phoff > im->len || eh->phnum * sizeof(struct elf64_phdr) > im->len - eh->phoff)
		return -CUB_EINVAL;
	im->eh = eh;
	im->ph = (const void *)(im->file + eh->phoff);
	im->bias = eh->type == ET_DYN ? DYN_BIAS : 0;
	return 0;
}

static unsigned seg_prot(uint32_t flags)
{
	return (flags & PF_R ? CUB_PROT_READ : 0) | (flags & PF_W ? CUB_PROT_WRITE : 0) |
	       (flags & PF_X ? CUB_PROT_EXEC : 0);
}

/* Maps one PT_LOAD segment writable, copies its file bytes, then applies
 * its real protection. */
static int load_segment(struct image *im, const struct elf64_phdr *p)
{
	uintptr_t va = p->vaddr + im->bias;
	uintptr_t lo = CUB_ALIGN_DOWN(va, CUB_PAGE_SIZE);
	uintptr_t hi = CUB_ALIGN_UP(va + p->memsz, CUB_PAGE_SIZE);
	struct cub_shim_regs r = { .rdi = lo, .rsi = hi - lo, .rdx = seg_prot(p->flags) };
	long rc;

	if (p->filesz > p->memsz || p->offset > im->len || p->filesz > im->len - p->offset ||
	    va + p->memsz < va)
		return -CUB_EINVAL;
	rc = cubi_mm_map(lo, hi - lo, CUB_PROT_READ | CUB_PROT_WRITE, true, true);
	if (rc < 0)
		return rc == -CUB_EEXIST ? -CUB_EBUSY : (int)rc;
	if (cubi_mm_populate_range(lo, hi))	/* filled here: no faults */
		return -CUB_ENOMEM;
	cub_memcpy((void *)va, im->file + p->offset, p->filesz);
	if (p->offset <= im->eh->phoff && im->eh->phoff < p->offset + p->filesz)
		im->phdr_addr = va + (im->eh->phoff - p->offset);
	if (hi > im->end)
		im->end = hi;
	return (int)cubi_sys_mprotect(&r);
}

static int load_segments(struct image *im)
{
	for (unsigned i = 0; i < im->eh->phnum; i++) {
		const struct elf64_phdr *p = &im->ph[i];
		int rc;

		if (p->type == PT_INTERP)
			return -CUB_EINVAL;	/* dynamically linked: not supported */
		if (p->type == PT_PHDR)
			im->phdr_addr = p->vaddr + im->bias;
		if (p->type != PT_LOAD || p->memsz == 0)
			continue;
		rc = load_segment(im, p);
		if (rc)
			return rc;
	}
	return im->phdr_addr ? 0 : -CUB_EINVAL;
}

int cub_shim_exec(const void *elf, size_t len, int argc, char *const argv[],
		  char *const envp[])
{
	struct image im = { .file = elf, .len = len };
	int rc;

	rc = check_header(&im);
	if (!rc)
		rc = load_segments(&im);
	if (rc)
		return rc;
	cubi_mm_set_brk(im.end);
	return cubi_shim_start(&(struct cubi_program){
		.entry = im.eh->entry + im.bias, .phdr = im.phdr_addr,
		.phnum = im.eh->phnum }, argc, argv, envp);
}
