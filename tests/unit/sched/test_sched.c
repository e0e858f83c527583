/*
 * test_sched.c - host unit tests for the scheduler: every shared scenario
 * (scen_*.c, also booted in QEMU), plus what only the host can check:
 * deadlock and misuse reports (in forked children, because a report ends
 * the process), spawn failure when memory runs out, 100,000 coroutines
 * alive at once, and preemption of coroutines that never yield.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/panic.h>
#include <cubrt/sched.h>
#include <cubrt/sync.h>
#include <cubrt/time.h>

#include "host.h"
#include "scenarios.h"
#include "sched_hooks.h"
#include "park.h"
#include "sched_impl.h"

static void run_scenario(void **state)
{
	const struct scenario *s = *state;
	const char *err = sched_scenario_run(s);

	if (err)
		fail_msg("scenario %s: %s", s->name, err);
}

/* ------------------------------------------------- reports, in children */

/*
 * A report ends the process, so those scenarios run in a child: this
 * program re-executed with "--child NAME" (a plain fork would share the
 * host's memory arena, a MAP_SHARED memfd, with the parent). The child's
 * console is a pipe the parent reads.
 */
#define TEXT_MAX 16384

static char self_path[4096];	/* this program (not valgrind's loader) */

struct outcome {
	int status;
	char text[TEXT_MAX];
};

static void run_child(const char *name, struct outcome *o)
{
	int p[2];
	pid_t pid;
	int st;
	ssize_t n, len = 0;

	memset(o, 0, sizeof(*o));
	assert_int_equal(pipe(p), 0);
	fflush(stdout);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execl(self_path, self_path, "--child", name, (char *)NULL);
		_exit(98);
	}
	close(p[1]);
	while ((n = read(p[0], o->text + len, sizeof(o->text) - 1 - len)) > 0)
		len += n;
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	o->status = WEXITSTATUS(st);
	if (o->status != 0)
		printf("child %s output:\n%s\n", name, o->text);
}

static struct cub_mutex dl_mutex = CUB_MUTEX_INIT(dl_mutex);

static void *dl_locker(void *arg)
{
	(void)arg;
	cub_mutex_lock(&dl_mutex);
	return NULL;
}

static void *dl_main(void *arg)
{
	struct cub_coro *c;

	(void)arg;
	cub_mutex_lock(&dl_mutex);
	cub_coro_spawn(&c, dl_locker, NULL, &(struct cub_coro_attr){
			       .name = "stuck-locker" });
	cub_coro_join(c, NULL);
	return NULL;
}

static void test_deadlock_report(void **state)
{
	struct outcome o;

	(void)state;
	run_child("deadlock", &o);
	assert_int_equal(o.status, CUB_EXIT_FAULT);
	assert_non_null(strstr(o.text, "all coroutines are asleep - deadlock!"));
	assert_non_null(strstr(o.text, "stuck-locker"));
	assert_non_null(strstr(o.text, "mutex lock"));
	assert_non_null(strstr(o.text, "main"));
	assert_non_null(strstr(o.text, "join"));
	assert_non_null(strstr(o.text, "PEAK"));	/* the ps table */
}

static void *finishes(void *arg)
{
	(void)arg;
	return NULL;
}

static void *misuse_unlock(void *arg)
{
	struct cub_mutex m = CUB_MUTEX_INIT(m);

	(void)arg;
	cub_mutex_unlock(&m);
	return NULL;
}

static void *misuse_wg(void *arg)
{
	struct cub_wg wg = CUB_WG_INIT(wg);

	(void)arg;
	cub_wg_add(&wg, -1);
	return NULL;
}

static void *misuse_relock(void *arg)
{
	struct cub_mutex m = CUB_MUTEX_INIT(m);

	(void)arg;
	cub_mutex_lock(&m);
	cub_mutex_lock(&m);
	return NULL;
}

static void *misuse_rdunlock(void *arg)
{
	struct cub_rwlock l = CUB_RWLOCK_INIT(l);

	(void)arg;
	cub_rwlock_wrlock(&l);
	cub_rwlock_rdunlock(&l);
	return NULL;
}

static void *misuse_wrunlock(void *arg)
{
	struct cub_rwlock l = CUB_RWLOCK_INIT(l);

	(void)arg;
	cub_rwlock_rdlock(&l);
	cub_rwlock_wrunlock(&l);
	return NULL;
}

