/*
 * shared.c - shared file mappings seen by an unmodified musl program:
 * two MAP_SHARED mappings of one shm_open object and read/write(2) all
 * see the same bytes; a named semaphore (sem_open) hands a token between
 * threads, one blocked in sem_wait; a pthread mutex and condvar marked
 * PTHREAD_PROCESS_SHARED live in the shared object; the mapping outlives
 * unlink and close; ftruncate grows it (mremap over the new pages) and
 * shrinks it (the dropped pages are SIGBUS, BUS_ADRERR); a read-only
 * descriptor cannot give a writable shared mapping (EACCES, at mmap and
 * at mprotect); private mappings are copies on write, page by page;
 * a PROT_WRITE-only private mapping reads the file (the read faulted
 * forever before: its borrowed pages were mapped with no access; found
 * by musl_fuzz; an alarm ends a relapse in 10 s);
 * /proc/self/maps names the file; fallocate reserves and punches frames,
 * MADV_REMOVE punches. One line per check, a
 * summary.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "checks.h"

#define PG 4096

static sigjmp_buf back;
static volatile int got_sig, got_code;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_sig = sig;
	got_code = si->si_code;
	siglongjmp(back, 1);
}

/* Reads p: the signal it raised (0: none). */
static int read_signal(volatile char *p)
{
	got_sig = 0;
	if (!sigsetjmp(back, 1))
		(void)*p;
	return got_sig;
}

static void check_coherence(int fd, char *a, char *b)
{
	char c = 0;

	a[10] = 'A';
	check("a store through one mapping shows in the other", b[10] == 'A');
	check("and in read(2)", pread(fd, &c, 1, 10) == 1 && c == 'A');
	check("write(2) shows in both mappings",
	      pwrite(fd, "W", 1, PG + 20) == 1 && a[PG + 20] == 'W' && b[PG + 20] == 'W');
	check("msync", msync(a, 2 * PG, MS_SYNC) == 0);
}

struct box {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int value;
};

static void *bump(void *arg)
{
	struct box *x = arg;

	pthread_mutex_lock(&x->mu);
	x->value = 42;
	pthread_cond_signal(&x->cv);
	pthread_mutex_unlock(&x->mu);
	return NULL;
}

/* A process-shared mutex and condvar in a second mapping of the object. */
static void check_pshared(char *a, char *b)
{
	struct box *x = (struct box *)(void *)(a + 2048), *y = (struct box *)(void *)(b + 2048);
	pthread_mutexattr_t ma;
	pthread_condattr_t ca;
	pthread_t t;

	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_condattr_init(&ca);
	pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&x->mu, &ma);
	pthread_cond_init(&x->cv, &ca);
	x->value = 0;
	pthread_mutex_lock(&x->mu);
	pthread_create(&t, NULL, bump, y);	/* the thread uses the other mapping */
	while (x->value == 0)
		pthread_cond_wait(&x->cv, &x->mu);
	pthread_mutex_unlock(&x->mu);
	pthread_join(t, NULL);
	check("process-shared mutex and condvar across two mappings", x->value == 42);
}

static void *poster(void *arg)
{
	sem_t *s = sem_open("/cubrt-token", 0);

	(void)arg;
	usleep(20000);		/* the main thread blocks in sem_wait first */
	return (void *)(intptr_t)(s != SEM_FAILED && sem_post(s) == 0 && sem_close(s) == 0);
}

static void check_semaphore(void)
{
	sem_t *s = sem_open("/cubrt-token", O_CREAT | O_EXCL, 0600, 0);
	pthread_t t;
	void *ok = NULL;
	int v = -1;

	check("sem_open creates /dev/shm/cubrt-token (musl: no sem. prefix)",
	      s != SEM_FAILED && access("/dev/shm/cubrt-token", F_OK) == 0);
	pthread_create(&t, NULL, poster, NULL);
	check("sem_wait wakes on another thread's sem_post (its own sem_open)",
	      sem_wait(s) == 0 && pthread_join(t, &ok) == 0 && ok == (void *)1);
	check("sem_getvalue", sem_getvalue(s, &v) == 0 && v == 0);
	check("sem_unlink", sem_close(s) == 0 && sem_unlink("/cubrt-token") == 0 &&
	      sem_open("/cubrt-token", 0) == SEM_FAILED && errno == ENOENT);
}

static void check_sizes(int fd, char *a)
{
	struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO };
	char *c;

	sigaction(SIGBUS, &sa, NULL);
	check("ftruncate grows the object; mremap maps the new pages",
	      ftruncate(fd, 4 * PG) == 0 &&
	      (c = mremap(a, 2 * PG, 4 * PG, MREMAP_MAYMOVE)) != MAP_FAILED &&
	      c[10] == 'A' && (c[3 * PG] = 'T', 1));
	check("a shrink drops the pages past the end: SIGBUS, BUS_ADRERR",
	      ftruncate(fd, PG) == 0 && read_signal(c + 3 * PG) == SIGBUS &&
	      got_code == BUS_ADRERR && read_signal(c + 100) == 0 && c[10] == 'A');
	check("growing again reads zeroes there",
	      ftruncate(fd, 4 * PG) == 0 && read_signal(c + 3 * PG) == 0 && c[3 * PG] == 0);
	signal(SIGBUS, SIG_DFL);
	munmap(c, 4 * PG);
}

