/*
 * heap.c - the global heap on bare metal under random load: 200,000 random
 * malloc/calloc/realloc/aligned_alloc/free calls on 1024 slots, every
 * block filled with a pattern that is verified before it is freed or
 * resized, cub_heap_check every 4096 calls, then everything freed and the
 * heap's areas given back: the free-frame count returns exactly. The seed
 * comes from the command line (default 1; "poison" runs seed 7 with heap
 * poisoning on) and is printed. Exit 0 when all holds.
 */
#include <cubrt/fmt.h>
#include <cubrt/heap.h>
#include <cubrt/mem.h>
#include <cubrt/runtime.h>
#include <cubrt/string.h>

#define SLOTS 1024
#define STEPS 200000
#define CHECK_EVERY 4096

static struct {
	uint8_t *p;
	size_t n;
	uint8_t pat;
} slot[SLOTS];
static uint64_t rng;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static size_t rand_size(void)
{
	return next() % 8 ? next() % 512 : next() % 32768;
}

static bool intact(int i, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (slot[i].p[k] != (uint8_t)(slot[i].pat + k))
			return false;
	return true;
}

static void fill(int i)
{
	for (size_t k = 0; k < slot[i].n; k++)
		slot[i].p[k] = (uint8_t)(slot[i].pat + k);
}

/* One random call on slot i; false on a broken block. */
static bool step(int i)
{
	uint64_t r = next() % 10;
	uint8_t *q;

	if (!slot[i].p) {
		size_t n = rand_size(), a = (size_t)1 << (next() % 13);

		q = r < 6 ? cub_malloc(n) : r < 8 ? cub_calloc(1, n) : cub_aligned_alloc(a, n);
		if (!q)
			return true;
		if (r >= 8 && (uintptr_t)q % a)
			return false;
		slot[i].p = q;
		slot[i].n = n;
		slot[i].pat = (uint8_t)next();
		fill(i);
		return true;
	}
	if (!intact(i, slot[i].n))
		return false;
	if (r < 6) {
		cub_free(slot[i].p);
		slot[i].p = NULL;
	} else {
		size_t n = rand_size();

		q = cub_realloc(slot[i].p, n);
		if (!q)
			return true;
		slot[i].p = q;
		if (!intact(i, CUB_MIN(n, slot[i].n)))
			return false;
		slot[i].n = n;
		fill(i);
	}
	return true;
}

int cub_main(void)
{
	long seed = 1;
	size_t frames;
	struct cub_heap_stats st;

	if (!cub_strcmp(cub_cmdline(), "poison")) {
		cub_heap_set_poison(cub_heap_global(), true);
		seed = 7;
	} else if (cub_cmdline()[0] && cub_parse_long(cub_cmdline(), &seed)) {
		return 2;
	}
	rng = (uint64_t)seed * 0x9E3779B97F4A7C15ull | 1;
	cub_printk("heap: seed %ld\n", seed);
	cub_heap_release_free();
	frames = cub_frame_free_count();
	for (long s = 0; s < STEPS; s++) {
		if (!step((int)(next() % SLOTS))) {
			cub_printk("heap: FAIL: block contents changed at step %ld (seed %ld)\n", s, seed);
			return 1;
		}
		if (s % CHECK_EVERY == 0 && cub_heap_check())
			return 1;
	}
	cub_heap_stats(&st);
	cub_printk("heap: %d steps, %zu blocks live, %zu KiB in use, peak %zu KiB\n",
		   STEPS, st.blocks, st.in_use >> 10, st.peak >> 10);
	for (int i = 0; i < SLOTS; i++)
		cub_free(slot[i].p);
	if (cub_heap_check())
		return 1;
	cub_heap_release_free();
	if (cub_frame_free_count() != frames) {
		cub_printk("heap: FAIL: %zu frames free, %zu before\n", cub_frame_free_count(), frames);
		return 1;
	}
	cub_printk("heap: ok\n");
	return 0;
}
