/*
 * mmhuge.c - memory calls on huge, sparsely used mappings, as Go's
 * runtime and many allocators make them: a 128 GiB PROT_NONE
 * reservation unmapped untouched; another with 64 scattered pages made
 * writable and written, the whole range made PROT_NONE (the frames
 * parked), readable again (the bytes kept, the untouched pages still
 * absent), writable, dropped by MADV_DONTNEED and unmapped; a 64 GiB
 * shared memfd mapping with a few pages touched, the file truncated
 * under it. Each call on the whole range costs what the range holds
 * (cub_vm_next skips absent page tables; parked frames are found in the
 * park table), where a walk of every page froze TCG for 30 to 120 s a
 * call (this program took 27.8 s with that walk, 0.02 s without): all
 * of it must end in 5 s. One line per check, a summary.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"

#define PG 4096l
#define GIB (1l << 30)
#define HUGE (128 * GIB)
#define NPAGES (HUGE / PG)
#define SCATTER 64
static long free_pages(void)
{
	struct sysinfo si;

	sysinfo(&si);
	return (long)(si.freeram * si.mem_unit / PG);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The k-th scattered page: the first, the last and 62 spread between. */
static long page_of(int k)
{
	return k == 0 ? 0 : k == 1 ? NPAGES - 1 : (long)k * (NPAGES / SCATTER) + k * 4099l;
}

static int resident(const char *p)
{
	unsigned char v = 0;

	return mincore((void *)p, PG, &v) == 0 && (v & 1);
}

static void untouched(void)
{
	char *p = mmap(NULL, HUGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	check("128 GiB PROT_NONE reserved", p != MAP_FAILED);
	check("mprotect of it to NONE", mprotect(p, HUGE, PROT_NONE) == 0);
	check("munmap of it untouched", munmap(p, HUGE) == 0);
}

static void scattered(long free0)
{
	char *p = mmap(NULL, HUGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	int ok = p != MAP_FAILED, same = 1, absent = 1;

	check("128 GiB PROT_NONE reserved again", ok);
	if (!ok)
		return;
	for (int k = 0; k < SCATTER; k++) {
		char *q = p + page_of(k) * PG;

		ok &= mprotect(q, PG, PROT_READ | PROT_WRITE) == 0;
		if (ok)
			q[100] = (char)(k * 7 + 1);
	}
	check("64 scattered pages made writable and written", ok);
	check("the whole range made PROT_NONE", mprotect(p, HUGE, PROT_NONE) == 0);
	check("the whole range readable again", mprotect(p, HUGE, PROT_READ) == 0);
	for (int k = 0; k < SCATTER; k++)
		same &= p[page_of(k) * PG + 100] == (char)(k * 7 + 1);
	check("every written byte kept across PROT_NONE", same);
	for (int k = 2; k < SCATTER; k++)
		absent &= !resident(p + (page_of(k) + 1) * PG);
	check("the pages next to them still absent", absent);
	check("the whole range writable", mprotect(p, HUGE, PROT_READ | PROT_WRITE) == 0);
	p[HUGE / 2 + 5] = 1;	/* a fault in the middle */
	check("MADV_DONTNEED on the whole range", madvise(p, HUGE, MADV_DONTNEED) == 0);
	check("a dropped page reads zero", p[100] == 0 && p[HUGE / 2 + 5] == 0);
	check("the scattered pages unmapped at once", munmap(p, HUGE) == 0);
	/* The page tables made for them too (x86 frees a table an unmap
	 * empties). */
	check("their frames are back", free_pages() >= free0);
}

static void truncated(void)
{
	int fd = memfd_create("huge", 0), ok;
	char *p;

	ok = fd >= 0 && ftruncate(fd, 64 * GIB) == 0;
	check("a 64 GiB memfd", ok);
	if (!ok)
		return;
	p = mmap(NULL, 64 * GIB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	check("mapped shared", p != MAP_FAILED);
	if (p == MAP_FAILED)
		return;
	for (int k = 0; k < 8; k++)
		p[(long)k * 8 * GIB + 3] = 'a' + k;
	check("a page read back", p[3] == 'a' && p[7 * 8 * GIB + 3] == 'h');
	check("truncated to one page under the mapping", ftruncate(fd, PG) == 0);
	check("the first page kept", p[3] == 'a');
	check("grown again: the rest reads zero",
	      ftruncate(fd, 64 * GIB) == 0 && p[7 * 8 * GIB + 3] == 0);
	check("unmapped", munmap(p, 64 * GIB) == 0);
	close(fd);
}

int main(void)
{
	long free0 = free_pages();
	double t0 = now(), took;

	untouched();
	scattered(free0);
	truncated();
	took = now() - t0;
	printf("mmhuge: the calls took %.2f s\n", took);
	check("in well under the timeout (5 s)", took < 5);
	printf("mmhuge: %d of %d checks passed\n", passed, total);
	return passed == total ? 0 : 1;
}
