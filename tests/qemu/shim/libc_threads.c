/*
 * libc_threads.c - the libc sweep's threads (see libc.c): barriers,
 * rwlocks, pthread_once, thread-specific data and its destructors,
 * pthread_cancel of threads blocked in a sleep, a read and a condvar wait
 * (musl cancels with signal 33) with their cleanup handlers,
 * pthread_setname_np/getname_np of the thread itself and of another, stack
 * and guard sizes, unnamed semaphores with timeouts, a named one and a
 * shm_open object in /dev/shm (shared.c has more), a condvar on
 * CLOCK_MONOTONIC, and 200 threads alive at once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libc.h"

static pthread_barrier_t bar;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t key;
static int rounds_ok = 1, once_runs, destroyed, readers_in, max_readers;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void once_init(void)
{
	__atomic_fetch_add(&once_runs, 1, __ATOMIC_SEQ_CST);
}

static void destroy(void *v)
{
	__atomic_fetch_add(&destroyed, (int)(intptr_t)v, __ATOMIC_SEQ_CST);
}

static void *worker(void *arg)
{
	static int phase[3];
	int me = (int)(intptr_t)arg, n;

	pthread_once(&once, once_init);
	pthread_setspecific(key, (void *)(intptr_t)(me + 1));
	for (int r = 0; r < 3; r++) {
		__atomic_fetch_add(&phase[r], 1, __ATOMIC_SEQ_CST);
		pthread_barrier_wait(&bar);
		if (__atomic_load_n(&phase[r], __ATOMIC_SEQ_CST) != 4)
			rounds_ok = 0;
		pthread_barrier_wait(&bar);
	}
	pthread_rwlock_rdlock(&rw);
	n = __atomic_add_fetch(&readers_in, 1, __ATOMIC_SEQ_CST);
	if (n > max_readers)
		max_readers = n;
	usleep(2000);
	__atomic_fetch_sub(&readers_in, 1, __ATOMIC_SEQ_CST);
	pthread_rwlock_unlock(&rw);
	return NULL;
}

static void sync_checks(void)
{
	pthread_t t[4];
	int busy;

	pthread_key_create(&key, destroy);
	pthread_barrier_init(&bar, NULL, 4);
	pthread_rwlock_wrlock(&rw);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
	usleep(20000);
	busy = pthread_rwlock_tryrdlock(&rw) == EBUSY;
	pthread_rwlock_unlock(&rw);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	lc_check("pthread_barrier: 3 rounds of 4 threads", rounds_ok);
	lc_check("rwlock: readers wait for a writer, then share", busy && max_readers >= 2);
	lc_check("pthread_once runs once", once_runs == 1);
	lc_check("thread-specific data destructors at thread exit", destroyed == 1 + 2 + 3 + 4);
	pthread_barrier_destroy(&bar);
}

static int cleaned;
static int cancel_pipe[2];

static void cleanup(void *arg)
{
	__atomic_fetch_add(&cleaned, (int)(intptr_t)arg, __ATOMIC_SEQ_CST);
}

static void *cancel_sleep(void *arg)
{
	(void)arg;
	pthread_cleanup_push(cleanup, (void *)1);
	sleep(100);
	pthread_cleanup_pop(0);
	return NULL;
}

static void *cancel_read(void *arg)
{
	char c;

	(void)arg;
	pthread_cleanup_push(cleanup, (void *)10);
	read(cancel_pipe[0], &c, 1);
	pthread_cleanup_pop(0);
	return NULL;
}

/* A canceled cond_wait has the mutex again when its cleanup runs. */
static void cleanup_unlock(void *arg)
{
	cleanup(arg);
	pthread_mutex_unlock(&mu);
}

static void *cancel_cond(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	pthread_cleanup_push(cleanup_unlock, (void *)100);
	for (;;)
		pthread_cond_wait(&cv, &mu);
	pthread_cleanup_pop(0);
	return NULL;
}

static void *cancel_spin(void *arg)
{
	(void)arg;
	pthread_cleanup_push(cleanup, (void *)1000);
	for (;;)
		pthread_testcancel();
	pthread_cleanup_pop(0);
	return NULL;
}

