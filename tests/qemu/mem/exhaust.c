/*
 * exhaust.c - uses up the machine's memory and gives it all back: every
 * free frame one at a time (each written, to prove it is usable RAM),
 * contiguous runs, the heap grown until no frame is left, and stacks;
 * after each phase the free-frame count must be exactly what it was.
 * Exit 0 when all holds (any violation exits 1 or panics).
 */
#include <cubrt/fmt.h>
#include <cubrt/heap.h>
#include <cubrt/mem.h>
#include <cubrt/runtime.h>
#include <cubrt/stack.h>

#define FAIL(...) do { cub_printk("exhaust: FAIL: " __VA_ARGS__); cub_printk("\n"); return 1; } while (0)

/* Frames one by one, chained through their first word. */
static int frames_single(void)
{
	size_t before = cub_frame_free_count(), n = 0;
	uintptr_t head = 0, pa;

	while ((pa = cub_frame_alloc(0)) != 0) {
		*(uintptr_t *)pa = head;
		((uint8_t *)pa)[CUB_PAGE_SIZE - 1] = 0xA5;
		head = pa;
		n++;
	}
	if (n != before || cub_frame_free_count() != 0)
		FAIL("allocated %zu of %zu free frames", n, before);
	while (head) {
		pa = head;
		head = *(uintptr_t *)pa;
		if (((uint8_t *)pa)[CUB_PAGE_SIZE - 1] != 0xA5)
			FAIL("frame 0x%lx lost its contents", (unsigned long)pa);
		cub_frame_free(pa);
	}
	if (cub_frame_free_count() != before)
		FAIL("free count %zu after freeing, %zu before", cub_frame_free_count(), before);
	cub_printk("exhaust: %zu single frames (%zu MiB) allocated and freed\n",
		   n, n * CUB_PAGE_SIZE >> 20);
	return 0;
}

/* Runs of 64 frames until none is left, then single frames for the rest. */
static int frames_runs(void)
{
	size_t before = cub_frame_free_count(), runs = 0;
	uintptr_t head = 0, pa;

	while ((pa = cub_frame_alloc_run(64, CUB_FRAME_ZERO)) != 0) {
		for (size_t i = 0; i < 64 * CUB_PAGE_SIZE / 8; i += 509)
			if (((uint64_t *)pa)[i])
				FAIL("CUB_FRAME_ZERO run 0x%lx not zeroed", (unsigned long)pa);
		*(uintptr_t *)pa = head;
		head = pa;
		runs++;
	}
	while (head) {
		pa = head;
		head = *(uintptr_t *)pa;
		cub_frame_free_run(pa, 64);
	}
	if (cub_frame_free_count() != before)
		FAIL("free count %zu after runs, %zu before", cub_frame_free_count(), before);
	cub_printk("exhaust: %zu runs of 64 frames\n", runs);
	return 0;
}

/* The heap grows until the frames run out; everything is given back. */
static int heap_all(void)
{
	size_t before, blocks = 0, small = 0;
	void **head = NULL, **p;
	struct cub_heap_stats st;

	cub_heap_release_free();
	before = cub_frame_free_count();
	while ((p = cub_malloc(60000)) != NULL) {
		*p = head;
		head = p;
		blocks++;
	}
	while ((p = cub_malloc(24)) != NULL) {	/* fill the crumbs */
		*p = head;
		head = p;
		small++;
	}
	if (cub_frame_free_count() > 64)
		FAIL("heap stopped growing with %zu frames free", cub_frame_free_count());
	if (cub_heap_check())
		FAIL("heap check with a full heap");
	cub_heap_stats(&st);
	cub_printk("exhaust: heap full: %zu + %zu blocks, %zu KiB in use, %zu frames free\n",
		   blocks, small, st.in_use >> 10, cub_frame_free_count());
	while (head) {
		p = head;
		head = *p;
		cub_free(p);
	}
	if (cub_heap_check())
		FAIL("heap check after freeing");
	cub_heap_release_free();
	if (cub_frame_free_count() != before)
		FAIL("free count %zu after the heap, %zu before", cub_frame_free_count(), before);
	return 0;
}

static int stacks(void)
{
	static struct cub_stack st[256];
	size_t before, n = 0;

	cub_stack_cache_drain();
	before = cub_frame_free_count();
	for (n = 0; n < CUB_ARRAY_SIZE(st); n++) {
		if (cub_stack_alloc(&st[n], 16384, n % 3 ? 0 : CUB_STACK_NOGUARD))
			FAIL("stack %zu", n);
		((char *)st[n].lo)[st[n].size - 1] = 1;
		if (cub_stack_used(&st[n]) != 8 || !cub_stack_check(&st[n]))
			FAIL("stack %zu used %zu", n, cub_stack_used(&st[n]));
		if (n % 3 && !cub_stack_guarded(&st[n]))
			FAIL("stack %zu has no guard page", n);
	}
	for (n = 0; n < CUB_ARRAY_SIZE(st); n++)
		cub_stack_free(&st[n]);
	cub_stack_cache_drain();
	if (cub_frame_free_count() != before)
		FAIL("free count %zu after stacks, %zu before", cub_frame_free_count(), before);
	cub_printk("exhaust: %zu stacks\n", CUB_ARRAY_SIZE(st));
	return 0;
}

int cub_main(void)
{
	struct cub_frame_stats fs;

	cub_frame_stats(&fs);
	cub_printk("exhaust: %zu frames (%zu MiB), %zu free, bitmap %zu\n", fs.total,
		   fs.total * CUB_PAGE_SIZE >> 20, fs.free, fs.meta);
	if (frames_single() || frames_runs() || heap_all() || stacks())
		return 1;
	cub_printk("exhaust: ok\n");
	return 0;
}
