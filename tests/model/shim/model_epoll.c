/*
 * model_epoll.c - a randomized model test of epoll's interest lists and
 * ready lists (src/shim/epoll.c) against a model of what Linux promises.
 *
 * Two instances watch the read ends of a few pipes, each through one or
 * two descriptors (dup'd); entries are keyed as Linux keys them, by
 * (pipe, descriptor number). Random steps write and read bytes, add,
 * modify and delete entries (level- or edge-triggered, one-shot or not)
 * through either descriptor, dup a read end, close one of its two
 * descriptors (its entries stay: the file is still open, and a number
 * given back to the same pipe names the same entry again), close and
 * remake pipes (all their entries go), and wait with timeout 0 and a
 * random max. After every wait the model checks:
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
#define NUMS 32		/* every descriptor number the model sees is below */
#define EPOLLIN 1u
#define EPOLLONESHOT (1u << 30)
#define EPOLLET (1u << 31)

struct __attribute__((packed)) ev {
	uint32_t events;
	uint64_t data;
};

struct entry {		/* the model of one (instance, pipe, number) entry */
	bool on, armed, changed;
	uint32_t flags;		/* EPOLLET | EPOLLONESHOT */
};

static struct entry model[EPS][PIPES][NUMS];
/* rd: a pipe's read descriptors (-1: closed; at least one is open) */
static int rd[PIPES][2], wr[PIPES], ep[EPS], bytes[PIPES];
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

static void fail(const char *what, int e, int p, int n)
{
	if (failures++ < 10)
		printf("model_epoll: FAILED (seed %llu): %s (instance %d, pipe %d, fd %d)\n",
		       (unsigned long long)seed, what, e, p, n);
}

/* The pipe changed: every entry on it may report again (edge). */
static void changed(int p)
{
	for (int e = 0; e < EPS; e++)
		for (int n = 0; n < NUMS; n++)
			model[e][p][n].changed = true;
}

/* One of p's open read descriptors, at random. */
static int some_rd(int p)
{
	int k = (int)(rnd() % 2);

	return rd[p][k] >= 0 ? rd[p][k] : rd[p][1 - k];
}

static void ctl(int e, int p)
{
	int n = some_rd(p);
	struct entry *m = &model[e][p][n];
	int op = (int)(rnd() % 3) + 1;		/* ADD, DEL, MOD */
	uint32_t flags = (uint32_t)(rnd() % 4);
	struct ev v = { EPOLLIN | (flags & 1 ? EPOLLET : 0) | (flags & 2 ? EPOLLONESHOT : 0),
			(uint64_t)((e * PIPES + p) * NUMS + n) };
	long rc = sys(233, ep[e], op, n, (long)&v);
	long want = op == 1 ? (m->on ? -17 : 0) : (m->on ? 0 : -2);	/* EEXIST, ENOENT */

	if (rc != want)
		fail("epoll_ctl result", e, p, n);
	if (rc)
		return;
	m->on = op != 2;
	m->armed = m->changed = true;
	m->flags = v.events & (EPOLLET | EPOLLONESHOT);
}

static bool eligible(int e, int p, int n)
{
	const struct entry *m = &model[e][p][n];

	return m->on && m->armed && bytes[p] > 0 && (!(m->flags & EPOLLET) || m->changed);
}

static void wait_and_check(int e)
{
	struct ev out[8];
	int max = (int)(rnd() % 8) + 1, k;
	static bool got[PIPES][NUMS];

	memset(got, 0, sizeof(got));
	k = (int)sys(232, ep[e], (long)out, max, 0);
	waits++;
	if (k < 0 || k > max) {
		fail("epoll_wait result", e, -1, -1);
		return;
	}
	for (int i = 0; i < k; i++) {
		int n = (int)(out[i].data % NUMS), p = (int)(out[i].data / NUMS % PIPES);

		if (out[i].data / NUMS / PIPES != (uint64_t)e || got[p][n]) {
			fail("a report that is not this instance's, or twice", e, p, n);
			continue;
		}
		got[p][n] = true;
		if (!eligible(e, p, n) || out[i].events != EPOLLIN)
			fail("a report of an entry not eligible", e, p, n);
	}
	for (int p = 0; p < PIPES; p++)
		for (int n = 0; k < max && n < NUMS; n++)
			if (eligible(e, p, n) && !got[p][n])
				fail("an eligible entry left out of a wait with room", e, p, n);
	for (int p = 0; p < PIPES; p++) {
		for (int n = 0; n < NUMS; n++) {
			struct entry *m = &model[e][p][n];

			if (!got[p][n])
				continue;
			reported++;
			m->changed = false;
			if (m->flags & EPOLLONESHOT)
				m->armed = false;
		}
	}
}

/* A new pipe p, read through one descriptor. */
static void make(int p)
{
	int fds[2];

	if (sys(293, (long)fds, 04000, 0, 0) || fds[0] >= NUMS)	/* pipe2, O_NONBLOCK */
		fail("pipe2", -1, p, -1);
	rd[p][0] = fds[0];
	rd[p][1] = -1;
	wr[p] = fds[1];
}

static void remake(int p)
{
	for (int k = 0; k < 2; k++)
		if (rd[p][k] >= 0)
			sys(3, rd[p][k], 0, 0, 0);
	sys(3, wr[p], 0, 0, 0);
	make(p);
	bytes[p] = 0;
	for (int e = 0; e < EPS; e++)	/* the last close dropped them */
		memset(model[e][p], 0, sizeof(model[e][p]));
}

/* A second read descriptor for p, or one of its two closed: the entries
 * of a closed one stay (the pipe is open), a new number may name one. */
static void dup_or_close(int p)
{
	int k = (int)(rnd() % 2);
	long d;

	if (rd[p][0] >= 0 && rd[p][1] >= 0) {
		if (sys(3, rd[p][k], 0, 0, 0))
			fail("close", -1, p, rd[p][k]);
		rd[p][k] = -1;
		return;
	}
	k = rd[p][0] < 0 ? 0 : 1;
	d = sys(32, rd[p][1 - k], 0, 0, 0);	/* dup */
	if (d < 0 || d >= NUMS)
		fail("dup", -1, p, (int)d);
	rd[p][k] = (int)d;
}

static void step(void)
{
	int p = (int)(rnd() % PIPES), e = (int)(rnd() % EPS);
	char buf[4] = "abc";
	long k = (long)(rnd() % 3) + 1, rc;

	switch (rnd() % 9) {
	case 0: case 1:
		if (sys(1, wr[p], (long)buf, k, 0) != k)
			fail("write", -1, p, wr[p]);
		bytes[p] += (int)k;
		changed(p);
		break;
	case 2:
		rc = sys(0, some_rd(p), (long)buf, k, 0);
		if (rc != (bytes[p] ? (k < bytes[p] ? k : bytes[p]) : -11))
			fail("read", -1, p, -1);
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
	case 6:
		dup_or_close(p);
		break;
	default:
		wait_and_check(e);
	}
}

static void *run(void *arg)
{
	(void)arg;
	for (int p = 0; p < PIPES; p++)
		make(p);
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
