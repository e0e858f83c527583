/*
 * model_replies.c - randomized test of the network clients (SNTP, DNS,
 * DHCP, TFTP) against hostile servers: replies that are almost right.
 *
 * Each iteration draws a client and runs one call of it on interface A
 * against a server on B (the in-memory wire of net_test.h). The server
 * answers every request with the client's template of a valid reply
 * (model_replies_<client>.h), which it then leaves clean (one time in
 * four) or mutates (model_replies_mut.h: cuts at every length, flipped
 * bits, edge bytes, appended bytes, and the protocol's own length
 * fields, counts, names, options, codes), and delivers normally, not at
 * all, twice, late (after the next reply), from another port or from
 * another address. The frames are built by hand and put on the wire
 * (no ARP, any source).
 *
 * Invariants checked after every call: it returned, within its timeout
 * plus SLACK_NS of (virtual) time; the result is what the unmutated
 * template says (the client's check) or a negative error code that its
 * header documents for what was drawn; the heap's bytes in use are back
 * to where they were before the iteration (nothing leaked). A crash or a
 * sanitizer report ends the run with the seed printed. The clock is
 * virtual (warp_clock.h), so the retransmission timeouts of a reply
 * ignored cost no real time.
 *
 * usage: model_replies [SEED [ITERATIONS [FIRST]]] (or $CUBRT_SEED,
 * $CUBRT_OPS). The seed is printed; iteration i draws from the seed and
 * i alone, so `model_replies SEED 1 i` replays it; $CUBRT_VERBOSE
 * prints each iteration, each reply's mutation and its result.
 */
#define WIRE_QUEUE 128

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <cubrt/heap.h>
#include <cubrt/mem.h>
#include <cubrt/net.h>

#include "net_unit.h"
#include "../model_args.h"
#include "../../unit/slow.h"
#include "warp_clock.h"
#include "model_replies_mut.h"

#define SLACK_NS (200 * MS)

static struct wire W;
#define A (&W.end[0].nif)
#define B (&W.end[1].nif)

static uint64_t seed;
static unsigned iter;
static bool verbose;
static uint64_t call_ns;		/* how long the call took (virtual) */
/* The stack keeps a freed TCP block for reuse (tcp_pcb.c, never given
 * back to the heap): the first iteration that opens a TCP connection
 * (a DNS answer with TC) may end with one more block held. */
static bool tcp_warm, tcp_used;
/* The scheduler caches ended coroutine records (record.c) as many as
 * ever ran at once: the first iteration whose server has two ports (a
 * coroutine each, TFTP's) may end with one more record held. */
static bool two_warm;

/* A client under test: the server ports it talks to on B, its template
 * reply to a request (false: no answer), its structural mutation, the
 * call and the judgement of its result (NULL: right, else what is
 * wrong). setup runs before each call, in the iteration's coroutine;
 * sent (may be NULL) sees every reply as it goes on the wire, in the
 * order the client will read them. */
struct client {
	const char *name;
	uint16_t port, port2;
	void (*setup)(void);
	bool (*answer)(unsigned ep, const uint8_t *q, size_t n, struct reply *r);
	const char *(*structural)(struct reply *r);
	long (*call)(uint64_t timeout_ns);
	const char *(*check)(long r);
	void (*teardown)(void);
	void (*sent)(const struct reply *r);
};

/* The server: one endpoint per port, a coroutine each. */
static struct {
	struct cub_udp u[2];
	struct cub_coro *coro[2];
	unsigned n;
	struct reply late;		/* held to go after the next reply */
	bool holding;
	unsigned requests, clean, mutated, silent;
	unsigned odd;			/* replies mutated, or not sent once,
					 * at once, from the server's port
					 * and address */
} S;

#include "model_replies_sntp.h"
#include "model_replies_dns.h"
#include "model_replies_dhcp.h"
#include "model_replies_tftp.h"

