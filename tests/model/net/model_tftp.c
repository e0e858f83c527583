/*
 * model_tftp.c - randomized model test of the TFTP client (src/net/
 * tftp*.c: RFC 7440 windows, netascii, options and the retry without
 * them after ERROR 8) against the fake server of tests/unit/net/
 * tftp_fake.h, over a link that drops, truncates, reorders, duplicates
 * and forges datagrams (model_tftp_link.h), on a virtual clock
 * (warp_clock.h) so that timeouts of seconds cost no real time.
 *
 * Each iteration draws (model_tftp_plan.h): a read or a write; octet or
 * netascii; blksize (8..4096, above 1468 asked as 1468 unless with
 * fragment, up to 9660), windowsize (1..64; a read asks at most 16),
 * tsize, timeout, or no options at all, and now and then 8..11-byte
 * blocks past block 65535; whether the server
 * echoes, lowers, leaves out, ignores (RFC 1350) or refuses (ERROR 8)
 * them, or sends an OACK the client must refuse; the file: 0 bytes, a
 * whole number of agreed blocks, one more or less, or any length up to
 * 300 KiB, of random bytes or of text heavy in CR, LF and NUL (a read's
 * wire bytes need not be valid netascii, and get CRs at block ends); a
 * read's buffer larger than, equal to or smaller than the file; now and
 * then a missing file, an ERROR to the request or one mid-way; the
 * server's own resend time; the faults of each direction; a deadline.
 *
 * Reference: on a perfect link the result is the file's length with
 * exactly its bytes - a read's buffer holds the wire's bytes decoded by
 * this file's own plain netascii conversion, a write's server stores the
 * caller's bytes so encoded - or the documented error of what was drawn
 * (-CUB_ENOENT, -CUB_EACCES, -CUB_EIO, -CUB_ENOSPC, -CUB_EEXIST,
 * -CUB_EPROTO). A link that loses datagrams (drops, cuts), or a
 * client's receive queue full when an ERROR or ACK came (never sent
 * again), or a deadline may also end it with -CUB_ETIMEDOUT (a link that
 * only reorders, duplicates and forges may not); it must end with
 * -CUB_EPROTO when the first OACK the client got was
 * truncated (malformed); two ERROR 8 (a late answer to a duplicated
 * request among them) may not (the retry without options asks from
 * another port). Checked too: nothing past
 * the file (or past cap) is written, and on a failed read what was
 * written is a prefix of the file; info (oack, refused, blksize,
 * windowsize, timeout, tsize) as agreed, info.sends equal to the
 * datagrams the link saw; the link's rules (model_tftp_link.h); the
 * virtual time taken within the deadline, or within what the retries
 * allow.
 *
 * usage: model_tftp [SEED [ITERATIONS [FIRST]]]  (or $CUBRT_SEED,
 * $CUBRT_OPS). The seed is printed; iteration i draws from the seed and
 * i alone, so `model_tftp SEED 1 i` replays it.
 */
#define WIRE_QUEUE 512		/* windows of 64 blocks, duplicated, fit */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <cubrt/mem.h>
#include <cubrt/tftp.h>

#include "tftp_fake.h"
#include "../model_args.h"
#include "../../unit/slow.h"
#include "warp_clock.h"
#include "model_tftp_link.h"
#include "model_tftp_plan.h"

#define GUARD 16			/* bytes past a read's cap */

static uint64_t seed;
static unsigned iters = 60, first, iter;
static struct plan P;
static char fname[16];
/* What the iterations ended with. */
static unsigned n_ok, n_timeout, n_eproto, n_other, n_refused, n_windows, n_ascii;
static uint64_t virt_ns, n_strays, n_cut, n_drop, n_dup, n_reorder;

static void plan_print(void)
{
	const struct plan *p = &P;

	printf("iteration %u: %s %s, opts %s blksize %u window %u (asked %zu) tsize %d timeout %u; "
	       "server %s (blk %zu win %zu retry %llu ms, error %d, after %u: %u)%s; "
	       "file %zu bytes (wire %zu%s), cap %zu, deadline %llu ms\n", iter,
	       p->put ? "put" : "get", p->netascii ? "netascii" : "octet",
	       p->use_opts ? "yes" : "none", p->o.blksize, p->o.windowsize, p->ask_win, p->o.tsize,
	       p->o.timeout_s, srv_names[p->srv], p->blk, p->win,
	       (unsigned long long)(p->srv_retry_ns / MS), p->req_error, p->error_after,
	       p->mid_error, p->missing ? " missing" : "", p->host_len, p->wire_len,
	       p->wrap ? ", past block 65535" : "", p->cap, p->timeout_ns == UINT64_MAX ? 0ull : (unsigned long long)(p->timeout_ns / MS));
	for (int d = 0; d < 2; d++)
		printf("  to %c: drop %u cut %u reorder %u dup %u stray %u per mille\n",
		       d == L_TO_A ? 'A' : 'B', L.d[d].drop_pm, L.d[d].trunc_pm,
		       L.d[d].reorder_pm, L.d[d].dup_pm, L.d[d].stray_pm);
}