static void check_access(void)
{
	int ro = shm_open("/cubrt-shm", O_RDONLY, 0);
	char *p = ro >= 0 ? mmap(NULL, PG, PROT_READ, MAP_SHARED, ro, 0) : MAP_FAILED;
	char *q = ro >= 0 ? mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0) : MAP_FAILED;

	check("read-only descriptor: a read-only shared mapping", p != MAP_FAILED && p[10] == 'A');
	check("but not a writable one: EACCES at mmap and at mprotect",
	      mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0) == MAP_FAILED &&
	      errno == EACCES && mprotect(p, PG, PROT_READ | PROT_WRITE) == -1 && errno == EACCES);
	check("a private mapping is a copy", q != MAP_FAILED && q[10] == 'A' &&
	      (q[10] = 'P', p[10] == 'A'));
	munmap(p, PG);
	munmap(q, PG);
	close(ro);
}

/* /proc/self/maps has a line for [p, p + len): "rw-s", the file. */
static int in_maps(const char *p, size_t len, const char *path)
{
	char line[256], want[64];
	FILE *f = fopen("/proc/self/maps", "r");
	int found = 0;

	snprintf(want, sizeof(want), "%08lx-%08lx rw-s 00000000 ",
		 (unsigned long)(uintptr_t)p, (unsigned long)(uintptr_t)(p + len));
	while (f && fgets(line, sizeof(line), f))
		found |= strncmp(line, want, strlen(want)) == 0 && strstr(line, path) != NULL;
	if (f)
		fclose(f);
	return found;
}

static long free_pages(void)
{
	struct sysinfo si;

	sysinfo(&si);
	return (long)(si.freeram * si.mem_unit / PG);
}

/* fallocate reserves and punches; MADV_REMOVE punches through a mapping. */
static void check_holes(void)
{
	int fd = open("/tmp/cubrt-holes", O_CREAT | O_RDWR, 0600);
	char *m = MAP_FAILED, c = 1;
	long f0 = free_pages(), f1, f2;

	if (fd >= 0 && fallocate(fd, 0, 0, 64 * PG) == 0)
		m = mmap(NULL, 64 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	f1 = free_pages();
	check("fallocate takes the frames at once", m != MAP_FAILED && f0 - f1 >= 64);
	if (m == MAP_FAILED)
		return;
	memset(m, 'x', 64 * PG);
	check("PUNCH_HOLE gives them back; the mapping reads zeros",
	      fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 64 * PG) == 0 &&
	      (f2 = free_pages()) - f1 >= 60 && m[5 * PG] == 0 && m[0] == 0);
	m[3 * PG + 1] = 'r';
	check("MADV_REMOVE punches through the mapping",
	      madvise(m + 3 * PG, PG, MADV_REMOVE) == 0 && m[3 * PG + 1] == 0 &&
	      pread(fd, &c, 1, 3 * PG + 1) == 1 && c == 0);
	munmap(m, 64 * PG);
	close(fd);
}

/* A private mapping writable from mmap: pages not yet written are the
 * file's (its later writes show, as on Linux), a written page is the
 * mapping's own, read(2) into it writes too, DONTNEED drops a copy. */
static void check_private_writable(int fd)
{
	char *m = mmap(NULL, 64 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0), c = 0;
	long f0 = free_pages(), f1;
	int sum = 0;

	if (m == MAP_FAILED)
		return check("a writable private mapping", 0);
	for (int i = 0; i < 64; i++)
		sum += m[i * PG];
	f1 = free_pages();
	check("reading a writable private mapping of 64 pages copies nothing",
	      sum == 'p' && f0 - f1 < 4);
	m[7 * PG] = 'w';
	check("a store copies one page, the file keeps its byte",
	      m[7 * PG] == 'w' && f1 - free_pages() < 4 && pread(fd, &c, 1, 7 * PG) == 1 && c == 0);
	check("a page not yet written shows the file's later write",
	      pwrite(fd, "L", 1, 9 * PG) == 1 && m[9 * PG] == 'L');
	check("a written page does not", pwrite(fd, "F", 1, 7 * PG) == 1 && m[7 * PG] == 'w');
	check("read(2) into it copies the page in",
	      pread(fd, m + 11 * PG, 1, 9 * PG) == 1 && m[11 * PG] == 'L' &&
	      pread(fd, &c, 1, 11 * PG) == 1 && c == 0);
	check("MADV_DONTNEED drops the copy: the file's byte again",
	      madvise(m + 7 * PG, PG, MADV_DONTNEED) == 0 && m[7 * PG] == 'F');
	munmap(m, 64 * PG);
}