static void cancel_checks(void)
{
	void *(*fns[4])(void *) = { cancel_sleep, cancel_read, cancel_cond, cancel_spin };
	int canceled = 0, locked;
	pthread_t t[4];
	void *res;

	pipe(cancel_pipe);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, fns[i], NULL);
	usleep(30000);
	for (int i = 0; i < 4; i++)
		pthread_cancel(t[i]);
	for (int i = 0; i < 4; i++)
		canceled += pthread_join(t[i], &res) == 0 && res == PTHREAD_CANCELED;
	printf("  canceled %d, cleanups %d\n", canceled, cleaned);
	lc_check("pthread_cancel in sleep, read, cond_wait and testcancel",
		 canceled == 4 && cleaned == 1111);
	locked = pthread_mutex_trylock(&mu) == 0;
	lc_check("a canceled cond_wait's cleanup unlocked the mutex", locked &&
		 pthread_mutex_unlock(&mu) == 0);
	close(cancel_pipe[0]);
	close(cancel_pipe[1]);
}

static volatile int named;

static void *name_self(void *arg)
{
	char buf[16] = "";

	pthread_setname_np(pthread_self(), "worker-self");
	pthread_getname_np(pthread_self(), buf, sizeof(buf));
	named = strcmp(buf, "worker-self") == 0;
	while (!*(volatile int *)arg)
		usleep(1000);
	return NULL;
}

static void name_checks(void)
{
	char buf[16] = "";
	volatile int stop = 0;
	pthread_t t;
	int rc, rc2;

	pthread_create(&t, NULL, name_self, (void *)&stop);
	usleep(10000);
	rc = pthread_getname_np(t, buf, sizeof(buf));
	lc_check("pthread_setname_np on itself, getname_np from another thread",
		 named && rc == 0 && strcmp(buf, "worker-self") == 0);
	rc = pthread_setname_np(t, "renamed");
	rc2 = pthread_getname_np(t, buf, sizeof(buf));
	printf("  setname of another thread: %d (%s), getname %d \"%s\"\n", rc, strerror(rc), rc2, buf);
	lc_check("pthread_setname_np of another thread (its /proc comm)",
		 rc == 0 && rc2 == 0 && strcmp(buf, "renamed") == 0);
	lc_check("a name over 15 bytes: ERANGE",
		 pthread_setname_np(t, "a-name-of-20-bytes..") == ERANGE);
	stop = 1;
	pthread_join(t, NULL);
}

static void *stack_probe(void *arg)
{
	pthread_attr_t a;
	size_t size = 0, guard = 0;
	void *lo = NULL;
	char here;

	pthread_getattr_np(pthread_self(), &a);
	pthread_attr_getstack(&a, &lo, &size);
	pthread_attr_getguardsize(&a, &guard);
	pthread_attr_destroy(&a);
	*(int *)arg = size >= (1u << 20) && guard >= 65536 &&
		      (char *)lo <= &here && &here < (char *)lo + size;
	memset(&here - 512 * 1024, 1, 1024);	/* deep into the big stack */
	return NULL;
}

static void attr_checks(void)
{
	pthread_attr_t a;
	pthread_t t;
	int ok = 0;
	size_t size = 0;
	void *lo;

	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 1u << 20);
	pthread_attr_setguardsize(&a, 65536);
	lc_check("a thread with a 1 MiB stack and a 64 KiB guard",
		 pthread_create(&t, &a, stack_probe, &ok) == 0 && pthread_join(t, NULL) == 0 && ok);
	pthread_attr_destroy(&a);
	lc_check("pthread_getattr_np of the main thread",
		 pthread_getattr_np(pthread_self(), &a) == 0 &&
		 pthread_attr_getstack(&a, &lo, &size) == 0 && size >= 65536 &&
		 (char *)lo < (char *)&a && (char *)&a < (char *)lo + size);
	printf("  main stack %zu bytes\n", size);
	pthread_attr_destroy(&a);
}

static struct timespec after_ms(clockid_t clk, long ms)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	ts.tv_nsec += ms * 1000000;
	ts.tv_sec += ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	return ts;
}

static long elapsed_ms(struct timespec from)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - from.tv_sec) * 1000 + (now.tv_nsec - from.tv_nsec) / 1000000;
}