#define FAIL(...)                                                       \
	do {                                                            \
		plan_print();                                           \
		MODEL_FAIL(__VA_ARGS__);                                \
	} while (0)

/* The server's ERROR code as the client's result (cubrt/tftp.h). */
static long error_of(unsigned code, bool put)
{
	switch (code) {
	case 1:
		return -CUB_ENOENT;
	case 2:
		return -CUB_EACCES;
	case 3:
		return put ? -CUB_ENOSPC : -CUB_EIO;
	case 6:
		return put ? -CUB_EEXIST : -CUB_EIO;
	case 8:
		return -CUB_EPROTO;
	default:
		return -CUB_EIO;
	}
}

/* splitmix64 of x: iteration i's random numbers from the seed and i. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static unsigned pick_pm(const unsigned *rates, unsigned n)
{
	return rnd(2) ? 0 : rates[rnd(n)];
}

static void plan_faults(struct plan *p)
{
	static const unsigned drop[] = { 5, 20, 60, 150 }, cut[] = { 5, 20, 60 },
			      shuffle[] = { 20, 100, 300 };

	memset(&L, 0, sizeof(L));
	L.rng = mix(rng) | 1;
	p->faults = rnd(3) != 0;
	for (int d = 0; p->faults && d < 2; d++) {
		L.d[d].drop_pm = rnd(20) ? pick_pm(drop, 4) : 400;
		L.d[d].trunc_pm = pick_pm(cut, 3);
		p->lossy |= L.d[d].drop_pm || L.d[d].trunc_pm;
		L.d[d].reorder_pm = pick_pm(shuffle, 3);
		L.d[d].dup_pm = p->wrap ? 0 : pick_pm(shuffle, 3);
		L.d[d].stray_pm = d == L_TO_A ? pick_pm(shuffle, 3) : 0;
	}
}

/* Draws iteration iter. */
static void plan_draw(struct plan *p)
{
	size_t nblocks;

	memset(p, 0, sizeof(*p));
	rng = mix(seed * 0x100000001b3ull + iter) | 1;
	p->put = rnd(2);
	p->req_error = -1;
	plan_opts(p);
	plan_server(p);
	p->wire_len = plan_wire_len(p);
	if (p->put)
		plan_write_file(p);
	else
		plan_read_file(p);
	nblocks = p->wire_len / p->blk + 1;
	p->cap = p->host_len + rnd(100);
	if (!p->put && rnd(10) == 0)
		p->cap = p->host_len;
	else if (!p->put && rnd(10) == 0 && p->host_len)
		p->cap = p->host_len - 1 - rnd(p->host_len);
	p->missing = rnd(40) == 0;
	if (rnd(25) == 0)
		p->req_error = (int)(uint8_t[]){ 0, 1, 2, 3, 4, 6, 8 }[rnd(7)];
	if (rnd(25) == 0) {
		p->error_after = (unsigned)(1 + rnd(nblocks + 1));
		p->mid_error = (unsigned)(uint8_t[]){ 0, 1, 2, 3, 4, 6, 8 }[rnd(7)];
	}
	p->timeout_ns = rnd(8) ? UINT64_MAX : 20 * MS + rnd(3000) * MS;
	p->expect = p->missing ? -CUB_ENOENT :
		    p->req_error >= 0 ? error_of((unsigned)p->req_error, p->put) :
		    p->srv == S_BAD ? -CUB_EPROTO :
		    !p->put && p->cap < p->host_len ? -CUB_ENOSPC : (long)p->host_len;
	plan_faults(p);
	L.pkt_limit = (unsigned)CUB_MIN((uint64_t)(nblocks + 10) * (CUB_TFTP_TRIES + 1) *
					(p->win + 1) * 4 + 200, (uint64_t)UINT32_MAX);
}

/* The fake server's file for the plan. */
static struct ffile *serve(const struct plan *p)
{
	struct ffile *f;

