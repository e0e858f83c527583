/*
 * demand.c - demand paging seen by an unmodified musl program on bare
 * metal (128 MiB of RAM): a 4 GiB mapping costs nothing until touched; a
 * touch takes its aligned 64 KiB block (fault-around), visible in free
 * RAM (sysinfo), mincore and VmRSS; MADV_DONTNEED and munmap give the
 * frames back; system calls read and write untouched buffers; untouched
 * read-only and PROT_NONE pages still fault with SEGV_ACCERR;
 * MAP_POPULATE, mlock and MADV_POPULATE_WRITE page in at once; mremap
 * moves what was touched; threads' stacks page in as they grow; four
 * threads fault, DONTNEED and remap their pages at once, preempted, in
 * a seeded random run checked against their models. One line per
 * check, a summary.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "checks.h"

#define PG 4096l
#define BLOCK 16	/* pages a fault maps: its aligned 64 KiB block */
#define MIB (1l << 20)
#define TOUCHES 64

static long free_pages(void)
{
	struct sysinfo si;

	sysinfo(&si);
	return (long)(si.freeram * si.mem_unit / PG);
}

static long rss_kib(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = atol(line + 6);
	if (f)
		fclose(f);
	return kib;
}

/* Resident pages of [p, p + n pages), n <= 256, by mincore. */
static int resident(const char *p, int n)
{
	unsigned char vec[256];
	int in = 0;

	if (n > 256 || mincore((void *)p, (size_t)n * PG, vec))
		return -1;
	for (int i = 0; i < n; i++)
		in += vec[i] & 1;
	return in;
}

static char *map4g;		/* the 4 GiB mapping (and 64 KiB more) */
static char *big;		/* its first 64 KiB-aligned address */
static sigjmp_buf back;
static volatile int got_code;
static volatile uintptr_t got_addr;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	got_code = si->si_code;
	got_addr = (uintptr_t)si->si_addr;
	siglongjmp(back, 1);
}

/* Writes to p (or reads, write 0): the si_code of the SIGSEGV, or 0. */
static int segv_code(volatile char *p, int write)
{
	got_code = 0;
	got_addr = 0;
	if (!sigsetjmp(back, 1)) {
		if (write)
			*p = 1;
		else
			(void)*p;
	}
	return got_addr == (uintptr_t)p ? got_code : -1;
}

