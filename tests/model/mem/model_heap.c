/*
 * model_heap - randomized model test of the heap: random malloc, calloc,
 * free, realloc and aligned_alloc calls checked against a shadow model of
 * the live blocks (address, size, alignment, a byte pattern over every
 * byte), with cub_heap_check every CHECK_EVERY steps. The heap runs over
 * its own memory: a first area plus areas added by a grow callback, some
 * contiguous (merged) and some not, with poisoning on in half the runs.
 *
 * usage: model_heap [SEED [STEPS]]   (or $CUBRT_SEED, $CUBRT_STEPS)
 * The seed is printed first; a failure prints it again with the step.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cubrt/heap.h>

#define SLOTS 4096
#define CHECK_EVERY 4096
#define FIRST_AREA (4u << 20)
#define GROW_POOL (64u << 20)

struct slot {
	uint8_t *p;
	size_t n, align;
	uint8_t pat;
};

static struct slot slots[SLOTS];
static struct cub_heap heap;
static uint64_t rng, seed;
static unsigned long step;
static uint8_t *pool;
static size_t pool_used;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void die(const char *what, const struct slot *s)
{
	fprintf(stderr, "model_heap: FAILED at step %lu: %s (block %p size %zu align %zu)\n"
		"model_heap: reproduce with: model_heap %llu %lu\n",
		step, what, s ? (void *)s->p : NULL, s ? s->n : 0, s ? s->align : 0,
		(unsigned long long)seed, step + 1);
	exit(1);
}

/* Mostly small sizes, some medium, a few large ones (up to 256 KiB). */
static size_t rand_size(void)
{
	uint64_t r = next() % 100;

	if (r < 60)
		return next() % 256;
	if (r < 90)
		return next() % 4096;
	if (r < 99)
		return next() % 65536;
	return next() % (256 * 1024);
}

static void fill(struct slot *s)
{
	for (size_t i = 0; i < s->n; i++)
		s->p[i] = (uint8_t)(s->pat + i * 7);
}

static void verify(const struct slot *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s->p[i] != (uint8_t)(s->pat + i * 7))
			die("block contents changed", s);
}

static void placed(struct slot *s, size_t align)
{
	if (!s->p)
		return;
	if ((uintptr_t)s->p % (align < 16 ? 16 : align))
		die("misaligned block", s);
	if (cub_heap_usable_size(&heap, s->p) < s->n)
		die("usable size below the request", s);
}

/* Grows from the pool; every third area leaves a gap (no merge). */
static int grow(struct cub_heap *h, size_t min)
{
	size_t n = (min + 65535) & ~(size_t)65535, gap = 0;

	if (next() % 3 == 0)
		gap = 4096;
	if (pool_used + gap + n > GROW_POOL)
		return -CUB_ENOMEM;
	pool_used += gap + n;
	return cub_heap_add_area(h, pool + pool_used - n, n);
}

static void op(struct slot *s)
{
	uint64_t r = next() % 100;
	size_t n;

	if (!s->p) {
		s->n = rand_size();
		s->pat = (uint8_t)next();
		s->align = 0;
		if (r < 60) {
			s->p = cub_heap_alloc(&heap, s->n);
		} else if (r < 75) {
			size_t cnt = 1 + next() % 8, each = s->n / 8;

			s->n = cnt * each;
			s->p = cub_heap_calloc(&heap, cnt, each);
			for (size_t i = 0; s->p && i < s->n; i++)
				if (s->p[i])
					die("calloc memory not zeroed", s);
		} else {
			s->align = (size_t)1 << (next() % 13);
			s->p = cub_heap_aligned_alloc(&heap, s->align, s->n);
		}
		placed(s, s->align);
		if (s->p)
			fill(s);
		return;
	}
	if (r < 55) {
		verify(s, s->n);
		cub_heap_free(&heap, s->p);
		s->p = NULL;
	} else {
		uint8_t *q;

		n = r < 80 ? rand_size() : s->n + next() % 512;
		q = cub_heap_realloc(&heap, s->p, n);
		if (!q)
			return;		/* ENOMEM: the old block stays */
		s->p = q;
		verify(s, n < s->n ? n : s->n);
		s->n = n;
		s->align = 0;
		placed(s, 0);
		fill(s);
	}
}

static void check_all(void)
{
	struct cub_heap_stats st;
	size_t live = 0;

	if (cub_heap_check_of(&heap))
		die("cub_heap_check failed", NULL);
	for (size_t i = 0; i < SLOTS; i++)
		live += slots[i].p != NULL;
	cub_heap_stats_of(&heap, &st);
	if (st.blocks != live)
		die("block count differs from the model", NULL);
}

int main(int argc, char **argv)
{
	const char *es = getenv("CUBRT_SEED"), *en = getenv("CUBRT_STEPS");
	unsigned long steps = 1000000;
	void *first;

	seed = argc > 1 ? strtoull(argv[1], NULL, 0) : es ? strtoull(es, NULL, 0) : 0;
	if (!seed) {
		FILE *f = fopen("/dev/urandom", "rb");

		if (!f || fread(&seed, sizeof(seed), 1, f) != 1)
			seed = 0x9E3779B97F4A7C15ull;
		if (f)
			fclose(f);
		seed |= 1;
	}
	if (argc > 2 || en)
		steps = strtoul(argc > 2 ? argv[2] : en, NULL, 0);
	printf("model_heap: seed %llu, %lu steps\n", (unsigned long long)seed, steps);
	fflush(stdout);
	rng = seed;
	first = malloc(FIRST_AREA);
	pool = malloc(GROW_POOL);
	if (!first || !pool || cub_heap_init(&heap, first, FIRST_AREA))
		die("setup", NULL);
	heap.grow = grow;
	cub_heap_set_poison(&heap, seed & 2);
	for (step = 0; step < steps; step++) {
		op(&slots[next() % SLOTS]);
		if (step % CHECK_EVERY == 0)
			check_all();
	}
	check_all();
	for (size_t i = 0; i < SLOTS; i++) {
		if (slots[i].p) {
			verify(&slots[i], slots[i].n);
			cub_heap_free(&heap, slots[i].p);
			slots[i].p = NULL;
		}
	}
	check_all();
	printf("model_heap: ok (seed %llu, %lu steps, poison %s)\n",
	       (unsigned long long)seed, steps, heap.poison ? "on" : "off");
	free(first);
	free(pool);
	return 0;
}