/* A write through a shared mapping of fd is the file's byte. */
static int shm_check(int fd)
{
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), c = 0;
	int ok = p != MAP_FAILED;

	if (ok) {
		p[100] = 'z';
		ok = pread(fd, &c, 1, 100) == 1 && c == 'z' && munmap(p, 4096) == 0;
	}
	return ok;
}

static void sem_checks(void)
{
	struct timespec ts, t0;
	sem_t un, *s;
	int rc;

	sem_init(&un, 0, 0);
	ts = after_ms(CLOCK_REALTIME, 30);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = sem_timedwait(&un, &ts);
	lc_check("sem_timedwait times out", rc == -1 && errno == ETIMEDOUT && elapsed_ms(t0) >= 25);
	sem_post(&un);
	lc_check("sem_timedwait takes a posted count", sem_timedwait(&un, &ts) == 0);
	sem_destroy(&un);
	s = sem_open("/libc-sem", O_CREAT | O_EXCL, 0600, 2);
	lc_check("sem_open: a named semaphore in /dev/shm",
		 s != SEM_FAILED && sem_trywait(s) == 0 && sem_trywait(s) == 0 &&
		 sem_trywait(s) == -1 && errno == EAGAIN && sem_post(s) == 0 &&
		 sem_open("/libc-sem", 0) == s && sem_close(s) == 0 &&
		 sem_unlink("/libc-sem") == 0);
	rc = shm_open("/libc-shm", O_CREAT | O_RDWR, 0600);
	lc_check("shm_open: a shared object, mapped", rc >= 0 && ftruncate(rc, 4096) == 0 &&
		 shm_check(rc) && shm_unlink("/libc-shm") == 0 && close(rc) == 0);
}

static int ready;
static pthread_cond_t mcv;	/* on CLOCK_MONOTONIC */

static void *signaller(void *arg)
{
	(void)arg;
	usleep(10000);
	pthread_mutex_lock(&mu);
	ready = 1;
	pthread_cond_signal(&mcv);
	pthread_mutex_unlock(&mu);
	return NULL;
}

static void condvar_checks(void)
{
	pthread_condattr_t ca;
	struct timespec ts, t0;
	pthread_t t;
	int rc;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&mcv, &ca);
	pthread_mutex_lock(&mu);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ts = after_ms(CLOCK_MONOTONIC, 30);
	rc = pthread_cond_timedwait(&mcv, &mu, &ts);
	lc_check("a CLOCK_MONOTONIC condvar times out", rc == ETIMEDOUT && elapsed_ms(t0) >= 25);
	pthread_mutex_unlock(&mu);
	pthread_create(&t, NULL, signaller, NULL);
	pthread_mutex_lock(&mu);
	ts = after_ms(CLOCK_MONOTONIC, 5000);
	rc = 0;
	while (!ready && rc == 0)
		rc = pthread_cond_timedwait(&mcv, &mu, &ts);
	pthread_mutex_unlock(&mu);
	pthread_join(t, NULL);
	lc_check("a CLOCK_MONOTONIC condvar wait woken by a signal", ready && rc == 0);
	pthread_cond_destroy(&mcv);
}

#define MANY 200

static pthread_barrier_t many_bar;
static int many_count;

static void *one_of_many(void *arg)
{
	(void)arg;
	__atomic_fetch_add(&many_count, 1, __ATOMIC_SEQ_CST);
	pthread_barrier_wait(&many_bar);
	return NULL;
}

static void many_checks(void)
{
	static pthread_t t[MANY];
	int made = 0, joined = 0;

	pthread_barrier_init(&many_bar, NULL, MANY + 1);
	for (int i = 0; i < MANY; i++)
		made += pthread_create(&t[i], NULL, one_of_many, NULL) == 0;
	printf("  made %d threads\n", made);
	if (made < MANY) {	/* the made ones wait at the barrier for good */
		lc_check("200 threads alive at once, default stacks", 0);
		return;
	}
	pthread_barrier_wait(&many_bar);
	for (int i = 0; i < made; i++)
		joined += pthread_join(t[i], NULL) == 0;
	lc_check("200 threads alive at once, default stacks", made == MANY && joined == MANY &&
		 many_count == MANY);
}

void lc_threads(void)
{
	sync_checks();
	cancel_checks();
	name_checks();
	attr_checks();
	sem_checks();
	condvar_checks();
	many_checks();
}