static const struct client *const clients[] = { &sntp_client, &dns_client, &dhcp_client,
						&tftp_client };
#define NCLIENTS (sizeof(clients) / sizeof(clients[0]))

static const struct client *C;

/* Puts r on the wire from B as one hand-built frame. */
static void put_frame(const struct reply *r)
{
	static uint8_t f[CUB_ETH_FRAME_MAX];
	const uint8_t *mac = r->dst == CUB_IP4_BROADCAST ? T_BCAST : MAC_A;
	size_t len = t_udp(f, mac, MAC_B, r->src, r->dst, r->sport, r->dport, r->m, r->n);

	if (wire_send(B, f, len) != 0)
		MODEL_FAIL("iteration %u: the wire's queue is full", iter);
	if (C->sent)
		C->sent(r);
}

/* Mutates r (or not) and sends it as the draw says. */
static void deliver(struct reply *r)
{
	const char *what = "clean", *what2 = "", *how = "";
	unsigned k = (unsigned)rnd(16);

	memcpy(r->orig, r->m, r->n);
	if (rnd(4) == 0) {
		S.clean++;
	} else {
		S.mutated++;
		what = mutate(r, C->structural);
		if (rnd(4) == 0) {
			what2 = mutate(r, C->structural);
		}
	}
	if (k <= 4 || strcmp(what, "clean"))
		S.odd++;
	if (k == 0) {
		S.silent++;
		how = " (not sent)";
	} else if (k == 1) {
		r->sport = (uint16_t)(r->sport + 1 + rnd(1000));
		how = " from another port";
	} else if (k == 2) {
		r->src = IP_NOBODY;
		how = " from another address";
	}
	if (verbose)
		printf("  reply %u: %s%s%s, %zu bytes%s%s\n", S.requests, what, *what2 ? ": " : "",
		       what2, r->n, how,
		       k == 3 ? " twice" : k == 4 ? " late" : "");
	if (k == 4 && !S.holding) {
		S.late = *r;
		S.holding = true;
		return;
	}
	if (k != 0)
		put_frame(r);
	if (k == 3)
		put_frame(r);
	if (S.holding && k != 4) {
		S.holding = false;
		put_frame(&S.late);
	}
}

static void *srv_main(void *arg)
{
	static uint8_t q[2][2048];
	static struct reply r;
	unsigned ep = (unsigned)(uintptr_t)arg;
	cub_ip4_t src;
	uint16_t port;
	int n;

	while ((n = cub_udp_recvfrom(&S.u[ep], q[ep], sizeof(q[ep]), &src, &port,
				     UINT64_MAX)) >= 0) {
		S.requests++;
		memset(&r, 0, sizeof(r));
		r.src = IP_B;
		r.sport = ep ? C->port2 : C->port;
		r.dst = src;
		r.dport = port;
		if ((size_t)n <= sizeof(q[ep]) && C->answer(ep, q[ep], (size_t)n, &r))
			deliver(&r);
	}
	return NULL;
}

static void server_start(void)
{
	memset(&S, 0, sizeof(S));
	S.n = C->port2 ? 2 : 1;
	for (unsigned i = 0; i < S.n; i++) {
		assert_int_equal(cub_udp_open(&S.u[i], B, i ? C->port2 : C->port), 0);
		assert_int_equal(cub_coro_spawn(&S.coro[i], srv_main, (void *)(uintptr_t)i,
						NULL), 0);
	}
}

static void server_stop(void)
{
	for (unsigned i = 0; i < S.n; i++) {
		assert_int_equal(cub_udp_close(&S.u[i]), 0);
		cub_coro_join(S.coro[i], NULL);
	}
}

/* What the iterations ended with, by client: successes, errors. */
static unsigned n_ok[NCLIENTS], n_err[NCLIENTS], n_replies;
static long last_r;