static void *misuse_rw_relock(void *arg)
{
	struct cub_rwlock l = CUB_RWLOCK_INIT(l);

	(void)arg;
	cub_rwlock_wrlock(&l);
	cub_rwlock_rdlock(&l);
	return NULL;
}

static void *nap(void *arg)
{
	(void)arg;
	cub_sleep(CUB_NSEC_PER_SEC);
	return NULL;
}

/* A wake-up for a coroutine already readied: the report names the wait
 * it was readied from. */
static void *misuse_double_ready(void *arg)
{
	struct cub_coro *c;

	(void)arg;
	cub_coro_spawn(&c, nap, NULL, &(struct cub_coro_attr){ .name = "napper" });
	cub_coro_yield();		/* it sleeps */
	cubi_sched_ready(c);		/* woken early, not run yet */
	cubi_sched_ready(c);
	return NULL;
}

static void *misuse_sem_overflow(void *arg)
{
	struct cub_sem s = CUB_SEM_INIT(s, ~0ul - 1);

	(void)arg;
	cub_sem_release(&s, 2);
	return NULL;
}

/* A read lock taken again while a writer waits: the writer waits for
 * the first, the second waits behind the writer (Go's rule). */
static struct cub_rwlock rw_dl = CUB_RWLOCK_INIT(rw_dl);

static void *rw_dl_writer(void *arg)
{
	(void)arg;
	cub_rwlock_wrlock(&rw_dl);
	return NULL;
}

static void *misuse_rw_recursive(void *arg)
{
	(void)arg;
	cub_rwlock_rdlock(&rw_dl);
	cub_coro_spawn(NULL, rw_dl_writer, NULL, &(struct cub_coro_attr){
			       .name = "writer" });
	cub_coro_yield();
	cub_rwlock_rdlock(&rw_dl);
	return NULL;
}

static void sleep_in_irq(struct cub_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	cub_sleep(1);
}

static void *misuse_irq_block(void *arg)
{
	struct cub_timer t;

	(void)arg;
	cub_timer_init(&t, sleep_in_irq, NULL);
	cub_timer_start(&t, 0);
	cub_sleep(CUB_NSEC_PER_SEC);
	return NULL;
}

/* Recursion that writes every byte of its frames (a canary between two
 * written bytes would otherwise survive). ASan would report the overrun
 * itself; this test is about cubrt's own canary check. */
__attribute__((noinline, no_sanitize_address)) static void overflow(int depth)
{
	volatile char buf[512];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)depth;
	if (depth)
		overflow(depth - 1);
	buf[1] = buf[0];	/* no tail call: every frame stays live */
}

/* Recurses arg frames deep on its own stack, then switches away (where
 * the canary is checked). */
static void *small_overflow(void *arg)
{
	overflow((int)(intptr_t)arg);
	cub_coro_yield();
	return NULL;
}

static void *overflow_in(int depth, const struct cub_coro_attr *attr)
{
	struct cub_coro *c;

	cub_coro_spawn(&c, small_overflow, (void *)(intptr_t)depth, attr);
	cub_coro_join(c, NULL);
	return NULL;
}

static void *misuse_small_overflow(void *arg)
{
	(void)arg;
	return overflow_in(24, &(struct cub_coro_attr){	/* ~12 KiB, 4 KiB */
		.name = "tiny", .flags = CUB_CORO_SMALL });
}

/* A 2 KiB small stack shares a heap block with its record (record.c):
 * an overrun of about 1 KiB past its bottom is still reported, naming
 * the coroutine, as its record lies above the stack. */
static void *misuse_embedded_overflow(void *arg)
{
	(void)arg;
	return overflow_in(5 + CUB_ARCH_STACK_EXTRA / 512,
			   &(struct cub_coro_attr){ .name = "tiny2k",
				.stack_size = CUB_CORO_STACK_MIN,
				.flags = CUB_CORO_SMALL });
}

static void expect_panic(const char *name, const char *msg)
{
	struct outcome o;

	run_child(name, &o);
	assert_int_equal(o.status, CUB_EXIT_FAULT);
	if (!strstr(o.text, msg))
		fail_msg("report lacks \"%s\":\n%s", msg, o.text);
}

