/*
 * model_epoll.c - a randomized model test of epoll's interest lists and
 * ready lists (src/shim/epoll.c) against a model of what Linux promises.
 *
 * Two instances watch the read ends of a few pipes; random steps write
 * and read bytes, add, modify and delete entries (level- or edge-
 * triggered, one-shot or not), close and remake pipes, and wait with
 * timeout 0 and a random max. After every wait the model checks:
 *   - every reported entry is registered, armed and readable, reported
 *     once, with EPOLLIN and its data; an edge-triggered one only if its
 *     pipe changed since it was last reported (or it was added/modified);
 *   - a wait that reported fewer than max left no eligible entry out
 *     (nothing ready is lost, however the ready list was shuffled).
 * Reported one-shot entries are disarmed, edge-triggered ones wait for
 * the next change.
 *
 * usage: model_epoll [SEED [STEPS]]   (also CUBRT_SEED); prints the seed.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cubrt/mem.h>
#include <cubrt/sched.h>
#include <cubrt/shim.h>

#define PIPES 6
#define EPS 2
#define EPOLLIN 1u
#define EPOLLONESHOT (1u << 30)
#define EPOLLET (1u << 31)

struct __attribute__((packed)) ev {
	uint32_t events;
	uint64_t data;
};

struct entry {			/* the model of one (instance, pipe) entry */
	bool on, armed, changed;
	uint32_t flags;		/* EPOLLET | EPOLLONESHOT */
};

static struct entry model[EPS][PIPES];
static int fds[PIPES][2], ep[EPS], bytes[PIPES];
static uint64_t seed, steps = 20000, s;
static long failures, waits, reported;

static uint64_t rnd(void)
{
	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return s;
}

static long sys(long nr, long a, long b, long c, long d)
{
	return cub_shim_call(nr, a, b, c, d, 0, 0);
}

static void fail(const char *what, int e, int p)
{
	if (failures++ < 10)
		printf("model_epoll: FAILED (seed %llu): %s (instance %d, pipe %d)\n",
		       (unsigned long long)seed, what, e, p);
}

/* The pipe changed: every entry on it may report again (edge). */
static void changed(int p)
{
	for (int e = 0; e < EPS; e++)
		model[e][p].changed = true;
}

static void ctl(int e, int p)
{
	struct entry *m = &model[e][p];
	int op = (int)(rnd() % 3) + 1;		/* ADD, DEL, MOD */
	uint32_t flags = (uint32_t)(rnd() % 4);
	struct ev v = { EPOLLIN | (flags & 1 ? EPOLLET : 0) | (flags & 2 ? EPOLLONESHOT : 0),
			(uint64_t)(e * 16 + p) };
	long rc = sys(233, ep[e], op, fds[p][0], (long)&v);
	long want = op == 1 ? (m->on ? -17 : 0) : (m->on ? 0 : -2);	/* EEXIST, ENOENT */

	if (rc != want)
		fail("epoll_ctl result", e, p);
	if (rc)
		return;
	m->on = op != 2;
	m->armed = m->changed = true;
	m->flags = v.events & (EPOLLET | EPOLLONESHOT);
}

static bool eligible(int e, int p)
{
	const struct entry *m = &model[e][p];

	return m->on && m->armed && bytes[p] > 0 && (!(m->flags & EPOLLET) || m->changed);
}

static void wait_and_check(int e)
{
	struct ev out[8];
	int max = (int)(rnd() % 8) + 1, n;
	bool got[PIPES] = { false };

	n = (int)sys(232, ep[e], (long)out, max, 0);
	waits++;
	if (n < 0 || n > max) {
		fail("epoll_wait result", e, -1);
		return;
	}
	for (int i = 0; i < n; i++) {
		int p = (int)(out[i].data % 16);

		if (out[i].data / 16 != (uint64_t)e || p >= PIPES || got[p]) {
			fail("a report that is not this instance's, or twice", e, p);
			continue;
		}
		got[p] = true;
		if (!eligible(e, p) || out[i].events != EPOLLIN)
			fail("a report of an entry not eligible", e, p);
	}
	for (int p = 0; n < max && p < PIPES; p++)
		if (eligible(e, p) && !got[p])
			fail("an eligible entry left out of a wait with room", e, p);
	for (int p = 0; p < PIPES; p++) {
		if (!got[p])
			continue;
		reported++;
		model[e][p].changed = false;
		if (model[e][p].flags & EPOLLONESHOT)
			model[e][p].armed = false;
	}
}

static void remake(int p)
{
	sys(3, fds[p][0], 0, 0, 0);
	sys(3, fds[p][1], 0, 0, 0);
	if (sys(293, (long)fds[p], 04000, 0, 0))	/* pipe2, O_NONBLOCK */
		fail("pipe2", -1, p);
	bytes[p] = 0;
	for (int e = 0; e < EPS; e++)
		model[e][p] = (struct entry){ 0 };	/* closing dropped them */
}

static void step(void)
{
	int p = (int)(rnd() % PIPES), e = (int)(rnd() % EPS);
	char buf[4] = "abc";
	long k = (long)(rnd() % 3) + 1, rc;

	switch (rnd() % 8) {
	case 0: case 1:
		if (sys(1, fds[p][1], (long)buf, k, 0) != k)
			fail("write", -1, p);
		bytes[p] += (int)k;
		changed(p);
		break;
	case 2:
		rc = sys(0, fds[p][0], (long)buf, k, 0);
		if (rc != (bytes[p] ? (k < bytes[p] ? k : bytes[p]) : -11))
			fail("read", -1, p);
		if (rc > 0) {
			bytes[p] -= (int)rc;
			changed(p);
		}
		break;
	case 3: case 4:
		ctl(e, p);
		break;
	case 5:
		if (rnd() % 16 == 0)
			remake(p);
		break;
	default:
		wait_and_check(e);
	}
}

static void *run(void *arg)
{
	(void)arg;
	for (int p = 0; p < PIPES; p++)
		if (sys(293, (long)fds[p], 04000, 0, 0))
			fail("pipe2", -1, p);
	for (int e = 0; e < EPS; e++)
		ep[e] = (int)sys(291, 0, 0, 0, 0);
	for (uint64_t i = 0; i < steps; i++)
		step();
	return NULL;
}

int main(int argc, char **argv)
{
	const char *env = getenv("CUBRT_SEED");

	seed = argc > 1 ? strtoull(argv[1], NULL, 0) : env ? strtoull(env, NULL, 0)
			: (uint64_t)time(NULL);
	if (argc > 2)
		steps = strtoull(argv[2], NULL, 0);
	s = seed ? seed : 1;
	printf("model_epoll: seed %llu, %llu steps (reproduce: %s %llu)\n",
	       (unsigned long long)seed, (unsigned long long)steps, argv[0],
	       (unsigned long long)seed);
	cubi_mem_init();
	cub_sched_run(run, NULL, NULL);
	printf("model_epoll: %ld waits, %ld reports, %ld failures\n", waits, reported, failures);
	return failures ? 1 : 0;
}