static void *iteration(void *arg)
{
	uint64_t timeout = (1 + rnd(20)) * 500 * MS, t0, dt, w0;
	const char *bad;
	long r;

	(void)arg;
	assert_int_equal(wire_start(&W), 0);
	server_start();
	C->setup();
	w0 = test_waited_ns();
	t0 = cub_time_now();
	r = C->call(timeout);
	dt = cub_time_now() - t0;
	call_ns = dt;
	server_stop();
	if (C->teardown)
		C->teardown();
	wire_stop(&W);
	if (verbose)
		printf("iteration %u: %s: %ld after %llu ms (%u requests, %u clean, %u "
		       "mutated, %u not sent)\n", iter, C->name, r,
		       (unsigned long long)(dt / MS), S.requests, S.clean, S.mutated, S.silent);
	/* The virtual clock is the real one plus its jumps: a thread kept
	 * from its CPU while running moves it too (slow.h). */
	if (dt > timeout + SLACK_NS + (test_waited_ns() - w0))
		MODEL_FAIL("iteration %u: %s took %llu ms of a %llu ms timeout", iter, C->name,
			   (unsigned long long)(dt / MS), (unsigned long long)(timeout / MS));
	if ((bad = C->check(r)) != NULL)
		MODEL_FAIL("iteration %u: %s returned %ld: %s", iter, C->name, r, bad);
	n_replies += S.requests;
	last_r = r;
	return NULL;
}

/* splitmix64 of x: iteration i's random numbers from the seed and i. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static unsigned iters, first;

static void test_model(void **state)
{
	uint64_t r0 = __real_cub_arch_clock_ns(), v0 = cub_time_now();
	struct cub_heap_stats h0, h1;

	(void)state;
	for (iter = first; iter < first + iters; iter++) {
		unsigned c;

		rng = mix(seed * 0x100000001b3ull + iter) | 1;
		c = (unsigned)rnd(NCLIENTS);
		C = clients[c];
		cub_heap_stats(&h0);
		tcp_used = false;
		run(iteration);
		cub_heap_stats(&h1);
		/* the first run's lazy set-up (the scheduler's) stays */
		if (iter > first && !(tcp_used && !tcp_warm) && !(S.n == 2 && !two_warm) &&
		    (h1.in_use != h0.in_use || h1.blocks != h0.blocks))
			MODEL_FAIL("iteration %u: %s: the heap held %zu bytes in %zu blocks "
				   "before, %zu in %zu after", iter, C->name, h0.in_use,
				   h0.blocks, h1.in_use, h1.blocks);
		tcp_warm |= tcp_used;
		two_warm |= S.n == 2;
		if (last_r >= 0)
			n_ok[c]++;
		else
			n_err[c]++;
	}
	printf("model_replies seed %llu: %u iterations, %u requests answered;",
	       (unsigned long long)seed, iters, n_replies);
	for (unsigned c = 0; c < NCLIENTS; c++)
		printf(" %s %u (%u answers)", clients[c]->name, n_ok[c] + n_err[c], n_ok[c]);
	printf("; %.1f s virtual in %.2f s\n", (cub_time_now() - v0) / 1e9,
	       (__real_cub_arch_clock_ns() - r0) / 1e9);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_model) };

	setvbuf(stdout, NULL, _IOLBF, 0);
	seed = model_arg(argc, argv, 1, "CUBRT_SEED", 0);
	iters = (unsigned)model_arg(argc, argv, 2, "CUBRT_OPS", 300);
	first = (unsigned)model_arg(argc, argv, 3, "CUBRT_FIRST", 0);
	if (seed == 0)
		seed = (uint64_t)time(NULL) ^ __real_cub_arch_clock_ns() ^ 0x5eed;
	printf("model_replies: seed %llu, iterations %u..%u\n", (unsigned long long)seed, first,
	       first + iters - 1);
	verbose = getenv("CUBRT_VERBOSE") != NULL;
	cubi_mem_init();
	if (!warp_in_effect()) {
		printf("model_replies: the virtual clock is not linked in: skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