static void test_misuse(void **state)
{
	(void)state;
	expect_panic("unlock", "cub_mutex_unlock: mutex not held by main");
	expect_panic("wg", "cub_wg_add: count 0, delta -1: out of range");
	expect_panic("relock", "cub_mutex_lock: main already holds");
	expect_panic("irq-block",
		     "cub_sleep: blocking call from interrupt context");
	expect_panic("small-overflow", "stack overflow: coroutine tiny");
	expect_panic("embedded-overflow", "stack overflow: coroutine tiny2k "
		     "overran its");
	expect_panic("rdunlock", "cub_rwlock_rdunlock: not read-locked (write-locked)");
	expect_panic("wrunlock", "cub_rwlock_wrunlock: write lock not held by main");
	expect_panic("rw-relock", "cub_rwlock_rdlock: main holds the write lock");
	expect_panic("sem-overflow", "cub_sem_release: count 18446744073709551614 + 2 overflows");
	expect_panic("double-ready", "cubi_sched_ready: coroutine napper is ready, "
		     "not parked (its wait: sleep)");
}

/* Go's rule for read locks: taken again while a writer waits, a
 * deadlock, and the report says who waits on what. */
static void test_rwlock_recursive_deadlock(void **state)
{
	struct outcome o;

	(void)state;
	run_child("rw-recursive", &o);
	assert_int_not_equal(o.status, 0);
	assert_non_null(strstr(o.text, "all coroutines are asleep - deadlock!"));
	assert_non_null(strstr(o.text, "rwlock read"));
	assert_non_null(strstr(o.text, "rwlock write"));
}

static void test_outside_coroutine(void **state)
{
	(void)state;
	assert_null(cub_coro_self());
	assert_int_equal(cub_sched_run(NULL, NULL, NULL), -CUB_EINVAL);
}

/* ---------------------------------------------------------- run-level */

static void *nested_run(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)cub_sched_run(finishes, NULL, NULL);
}

static void test_nested_run(void **state)
{
	void *r;

	(void)state;
	assert_int_equal(cub_sched_run(nested_run, NULL, &r), 0);
	assert_int_equal((intptr_t)r, -CUB_EBUSY);
}

static void *spawn_until_oom(void *arg)
{
	static struct cub_coro *c[1024];
	int n = 0, rc = 0;

	(void)arg;
	/* 64 MiB stacks (the largest) exhaust the host's 8 GiB arena. */
	while (n < 1024 && (rc = cub_coro_spawn(&c[n], finishes, NULL,
			&(struct cub_coro_attr){ .stack_size = 64u << 20 })) == 0)
		n++;
	for (int i = 0; i < n; i++)
		cub_coro_join(c[i], NULL);
	return (void *)(intptr_t)rc;
}

static void *spawn_too_big(void *arg)
{
	struct cub_coro *c;

	(void)arg;
	return (void *)(intptr_t)cub_coro_spawn(&c, finishes, NULL,
		&(struct cub_coro_attr){ .stack_size = (size_t)1 << 36 });
}

static void test_spawn_oom(void **state)
{
	void *r;

	(void)state;
	assert_int_equal(cub_sched_run(spawn_until_oom, NULL, &r), 0);
	assert_int_equal((intptr_t)r, -CUB_ENOMEM);
	assert_int_equal(cub_sched_run(spawn_too_big, NULL, &r), 0);
	assert_int_equal((intptr_t)r, -CUB_EINVAL);
	/* The scheduler still works afterwards. */
	run_scenario(&(void *){ (void *)&sched_scenarios[0] });
}

/* -------------------------------------------- release in batches */

/* 2 KiB small stacks are no record cache's class: every end of such a
 * coroutine goes to record.c's pending list, released 16 at a time. */
static const struct cub_coro_attr tiny = {
	.stack_size = CUB_CORO_STACK_MIN, .flags = CUB_CORO_SMALL };
static int tiny_ended;

static void *tiny_body(void *arg)
{
	(void)arg;
	tiny_ended++;
	return NULL;
}

static size_t heap_in_use(void)
{
	struct cub_heap_stats st;

	cub_heap_stats(&st);
	return st.in_use;
}

/* Spawns n tiny coroutines and yields until they ended (the caller stays
 * ready throughout, so the scheduler never idles). */
static void run_tiny(int n)
{
	int goal = tiny_ended + n;

	for (int i = 0; i < n; i++)
		assert_int_equal(cub_coro_spawn(NULL, tiny_body, NULL, &tiny),
				 0);
	while (tiny_ended < goal)
		cub_coro_yield();
}

