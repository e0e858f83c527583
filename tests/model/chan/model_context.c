/*
 * model_context.c - randomized model test of contexts (include/cubrt/
 * context.h, suite 'model'): random inits under random parents (live,
 * cancelled or none), with deadlines far ahead, already past or none,
 * random cancels and releases (a released slot is scribbled over and
 * reused), against a reference model of the tree. A third of the
 * contexts carry a value under one of three keys; a context carrying a
 * value is released only when no unreleased context looks it up (the
 * rule context.h states; otherwise it is cancelled instead). After every
 * step each context's err, deadline, done channel and the lookup of
 * every key must match the model.
 *
 * usage: model_context [SEED [STEPS]]  (or CUBRT_SEED, CUBRT_OPS); the seed is
 * printed first so that a failing run can be replayed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cubrt/context.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>

#include "../model_args.h"

#define N 48
#define FAR (3600ull * CUB_NSEC_PER_SEC)

static struct cub_context ctx[N];
static struct {
	bool used;
	int parent;		/* -1: none, or while live the parent's slot */
	int err;
	uint64_t deadline;
	int key;		/* -1: none, else an index into keys */
	int vparent;		/* the nearest ancestor at init with a key */
	void *value;
} m[N];
static const char keys[3];	/* their addresses are the keys */
static uint64_t seed, rng, base;
static long steps = 20000;

static uint64_t rnd(void)
{
	return model_xorshift(&rng);
}

#define FAIL MODEL_FAIL

/* The model's cancellation of slot i and its live subtree. */
static void m_cancel(int i, int err)
{
	m[i].err = err;
	for (int k = 0; k < N; k++)
		if (m[k].used && !m[k].err && m[k].parent == i)
			m_cancel(k, err);
}

/* The model's lookup of key k from slot i. */
static void *m_value(int i, int k)
{
	for (int j = m[i].key >= 0 ? i : m[i].vparent; j >= 0; j = m[j].vparent)
		if (m[j].key == k)
			return m[j].value;
	return NULL;
}

/* Whether an unreleased context looks slot i up (so it may not go). */
static bool m_looked_up(int i)
{
	for (int k = 0; k < N; k++)
		if (m[k].used && m[k].vparent == i)
			return true;
	return false;
}

static void op_init(int i, long step)
{
	int p = rnd() % 4 ? (int)(rnd() % N) : -1;
	unsigned how = rnd() % 4;	/* none, far ahead, past, a value */
	uint64_t own = how == 1 ? base + FAR + rnd() % 1000 :
		       how == 2 ? 0 : UINT64_MAX;

	if (p >= 0 && !m[p].used)
		p = -1;
	m[i].used = true;
	m[i].parent = p;
	m[i].err = p >= 0 ? m[p].err : 0;
	m[i].deadline = p >= 0 ? m[p].deadline : UINT64_MAX;
	if (!m[i].err && own < m[i].deadline) {
		m[i].deadline = own;
		if (own == 0)
			m[i].err = -CUB_ETIMEDOUT;
	}
	m[i].key = how == 3 ? (int)(rnd() % 3) : -1;
	m[i].vparent = p < 0 ? -1 : m[p].key >= 0 ? p : m[p].vparent;
	m[i].value = (void *)(uintptr_t)(step * N + i + 1);
	if (how == 3)
		cub_context_init_value(&ctx[i], p >= 0 ? &ctx[p] : NULL,
				       &keys[m[i].key], m[i].value);
	else if (how == 0)
		cub_context_init(&ctx[i], p >= 0 ? &ctx[p] : NULL);
	else
		cub_context_init_deadline(&ctx[i], p >= 0 ? &ctx[p] : NULL, own);
}

static void check_all(long step)
{
	for (int i = 0; i < N; i++) {
		int got;

		if (!m[i].used)
			continue;
		got = cub_context_err(&ctx[i]);
		if (got != m[i].err)
			FAIL("step %ld: context %d err %d, model %d", step, i, got,
			     m[i].err);
		if (!m[i].err && cub_context_deadline(&ctx[i]) != m[i].deadline)
			FAIL("step %ld: context %d deadline differs", step, i);
		got = cub_chan_try_recv(cub_context_done(&ctx[i]), NULL);
		if (got != (m[i].err ? 0 : -CUB_EAGAIN))
			FAIL("step %ld: context %d done gives %d", step, i, got);
		for (int k = 0; k < 3; k++)
			if (cub_context_value(&ctx[i], &keys[k]) != m_value(i, k))
				FAIL("step %ld: context %d key %d differs", step,
				     i, k);
	}
}

static void *model_main(void *arg)
{
	(void)arg;
	base = cub_time_now();
	for (long s = 0; s < steps; s++) {
		int i = (int)(rnd() % N);

		if (!m[i].used) {
			op_init(i, s);
		} else if (rnd() % 3 || (m[i].key >= 0 && m_looked_up(i))) {
			cub_context_cancel(&ctx[i]);
			if (!m[i].err)
				m_cancel(i, -CUB_ECANCELED);
		} else {
			cub_context_release(&ctx[i]);
			if (!m[i].err)
				m_cancel(i, -CUB_ECANCELED);
			m[i].used = false;
			memset(&ctx[i], 0xa5, sizeof(ctx[i]));	/* storage gone */
		}
		check_all(s);
	}
	for (bool more = true; more;) {	/* those looked up after the others */
		more = false;
		for (int i = 0; i < N; i++) {
			if (m[i].used && m_looked_up(i)) {
				more = true;
			} else if (m[i].used) {
				cub_context_release(&ctx[i]);
				m[i].used = false;
			}
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	seed = model_arg(argc, argv, 1, "CUBRT_SEED", cub_time_now() ^ 0x5bd1);
	steps = (long)model_arg(argc, argv, 2, "CUBRT_OPS", (uint64_t)steps);
	rng = seed ? seed : 1;
	printf("seed: %lu (replay: model_context %lu %ld)\n", (unsigned long)seed,
	       (unsigned long)seed, steps);
	fflush(stdout);
	if (cub_sched_run(model_main, NULL, NULL))
		FAIL("cub_sched_run failed");
	printf("ok: %ld steps\n", steps);
	return 0;
}
