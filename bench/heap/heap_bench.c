/*
 * heap_bench - cubrt's heap against the host's glibc malloc, measured in
 * the same run: a working set of live blocks of random sizes 16..4096
 * bytes; each step frees a random live block and allocates a new one in
 * its place (an alloc/free pair), writing the first and last byte of each
 * new block. The random slots and sizes are generated beforehand, so both
 * allocators see the same sequence and the loop times only the allocator.
 *
 * After a warm-up (which also grows each heap to its working size): a
 * throughput pass (ns per operation, an operation being one malloc or one
 * free), then LAT_PASSES latency passes timing every single operation with
 * the TSC. Reported from the pass with the smallest worst operation (a
 * slow path of the allocator recurs in every pass, a preemption of the
 * process by the OS does not): the worst, the 99.99th percentile, and how
 * many operations took over 1 us next to how many context switches and
 * page faults the OS counted meanwhile (on a busy host those explain the
 * slow operations).
 *
 * usage: heap_bench cubrt|glibc [LIVE [PAIRS]]
 * Prints notes for both allocators and the ratio, and `result:` for the
 * one named (scripts/bench runs it once per side).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <x86intrin.h>

#include <cubrt/heap.h>
#include <cubrt/mem.h>

struct alloc {
	const char *name;
	void *(*malloc_fn)(size_t);
	void (*free_fn)(void *);
};

#define LAT_PASSES 5

static uint32_t *slot_seq, *size_seq;
static void **live;
static size_t nlive = 1000, npairs = 2000000;
static uint64_t *lat;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *touch(void *p, size_t n)
{
	if (p) {
		((volatile char *)p)[0] = 1;
		((volatile char *)p)[n - 1] = 1;
	}
	return p;
}

static void fill(const struct alloc *a)
{
	for (size_t i = 0; i < nlive; i++)
		live[i] = touch(a->malloc_fn(size_seq[i]), size_seq[i]);
}

static void drain(const struct alloc *a)
{
	for (size_t i = 0; i < nlive; i++)
		a->free_fn(live[i]);
}

/* Throughput: ns per malloc or free. */
static double run_throughput(const struct alloc *a)
{
	uint64_t t0 = now_ns(), t1;

	for (size_t i = 0; i < npairs; i++) {
		uint32_t s = slot_seq[i];

		a->free_fn(live[s]);
		live[s] = touch(a->malloc_fn(size_seq[i]), size_seq[i]);
	}
	t1 = now_ns();
	return (double)(t1 - t0) / (2.0 * (double)npairs);
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

struct latency {
	double worst, p9999;
	size_t over_1us;		/* operations slower than 1 us */
	long switches, faults;		/* OS preemptions and page faults meanwhile */
};

/* Latency: every operation timed. */
static void run_latency(const struct alloc *a, double tsc_ns, struct latency *l)
{
	size_t n = 0;
	struct rusage r0, r1;

	getrusage(RUSAGE_SELF, &r0);

	for (size_t i = 0; i < npairs; i++) {
		uint32_t s = slot_seq[i];
		uint64_t t0, t1, t2;
		void *p;

		t0 = __rdtsc();
		a->free_fn(live[s]);
		t1 = __rdtsc();
		p = a->malloc_fn(size_seq[i]);
		t2 = __rdtsc();
		live[s] = touch(p, size_seq[i]);
		lat[n++] = t1 - t0;
		lat[n++] = t2 - t1;
	}
	getrusage(RUSAGE_SELF, &r1);
	qsort(lat, n, sizeof(*lat), cmp_u64);
	l->worst = (double)lat[n - 1] * tsc_ns;
	l->p9999 = (double)lat[n - n / 10000 - 1] * tsc_ns;
	l->over_1us = 0;
	while (l->over_1us < n && (double)lat[n - 1 - l->over_1us] * tsc_ns > 1000.0)
		l->over_1us++;
	l->switches = r1.ru_nivcsw - r0.ru_nivcsw + r1.ru_nvcsw - r0.ru_nvcsw;
	l->faults = r1.ru_minflt - r0.ru_minflt + r1.ru_majflt - r0.ru_majflt;
}

static double tsc_ns_per_tick(void)
{
	uint64_t n0 = now_ns(), c0 = __rdtsc(), n1, c1;

	do
		n1 = now_ns();
	while (n1 - n0 < 50000000);
	c1 = __rdtsc();
	return (double)(n1 - n0) / (double)(c1 - c0);
}

static void *glibc_malloc(size_t n) { return malloc(n); }
static void glibc_free(void *p) { free(p); }

int main(int argc, char **argv)
{
	const struct alloc allocs[2] = {
		{ "cubrt", cub_malloc, cub_free },
		{ "glibc", glibc_malloc, glibc_free },
	};
	double ns[2], tsc;
	struct latency best[2];
	int which;
	uint64_t rng = 0x2545F4914F6CDD1Dull;

	if (argc < 2 || (strcmp(argv[1], "cubrt") && strcmp(argv[1], "glibc"))) {
		fprintf(stderr, "usage: heap_bench cubrt|glibc [LIVE [PAIRS]]\n");
		return 2;
	}
	which = !strcmp(argv[1], "glibc");
	if (argc > 2)
		nlive = strtoul(argv[2], NULL, 0);
	if (argc > 3)
		npairs = strtoul(argv[3], NULL, 0);
	if (nlive < 1 || npairs < nlive)
		return 2;
	cubi_mem_init();
	slot_seq = malloc(npairs * sizeof(*slot_seq));
	size_seq = malloc(npairs * sizeof(*size_seq));
	live = malloc(nlive * sizeof(*live));
	lat = malloc(2 * npairs * sizeof(*lat));
	for (size_t i = 0; i < npairs; i++) {
		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		slot_seq[i] = (uint32_t)(rng % nlive);
		size_seq[i] = 16 + (uint32_t)((rng >> 32) % (4096 - 16 + 1));
	}
	tsc = tsc_ns_per_tick();
	for (int k = 0; k < 2; k++) {
		fill(&allocs[k]);
		run_throughput(&allocs[k]);		/* warm-up */
		ns[k] = run_throughput(&allocs[k]);
		/* OS preemption lands in some pass; the allocator's own worst
		 * case shows up in every pass: keep the smallest worst. */
		best[k].worst = 1e30;
		for (int pass = 0; pass < LAT_PASSES; pass++) {
			struct latency l;

			run_latency(&allocs[k], tsc, &l);
			if (l.worst < best[k].worst)
				best[k] = l;
		}
		drain(&allocs[k]);
	}
	for (int k = 0; k < 2; k++)
		printf("note: %s: %.1f ns/op, worst single op %.0f ns, p99.99 %.0f ns, "
		       "%zu ops over 1 us during %ld OS context switches and %ld page faults\n",
		       allocs[k].name, ns[k], best[k].worst, best[k].p9999,
		       best[k].over_1us, best[k].switches, best[k].faults);
	printf("note: cubrt/glibc throughput ratio %.3f (below 1: cubrt faster); "
	       "%zu live blocks of 16..4096 bytes, %zu alloc/free pairs\n",
	       ns[0] / ns[1], nlive, npairs);
	if (cub_heap_check())
		return 1;
	printf("result: %.2f ns/op\n", ns[which]);
	return 0;
}
