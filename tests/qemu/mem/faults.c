/*
 * faults.c - memory misuse that must end in a report; the command line
 * picks the scenario (tests/qemu/mem/meson.build checks each report):
 *   ro       write to a read-only cub_vm_map mapping
 *   nx       jump into a mapping without CUB_PROT_EXEC
 *   guard    overflow a named guarded stack into its guard page
 *   dfree    cub_free the same block twice
 *   overrun  cub_free a block whose header a neighbour's overrun clobbered
 *   uaf      write to freed memory (poisoned heap) and allocate it again
 * Reaching the end of cub_main is a failure (status 1).
 */
#include <cubrt/fmt.h>
#include <cubrt/heap.h>
#include <cubrt/mem.h>
#include <cubrt/runtime.h>
#include <cubrt/stack.h>
#include <cubrt/string.h>

#define VA (512ull << 30)

__attribute__((noinline)) static void ro(void)
{
	cub_vm_map(VA, cub_frame_alloc(0), CUB_PAGE_SIZE, CUB_PROT_READ);
	*(volatile char *)(VA + 16) = 1;
}

__attribute__((noinline)) static void nx(void)
{
	uintptr_t pa = cub_frame_alloc(0);

	*(volatile unsigned char *)pa = 0xC3;
	cub_vm_map(VA, pa, CUB_PAGE_SIZE, CUB_PROT_READ);
	((void (*)(void))VA)();
}

__attribute__((noinline)) static void guard(void)
{
	static struct cub_stack st;

	cub_stack_alloc(&st, 8192, 0);
	cub_stack_set_name(&st, "test stack 'worker'");
	*(volatile char *)((char *)st.lo - 8) = 1;
}

__attribute__((noinline)) static void dfree(void)
{
	void *p = cub_malloc(100);

	cub_free(p);
	cub_free(p);
}

__attribute__((noinline)) static void overrun(void)
{
	char *a = cub_malloc(100), *b = cub_malloc(100);

	cub_memset(a, 'x', cub_malloc_usable_size(a) + 8);
	cub_free(b);
}

__attribute__((noinline)) static void uaf(void)
{
	struct cub_heap *h = cub_heap_global();
	char *p;

	cub_heap_set_poison(h, true);
	p = cub_malloc(300);
	(void)cub_malloc(16);
	cub_free(p);
	p[200] = 1;
	(void)cub_malloc(300);
}

int cub_main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} cases[] = {
		{ "ro", ro }, { "nx", nx }, { "guard", guard }, { "dfree", dfree },
		{ "overrun", overrun }, { "uaf", uaf },
	};
	const char *arg = cub_cmdline();

	for (size_t i = 0; i < CUB_ARRAY_SIZE(cases); i++) {
		if (!cub_strcmp(arg, cases[i].name)) {
			cub_printk("scenario: %s\n", arg);
			cases[i].fn();
		}
	}
	cub_printk("faults: no fault for '%s'\n", arg);
	return 1;
}
