/*
 * model_replies_sntp.h - cub_sntp_query against the hostile server of
 * model_replies.c. The template: a version 4, mode 4, stratum 2 reply
 * whose originate is the request's nonce and whose receive and transmit
 * timestamps are the server's time, SNTP_AHEAD past the wall clock.
 * Value bytes: the leap bits, stratum, both timestamps (a change would
 * be another time, honestly told). Structural mutations: mode and
 * version (0..7), stratum 0 with a kiss code (RATE, DENY, RSTR, or one
 * to be ignored) or over 15, leap 3, a zero receive, transmit or
 * originate timestamp, a wrong origin (random, or an earlier request's
 * nonce: still ours), extension bytes.
 *
 * A result is right when it is 0 with a delay no longer than the call
 * took and the offset SNTP_AHEAD within half that delay (a reply to an earlier request, or a late one, is measured
 * from that request's send, RFC 4330's arithmetic), stratum 2, leap 0
 * and version 3 or 4; or -CUB_ECONNREFUSED with one of the three kiss
 * codes; or -CUB_ETIMEDOUT.
 */
#ifndef MODEL_REPLIES_SNTP_H
#define MODEL_REPLIES_SNTP_H

#include <cubrt/sntp.h>

#include "../../unit/net/ntp_fake.h"

#define SNTP_AHEAD (1000ull * 86400 * 1000000000ull)	/* 1000 days */

static struct cub_sntp_result sntp_res;
static uint64_t sntp_nonce[4];		/* the latest requests' nonces */
static unsigned sntp_asked;

static bool sntp_answer(unsigned ep, const uint8_t *q, size_t n, struct reply *r)
{
	uint64_t now = ntp_of(cub_time_wall() + SNTP_AHEAD);
	uint8_t *m = r->m;

	(void)ep;
	if (n != 48)
		return false;
	sntp_nonce[sntp_asked++ % 4] = t_get64(q + 40);
	memset(m, 0, 48);
	m[0] = 0 << 6 | 4 << 3 | 4;
	m[1] = 2;
	m[2] = 6;
	m[3] = 0xec;
	t_put32(m + 12, CUB_IP4(192, 0, 2, 1));
	t_put64(m + 16, now - (10ull << 32));
	memcpy(m + 24, q + 40, 8);
	t_put64(m + 32, now);
	t_put64(m + 40, now);
	r->n = 48;
	r->prot[0] = r->prot[1] = 1;
	memset(r->prot + 32, 1, 16);
	return true;
}

static const char *sntp_structural(struct reply *r)
{
	static const char *kiss[] = { "RATE", "DENY", "RSTR", "INIT", "STEP", "\0\0\0\0" };
	uint8_t *m = r->m;

	if (r->n < 48)
		return "none (short)";
	switch (rnd(9)) {
	case 0:
		m[0] = (uint8_t)((m[0] & ~7u) | rnd(8));
		return "mode";
	case 1:
		m[0] = (uint8_t)((m[0] & ~0x38u) | rnd(8) << 3);
		return "version";
	case 2:
		m[1] = 0;
		memcpy(m + 12, kiss[rnd(6)], 4);
		return "kiss";
	case 3:
		m[1] = (uint8_t)(16 + rnd(240));
		return "stratum";
	case 4:
		m[0] |= 0xc0;
		return "leap 3";
	case 5:
		memset(m + (size_t)(24 + 8 * rnd(3)), 0, 8);
		return "zero timestamp";
	case 6:
		if (rnd(2))
			t_put64(m + 24, sntp_nonce[rnd(4)]);
		else
			t_put64(m + 24, rnd64());
		return "origin";
	case 7:
		memset(m + 32, 0, 4);		/* seconds 0: 2036 or 1900 */
		return "receive seconds 0";
	default:
		mut_append(r);
		return "extension";
	}
}

static void sntp_setup(void)
{
	memset(sntp_nonce, 0, sizeof(sntp_nonce));
	sntp_asked = 0;
}

static long sntp_call(uint64_t timeout_ns)
{
	return cub_sntp_query(A, IP_B, 0, timeout_ns, &sntp_res);
}

static const char *sntp_check(long r)
{
	const struct cub_sntp_result *s = &sntp_res;
	int64_t err;

	if (r == -CUB_ETIMEDOUT)
		return NULL;
	if (r == -CUB_ECONNREFUSED)
		return strcmp(s->kiss, "RATE") && strcmp(s->kiss, "DENY") &&
		       strcmp(s->kiss, "RSTR") ? "refused without a fatal kiss" : NULL;
	if (r != 0)
		return "an error not documented";
	if (verbose)
		printf("  offset %lld ns from the server's, delay %lld ns\n",
		       (long long)(s->offset_ns - (int64_t)SNTP_AHEAD), (long long)s->delay_ns);
	err = s->offset_ns - (int64_t)SNTP_AHEAD;
	if (s->delay_ns < 0 || (uint64_t)s->delay_ns > call_ns + MS ||
	    (err < 0 ? -err : err) > s->delay_ns / 2 + 2 * (int64_t)MS)
		return "an offset other than the server's";
	if (s->stratum != 2 || s->leap != 0 || (s->version != 3 && s->version != 4))
		return "stratum, leap or version other than the reply's";
	return NULL;
}

static const struct client sntp_client = {
	.name = "sntp", .port = 123, .setup = sntp_setup, .answer = sntp_answer,
	.structural = sntp_structural, .call = sntp_call, .check = sntp_check,
};

#endif