static void *release_main(void *arg)
{
	size_t base, one;

	(void)arg;
	tiny_ended = 0;
	base = heap_in_use();
	assert_int_equal(cub_coro_spawn(NULL, tiny_body, NULL, &tiny), 0);
	one = heap_in_use() - base;	/* a record and its stack */
	assert_true(one > CUB_CORO_STACK_MIN);
	while (tiny_ended < 1)
		cub_coro_yield();
	/* Ended, but waiting for its batch. */
	assert_int_equal(heap_in_use() - base, one);
	/* 41 ends: two batches of 16 went back without any idling. */
	run_tiny(40);
	assert_int_equal(heap_in_use() - base, (41 % 16) * one);
	/* Idling gives back the rest. */
	assert_int_equal(cub_sleep(1000000), 0);
	assert_int_equal(heap_in_use(), base);
	/* And so does the end of cub_sched_run (checked by the caller). */
	run_tiny(3);
	assert_int_equal(heap_in_use() - base, 3 * one);
	return (void *)base;
}

static void test_release_batches(void **state)
{
	void *base;

	(void)state;
	assert_int_equal(cub_sched_run(release_main, NULL, &base), 0);
	assert_true(heap_in_use() <= (size_t)base);
}

/* A heap chain through the blocks themselves, to give them all back. */
static void *grab_heap(void)
{
	void *chain = NULL, *p;

	for (size_t sz = 1u << 20; sz >= 64;) {
		if ((p = cub_malloc(sz))) {
			*(void **)p = chain;
			chain = p;
		} else {
			sz /= 2;
		}
	}
	return chain;
}

static void *pending_oom_main(void *arg)
{
	static struct cub_coro *big[1024];
	void *chain, *next;
	int n = 0, rc;

	(void)arg;
	tiny_ended = 0;
	/* Every frame into 64 MiB stacks (the failing spawn releases what
	 * waits, nothing yet); 15 ends to wait for a batch from the heap's
	 * remaining room; then every heap block. */
	while (n < 1024 && cub_coro_spawn(&big[n], finishes, NULL,
			&(struct cub_coro_attr){ .stack_size = 64u << 20 }) == 0)
		n++;
	run_tiny(15);
	chain = grab_heap();
	assert_null(cub_malloc(CUB_CORO_STACK_MIN));
	/* This spawn fits only once the waiting records went back. */
	rc = cub_coro_spawn(NULL, tiny_body, NULL, &tiny);
	for (; chain; chain = next) {
		next = *(void **)chain;
		cub_free(chain);
	}
	for (int i = 0; i < n; i++)
		cub_coro_join(big[i], NULL);
	return (void *)(intptr_t)rc;
}

static void test_release_pending_on_oom(void **state)
{
	void *r;

	(void)state;
	assert_int_equal(cub_sched_run(pending_oom_main, NULL, &r), 0);
	assert_int_equal((intptr_t)r, 0);
}

/* ---------------------------------- records on top of small stacks */

static uintptr_t embed_self, embed_local;
static size_t embed_blocks;

static void *embed_body(void *arg)
{
	volatile char local = 0;

	(void)arg;
	embed_self = (uintptr_t)cub_coro_self();
	embed_local = (uintptr_t)&local;
	return NULL;
}

static void *embed_main(void *arg)
{
	struct cub_heap_stats before, after;
	struct cub_coro_info info[4];
	struct cub_coro *c;
	size_t n;

	(void)arg;
	cub_heap_stats(&before);
	assert_int_equal(cub_coro_spawn(&c, embed_body, NULL, &(struct cub_coro_attr){
		.name = "embed", .stack_size = CUB_CORO_STACK_MIN,
		.flags = CUB_CORO_SMALL }), 0);
	cub_heap_stats(&after);
	embed_blocks = after.blocks - before.blocks;
	n = cub_coro_list(info, 4);
	assert_int_equal(n, 2);
	if (strcmp(info[0].name, "embed") != 0)
		info[0] = info[1];
	assert_string_equal(info[0].name, "embed");
	assert_true(info[0].stack_size >= CUB_CORO_STACK_MIN);
	assert_true(info[0].stack_size <
		    CUB_CORO_STACK_MIN + CUB_ARCH_STACK_EXTRA + 64);
	assert_int_equal(cub_coro_join(c, NULL), 0);
	return NULL;
}

/* One heap block a small 2 KiB coroutine; its record 64-byte aligned
 * right above the stack it runs on. */