static void check_touches(void)
{
	long f0 = free_pages(), r0 = rss_kib(), f1, r1;
	int zero = 1, kept = 1;

	map4g = mmap(NULL, 4096 * MIB + BLOCK * PG, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check("mmap 4 GiB in 128 MiB of RAM", map4g != MAP_FAILED);
	if (map4g == MAP_FAILED)
		exit(1);
	big = (char *)(((uintptr_t)map4g + BLOCK * PG - 1) & ~(uintptr_t)(BLOCK * PG - 1));
	check("no frame taken by mmap", f0 - free_pages() < 4 && resident(big, 256) == 0);
	for (long i = 0; i < TOUCHES; i++) {
		zero &= big[i * MIB + 100] == 0;
		big[i * MIB + 100] = (char)(i + 1);
	}
	for (long i = 0; i < TOUCHES; i++)
		kept &= big[i * MIB + 100] == (char)(i + 1) && big[i * MIB + 5000] == 0;
	f1 = free_pages();
	r1 = rss_kib();
	check("fresh pages read zero, writes stay", zero && kept);
	printf("  %d touches: %ld pages taken, VmRSS +%ld KiB\n", TOUCHES, f0 - f1, r1 - r0);
	check("a touch takes its 64 KiB block", resident(big, 256) == BLOCK &&
	      resident(big + 3 * MIB - 8 * PG, 8) == 0 && resident(big + 3 * MIB, 32) == BLOCK);
	check("free RAM and VmRSS follow the touches",
	      f0 - f1 >= TOUCHES * BLOCK && f0 - f1 <= TOUCHES * BLOCK + 64 &&
	      r1 - r0 >= TOUCHES * BLOCK * 4 && r1 - r0 <= TOUCHES * BLOCK * 4 + 256);
	check("MADV_DONTNEED gives the frames back",
	      madvise(big, TOUCHES * MIB, MADV_DONTNEED) == 0 &&
	      free_pages() >= f1 + TOUCHES * BLOCK - 16 &&
	      rss_kib() <= r1 - TOUCHES * BLOCK * 4 + 64 && resident(big, 256) == 0 &&
	      big[3 * MIB + 100] == 0);
}

static void check_syscalls(void)
{
	int fds[2];
	char *in = big + 100 * MIB + 7, *out = big + 200 * MIB + 3, got[10];

	check("pipe", pipe(fds) == 0);
	check("read(2) into untouched memory",
	      write(fds[1], "hello", 5) == 5 && read(fds[0], in, 5) == 5 && !memcmp(in, "hello", 5));
	check("write(2) from untouched memory sends zeroes",
	      (memset(got, 0x55, sizeof(got)), write(fds[1], out, 10) == 10) &&
	      read(fds[0], got, 10) == 10 && !memcmp(got, (char[10]){ 0 }, 10));
	close(fds[0]);
	close(fds[1]);
}

static void check_faults(void)
{
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
	char *ro = mmap(NULL, 4 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *ro2 = mmap(NULL, 4 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *none = mmap(NULL, 4 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	sigaction(SIGSEGV, &sa, NULL);
	check("untouched PROT_READ page reads zero", ro != MAP_FAILED && ro[PG + 9] == 0);
	check("and a write to it is SEGV_ACCERR", segv_code(ro + 2 * PG + 1, 1) == SEGV_ACCERR);
	check("a write to an untouched PROT_READ page: SEGV_ACCERR",
	      ro2 != MAP_FAILED && segv_code(ro2 + PG, 1) == SEGV_ACCERR);
	check("untouched PROT_NONE page: SEGV_ACCERR", segv_code(none + 5, 0) == SEGV_ACCERR);
	check("unmapped page: SEGV_MAPERR", munmap(none, 4 * PG) == 0 &&
	      segv_code(none + 5, 0) == SEGV_MAPERR);
	signal(SIGSEGV, SIG_DFL);
	munmap(ro, 4 * PG);
	munmap(ro2, 4 * PG);
}

static void check_populate(void)
{
	const int prot = PROT_READ | PROT_WRITE, flags = MAP_PRIVATE | MAP_ANONYMOUS;
	char *a = mmap(NULL, 40 * PG, prot, flags | MAP_POPULATE, -1, 0);
	char *b = mmap(NULL, 40 * PG, prot, flags, -1, 0);
	char *c = mmap(NULL, 40 * PG, prot, flags, -1, 0), *d;

	check("MAP_POPULATE", resident(a, 40) == 40);
	check("mlock", resident(b, 40) == 0 && mlock(b + 3, 37 * PG) == 0 &&
	      resident(b, 40) == 38);
	check("MADV_POPULATE_WRITE", madvise(c, 20 * PG, 23) == 0 && resident(c, 40) == 20);
	c[0] = 'x';
	d = mremap(c, 40 * PG, 200 * PG, MREMAP_MAYMOVE);
	check("mremap moves the touched pages only",
	      d != MAP_FAILED && resident(d, 200) == 20 && d[0] == 'x' && d[199 * PG] == 0);
	munmap(a, 40 * PG);
	munmap(b, 40 * PG);
	munmap(d, 200 * PG);
}

/* Grows its stack by 96 KiB, one page at a time: 1 when all of it kept
 * what was written. */
static void *deep(void *arg)
{
	volatile char frame[96 * 1024];
	int ok = 1;

	(void)arg;
	for (size_t i = 0; i < sizeof(frame); i += PG)
		frame[i] = (char)(i / PG + 1);
	for (size_t i = 0; i < sizeof(frame); i += PG)
		ok &= frame[i] == (char)(i / PG + 1);
	return (void *)(uintptr_t)ok;
}

static void check_threads_and_unmap(long f0)
{
	pthread_t t[8];
	int ok = 1;

	for (int i = 0; i < 8; i++)
		ok &= pthread_create(&t[i], NULL, deep, NULL) == 0;
	for (int i = 0; i < 8; i++) {
		void *r;

		ok &= pthread_join(t[i], &r) == 0 && r == (void *)1;
	}
	check("threads' stacks page in as they grow", ok);
	check("munmap gives everything back",
	      munmap(map4g, 4096 * MIB + BLOCK * PG) == 0 && free_pages() >= f0 - 128);
}

/* A seeded random run: four threads, each on its own slice of one
 * mapping, write, read back, DONTNEED and remap pages of their slice
 * while the 10 ms slices preempt them, checking every read against
 * their model of the slice (faults, fault-around and madvise racing
 * across the threads' neighbouring pages). */
#define MT_THREADS 4
#define MT_PAGES 64		/* per thread */
#define MT_STEPS 12000

static char *mt_base;

static void *mt_worker(void *arg)
{
	long id = (long)(intptr_t)arg;
	char *slice = mt_base + id * MT_PAGES * PG, model[MT_PAGES] = { 0 };
	uint64_t rng = 0x9E3779B97F4A7C15ull * (uint64_t)(id + 1);
	long bad = 0;

	for (int step = 0; step < MT_STEPS; step++) {
		int pg, op;

		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		pg = (int)(rng % MT_PAGES), op = (int)(rng >> 32) % 8;
		bad += slice[pg * PG + 17] != model[pg];
		if (op == 0) {
			bad += madvise(slice + pg * PG, PG, MADV_DONTNEED) != 0;
			model[pg] = 0;
		} else if (op == 1) {	/* a fresh page in place */
			bad += mmap(slice + pg * PG, PG, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) !=
			       slice + pg * PG;
			model[pg] = 0;
		} else {
			model[pg] = (char)(1 + (rng >> 40) % 120);
			slice[pg * PG + 17] = model[pg];
		}
	}
	return (void *)(intptr_t)bad;
}

static void check_threads_random(void)
{
	pthread_t t[MT_THREADS];
	long bad = 0;

	mt_base = mmap(NULL, MT_THREADS * MT_PAGES * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (long i = 0; mt_base != MAP_FAILED && i < MT_THREADS; i++)
		pthread_create(&t[i], NULL, mt_worker, (void *)(intptr_t)i);
	for (int i = 0; mt_base != MAP_FAILED && i < MT_THREADS; i++) {
		void *r;

		pthread_join(t[i], &r);
		bad += (long)(intptr_t)r;
	}
	check("four threads fault, write, DONTNEED and remap at once: every read as modelled",
	      mt_base != MAP_FAILED && bad == 0 &&
	      munmap(mt_base, MT_THREADS * MT_PAGES * PG) == 0);
}

int main(void)
{
	long f0 = free_pages();

	check_touches();
	check_syscalls();
	check_faults();
	check_populate();
	check_threads_random();
	check_threads_and_unmap(f0);
	printf("demand: %d of %d checks passed\n", passed, total);
	return passed == total ? 0 : 1;
}