	snprintf(fname, sizeof(fname), "m%u", iter);
	f = ffile(fname, p->wire_len);
	f->stale_ok = true;
	f->reack_old = true;
	f->quiet_dup_acks = p->srv_quiet;
	f->error = p->req_error;
	f->ignore_opts = p->srv == S_IGNORE;
	f->refuse_opts = p->srv == S_REFUSE;
	f->oack_blksize = p->oack_blksize;
	f->oack_window = p->oack_window;
	f->omit_timeout = p->omit_timeout;
	f->omit_tsize = p->omit_tsize;
	f->raw_oack = (const uint8_t *)p->raw_oack;
	f->raw_len = p->raw_len;
	f->retry_ns = p->srv_retry_ns;
	f->max_timeouts = p->srv_timeouts;
	f->error_after = p->error_after;
	f->mid_error = (int)p->mid_error;
	if (p->put) {
		f->store = malloc(p->wire_len + 1);
		f->store_cap = p->wire_len + 1;
		memset(f->store, 0x5a, f->store_cap);
	} else {
		f->content = p->wire;
	}
	return f;
}

#include "model_tftp_check.h"

static void *iteration(void *arg)
{
	const struct plan *p = &P;
	const struct cub_tftp_opts *o = p->use_opts ? &p->o : NULL;
	struct cub_tftp_info info;
	uint8_t *buf;
	struct ffile *f;
	const char *name;
	uint64_t t0, dt, w0, waited;
	long r;

	(void)arg;
	fstart();
	W.filter = link_filter;
	f = serve(p);
	name = p->missing ? "nofile" : f->name;
	buf = malloc(p->cap + GUARD);
	memset(buf, 0x5a, p->cap + GUARD);
	w0 = test_waited_ns();
	t0 = cub_time_now();
	if (p->put)
		r = cub_tftp_put_opts(A, IP_B, name, p->host_len ? p->host : NULL, p->host_len,
				      p->timeout_ns, o, &info);
	else
		r = cub_tftp_get_opts(A, IP_B, name, p->cap ? buf : NULL, p->cap,
				      p->timeout_ns, o, &info);
	dt = cub_time_now() - t0;
	/* The virtual clock moves with real time while coroutines run: the
	 * time the thread waited for a CPU meanwhile is not the client's
	 * (slow.h). */
	waited = test_waited_ns() - w0;
	dt = dt > waited ? dt - waited : 0;
	fstop();
	check(f, r, &info, buf, dt);
	free(buf);
	free(f->store);
	return NULL;
}

static void test_model(void **state)
{
	uint64_t r0 = __real_cub_arch_clock_ns(), v0 = cub_time_now();

	(void)state;
	for (iter = first; iter < first + iters; iter++) {
		plan_draw(&P);
		run(iteration);
		free(P.host);
		free(P.wire);
	}
	virt_ns = cub_time_now() - v0;
	printf("model_tftp seed %llu: %u iterations (%u windowed, %u netascii, %u refused): "
	       "%u complete, %u timed out, %u EPROTO, %u other errors; link: %llu dropped, "
	       "%llu cut, %llu reordered, %llu duplicated, %llu strays; %.1f s virtual in "
	       "%.2f s\n", (unsigned long long)seed, iters, n_windows, n_ascii, n_refused,
	       n_ok, n_timeout, n_eproto, n_other, (unsigned long long)n_drop,
	       (unsigned long long)n_cut, (unsigned long long)n_reorder,
	       (unsigned long long)n_dup, (unsigned long long)n_strays, virt_ns / 1e9,
	       (__real_cub_arch_clock_ns() - r0) / 1e9);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_model) };

	setvbuf(stdout, NULL, _IOLBF, 0);
	seed = model_arg(argc, argv, 1, "CUBRT_SEED", 0);
	iters = (unsigned)model_arg(argc, argv, 2, "CUBRT_OPS", 60);
	first = (unsigned)model_arg(argc, argv, 3, "CUBRT_FIRST", 0);
	if (seed == 0)
		seed = (uint64_t)time(NULL) ^ __real_cub_arch_clock_ns() ^ 0x5eed;
	printf("model_tftp: seed %llu, iterations %u..%u\n", (unsigned long long)seed, first,
	       first + iters - 1);
	link_trace = getenv("CUBRT_TRACE") != NULL;
	cubi_mem_init();
	if (!warp_in_effect()) {
		printf("model_tftp: the virtual clock is not linked in (link-time "
		       "optimisation?): skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