static void test_record_on_stack(void **state)
{
	(void)state;
	assert_int_equal(cub_sched_run(embed_main, NULL, NULL), 0);
	assert_int_equal(embed_blocks, 1);
	assert_int_equal(embed_self % 64, 0);
	assert_true(embed_local < embed_self);
	assert_true(embed_self - embed_local < 512);
}

/* cubi_resume_stride predicts only after two equal distances, and not
 * for a coroutine resumed twice or for two taking turns. */
static void test_resume_stride(void **state)
{
	struct cubi_sched s = { 0 };
	char recs[16][512];

	(void)state;
	cubi_resume_stride(&s, (struct cub_coro *)recs[10]);
	assert_int_equal(cubi_resume_stride(&s, (struct cub_coro *)recs[9]), 0);
	assert_int_equal(cubi_resume_stride(&s, (struct cub_coro *)recs[8]),
			 -512 * CUBI_RESUME_AHEAD);
	assert_int_equal(cubi_resume_stride(&s, (struct cub_coro *)recs[7]),
			 -512 * CUBI_RESUME_AHEAD);
	assert_int_equal(cubi_resume_stride(&s, (struct cub_coro *)recs[12]), 0);
	assert_int_equal(cubi_resume_stride(&s, (struct cub_coro *)recs[13]), 0);
	assert_int_equal(cubi_resume_stride(&s, (struct cub_coro *)recs[14]),
			 512 * CUBI_RESUME_AHEAD);
	/* Ping-pong: the distances alternate in sign. */
	for (int i = 0; i < 6; i++)
		assert_int_equal(cubi_resume_stride(&s,
				(struct cub_coro *)recs[i % 2]), 0);
	/* The same coroutine again and again: distance 0, no prediction. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(cubi_resume_stride(&s,
				(struct cub_coro *)recs[5]), 0);
}

#define MANY 100000

static struct cub_wg many_started = CUB_WG_INIT(many_started);
static struct cub_wg many_go = CUB_WG_INIT(many_go);
static long many_sum;

static void *many_body(void *arg)
{
	cub_wg_done(&many_started);
	cub_wg_wait(&many_go);
	many_sum += (long)(intptr_t)arg;
	return NULL;
}

static void *many_main(void *arg)
{
	(void)arg;
	cub_wg_init(&many_started);
	cub_wg_init(&many_go);
	cub_wg_add(&many_started, MANY);
	cub_wg_add(&many_go, 1);
	for (long i = 0; i < MANY; i++)
		if (cub_coro_spawn(NULL, many_body, (void *)(intptr_t)i,
				   &(struct cub_coro_attr){
					   .flags = CUB_CORO_SMALL }))
			return (void *)"spawn failed";
	cub_wg_wait(&many_started);
	/* All MANY are alive now, parked on many_go. */
	if (cub_coro_list(NULL, 0) != MANY + 1)
		return (void *)"wrong live count";
	cub_wg_done(&many_go);
	return NULL;
}

static void test_many(void **state)
{
	void *r = NULL;

	(void)state;
	many_sum = 0;
	assert_int_equal(cub_sched_run(many_main, NULL, &r), 0);
	assert_null(r);
	assert_int_equal(many_sum, (long)MANY * (MANY - 1) / 2);
}

/* ----------------------------------------------------------- preemption */

static void test_preempt(void **state)
{
	uint64_t old = cubi_preempt_set_slice(2 * CUB_NSEC_PER_MSEC);
	void *r = NULL;

	(void)state;
	assert_int_equal(cub_sched_run(sched_preempt_scenario, NULL, &r), 0);
	cubi_preempt_set_slice(old);
	assert_null(r);
}

/* Two coroutines woken by the tick's own interrupt while idle. */
static void test_preempt_woken(void **state)
{
	uint64_t old = cubi_preempt_set_slice(2 * CUB_NSEC_PER_MSEC);
	void *r = NULL;

	(void)state;
	assert_int_equal(cub_sched_run(sched_preempt_woken_scenario, NULL, &r), 0);
	cubi_preempt_set_slice(old);
	assert_null(r);
}

/* On the host an interrupt exit runs on the interrupted stack and needs
 * about 4 KiB there (platform/host/irq.c): a 2 KiB small coroutine that
 * spins is not preempted (rather than overrun: its canary panics at the
 * next switch), a default one is. */
static volatile int spun;

static void *spin_small(void *arg)
{
	uint64_t until = cub_time_now() + 20 * CUB_NSEC_PER_MSEC;

	(void)arg;
	while (cub_time_now() < until)
		spun++;
	return NULL;
}