/* A private mapping borrows the file's pages and copies one at its
 * first write, as Linux's copy on write: writable from the start, or
 * made writable by mprotect. */
static void check_private(void)
{
	int fd = open("/tmp/cubrt-private", O_CREAT | O_RDWR, 0600);
	char *m = MAP_FAILED, c = 0;
	long f0, f1, f2;

	if (fd < 0 || fallocate(fd, 0, 0, 64 * PG) || pwrite(fd, "p", 1, 5 * PG) != 1)
		return check("a file for a private mapping", 0);
	f0 = free_pages();
	m = mmap(NULL, 64 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
	f1 = (m != MAP_FAILED && m[63 * PG] == 0 && m[5 * PG] == 'p') ? free_pages() : 0;
	check("a read-only private mapping of 64 pages takes no frame of its own",
	      m != MAP_FAILED && f0 - f1 < 8);
	check("mprotect to writable copies nothing; a store copies its page; the file keeps its bytes",
	      m != MAP_FAILED && mprotect(m, 64 * PG, PROT_READ | PROT_WRITE) == 0 &&
	      (f2 = free_pages(), f1 - f2 < 4) && (m[5 * PG] = 'P', f2 - free_pages() < 4) &&
	      m[5 * PG] == 'P' && pread(fd, &c, 1, 5 * PG) == 1 && c == 'p');
	munmap(m, 64 * PG);
	check_private_writable(fd);
	close(fd);
}

/* PROT_WRITE alone reads on x86 and Linux: a private file mapping's
 * pages borrowed from the file must be mapped readable, at the first
 * read or after mprotect; a system call reads from them too. SIGALRM's
 * default action ends the program should a read fault forever. */
static void check_write_only(void)
{
	int fd = open("/tmp/cubrt-wronly", O_CREAT | O_RDWR, 0600), out = open("/dev/null", O_WRONLY);
	char *m = MAP_FAILED, *r = MAP_FAILED;

	if (fd < 0 || out < 0 || pwrite(fd, "w", 1, 3 * PG) != 1)
		return check("a file for a write-only mapping", 0);
	alarm(10);
	m = mmap(NULL, 4 * PG, PROT_WRITE, MAP_PRIVATE, fd, 0);
	check("a PROT_WRITE-only private mapping reads the file, as does write(2) from it",
	      m != MAP_FAILED && m[3 * PG] == 'w' && write(out, m + 3 * PG, 1) == 1);
	check("a store copies the page, the file keeps its byte",
	      m != MAP_FAILED && (m[3 * PG] = 'W', m[3 * PG] == 'W') &&
	      pread(fd, &(char){ 0 }, 1, 3 * PG) == 1);
	r = mmap(NULL, 4 * PG, PROT_READ, MAP_PRIVATE, fd, 0);
	check("a read-only one made write-only by mprotect still reads",
	      r != MAP_FAILED && r[3 * PG] == 'w' && mprotect(r, 4 * PG, PROT_WRITE) == 0 &&
	      r[3 * PG] == 'w' && r[2 * PG] == 0 && write(out, r + 3 * PG, 1) == 1);
	alarm(0);
	munmap(m, 4 * PG);
	munmap(r, 4 * PG);
	close(out);
	close(fd);
}

int main(void)
{
	int fd = shm_open("/cubrt-shm", O_CREAT | O_EXCL | O_RDWR, 0600);
	char *a, *b;

	check("shm_open in /dev/shm", fd >= 0 && ftruncate(fd, 2 * PG) == 0);
	a = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	b = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	check("two shared mappings", a != MAP_FAILED && b != MAP_FAILED && a != b);
	if (a == MAP_FAILED || b == MAP_FAILED)
		return 1;
	check("/proc/self/maps shows it: rw-s and the path", in_maps(a, 2 * PG, "/dev/shm/cubrt-shm"));
	check_coherence(fd, a, b);
	check_pshared(a, b);
	check_semaphore();
	check_access();
	munmap(b, 2 * PG);
	check("the mapping outlives shm_unlink and close",
	      shm_unlink("/cubrt-shm") == 0 && close(fd) == 0 && a[10] == 'A' &&
	      (a[11] = 'B', a[11] == 'B'));
	check_holes();
	check_private();
	check_write_only();
	fd = open("/tmp/cubrt-grow", O_CREAT | O_RDWR, 0600);
	check("a plain file", fd >= 0 && ftruncate(fd, 2 * PG) == 0 && pwrite(fd, "A", 1, 10) == 1);
	munmap(a, 2 * PG);
	a = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	check_sizes(fd, a);
	close(fd);
	printf("shared: %d of %d checks passed\n", passed, total);
	return passed == total ? 0 : 1;
}