static void *preempt_small_main(void *arg)
{
	struct cub_coro *c;
	uint64_t before;

	(void)arg;
	assert_int_equal(cub_coro_spawn(&c, spin_small, NULL, &(struct cub_coro_attr){
		.stack_size = CUB_CORO_STACK_MIN, .flags = CUB_CORO_SMALL }), 0);
	before = cubi_preempt_count();
	cub_coro_yield();		/* it spins 20 ms, ten slices */
	if (CUB_ARCH_STACK_EXTRA == 0)	/* ASan's 4 KiB more make room */
		assert_int_equal(cubi_preempt_count(), before);
	assert_int_equal(cub_coro_join(c, NULL), 0);
	/* A default stack has the room: the same spin is preempted. */
	assert_int_equal(cub_coro_spawn(&c, spin_small, NULL, NULL), 0);
	cub_coro_yield();
	assert_true(cubi_preempt_count() > before);
	assert_int_equal(cub_coro_join(c, NULL), 0);
	return NULL;
}

static void test_preempt_small_stack(void **state)
{
	uint64_t old = cubi_preempt_set_slice(2 * CUB_NSEC_PER_MSEC);

	(void)state;
	assert_int_equal(cub_sched_run(preempt_small_main, NULL, NULL), 0);
	cubi_preempt_set_slice(old);
}

/* A coroutine spawned at boot beside a main that never yields. */
static void test_preempt_boot(void **state)
{
	uint64_t old = cubi_preempt_set_slice(2 * CUB_NSEC_PER_MSEC);
	void *r = NULL;

	(void)state;
	assert_int_equal(sched_preempt_boot_spawn(), 0);
	assert_int_equal(cub_sched_run(sched_preempt_boot_scenario, NULL, &r), 0);
	cubi_preempt_set_slice(old);
	assert_null(r);
}

static const struct {
	const char *name;
	void *(*fn)(void *);
} children[] = {
	{ "deadlock", dl_main },
	{ "unlock", misuse_unlock },
	{ "wg", misuse_wg },
	{ "relock", misuse_relock },
	{ "irq-block", misuse_irq_block },
	{ "small-overflow", misuse_small_overflow },
	{ "embedded-overflow", misuse_embedded_overflow },
	{ "rdunlock", misuse_rdunlock },
	{ "wrunlock", misuse_wrunlock },
	{ "rw-relock", misuse_rw_relock },
	{ "sem-overflow", misuse_sem_overflow },
	{ "rw-recursive", misuse_rw_recursive },
	{ "double-ready", misuse_double_ready },
};

/* Child mode: runs one scenario; its report and exit are the result. */
static int child_main(const char *name)
{
	for (size_t i = 0; i < sizeof(children) / sizeof(children[0]); i++)
		if (strcmp(children[i].name, name) == 0)
			cub_sched_run(children[i].fn, NULL, NULL);
	cub_exit(0);
}

int main(int argc, char **argv)
{
	struct CMUnitTest tests[48];
	size_t n = 0;

	if (argc == 3 && strcmp(argv[1], "--child") == 0)
		return child_main(argv[2]);
	/* Never early is checked strictly; lateness only loosely, because a
	 * loaded CI machine (or valgrind) can stall the process for long. */
	sched_sleep_slack_ns = 2 * CUB_NSEC_PER_SEC;
	if (!realpath(argv[0], self_path))
		snprintf(self_path, sizeof(self_path), "%s", argv[0]);

	for (unsigned i = 0; i < sched_scenario_count; i++)
		tests[n++] = (struct CMUnitTest){ sched_scenarios[i].name,
			run_scenario, NULL, NULL, (void *)&sched_scenarios[i] };
	for (unsigned i = 0; i < sched_sync_scenario_count; i++)
		tests[n++] = (struct CMUnitTest){ sched_sync_scenarios[i].name,
			run_scenario, NULL, NULL,
			(void *)&sched_sync_scenarios[i] };
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_deadlock_report);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_misuse);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_rwlock_recursive_deadlock);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_outside_coroutine);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_nested_run);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_spawn_oom);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_release_batches);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_release_pending_on_oom);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_record_on_stack);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_resume_stride);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_many);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_preempt);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_preempt_woken);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_preempt_boot);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_preempt_small_stack);
	return _cmocka_run_group_tests("sched", tests, n, NULL, NULL);
}
