/*
 * tcp_ts_test.h - what test_net_tcp_ts and test_net_tcp_paws share
 * beyond tcp_hand.h: short timers, a payload pattern, reading the
 * timestamps option and the payload length of A's captured segments,
 * the hand peer's segments with timestamps (ts_seg, TSEG) and its
 * handshake with or without them (ts_open). Include after tcp_hand.h.
 */
#ifndef TCP_TS_TEST_H
#define TCP_TS_TEST_H

static const struct cub_tcp_params fast = {
	.rto_initial = 300 * MS, .rto_min = 300 * MS, .rto_max = 600 * MS,
	.max_retries = 5, .syn_retries = 3, .time_wait = 50 * MS,
	.fin_timeout = 500 * MS,
};

#define start() start_with(&fast)

/* Restores the defaults the tests change, then stops. */
static inline void stop_all(void)
{
	cub_tcp_set_params(A, NULL);
	cub_tcp_set_params(B, NULL);
	stop();
}

static uint8_t payload[8192];

static inline void fill_payload(void)
{
	for (size_t i = 0; i < sizeof payload; i++)
		payload[i] = (uint8_t)(i * 11 + (i >> 7));
}

/* The timestamps option of the segment at t: true and its fields. */
static inline bool seg_ts(const uint8_t *t, uint32_t *val,
			  uint32_t *ecr)
{
	size_t hl = (size_t)(t[12] >> 4) * 4, i = 20;

	while (i + 1 < hl && t[i] != 0) {
		if (t[i] == 1) {
			i++;
			continue;
		}
		if (t[i] == 8 && t[i + 1] == 10) {
			*val = t_get32(t + i + 2);
			*ecr = t_get32(t + i + 6);
			return true;
		}
		i += t[i + 1];
	}
	return false;
}

/* The payload length of captured frame k. */
static inline uint32_t cap_len(unsigned k)
{
	const uint8_t *t = cap[k].data + 34;

	return (uint32_t)(t_get16(cap[k].data + 16) - 20 - (t[12] >> 4) * 4);
}

/* A's last segment carries timestamps echoing ecr; returns its TSval. */
static inline uint32_t expect_ecr(uint32_t ecr)
{
	uint32_t v = 0, e = 0;

	assert_true(seg_ts(last(), &v, &e));
	assert_int_equal(e, ecr);
	return v;
}

/* The peer sends a segment at P0 + rel carrying TSval tsval (TSecr:
 * A's last TSval). */
static uint32_t a_tsval;

static inline void ts_seg(uint32_t rel, uint8_t flags, uint32_t tsval,
		   const void *d, size_t len)
{
	uint8_t o[12] = { 1, 1, 8, 10 };

	t_put32(o + 4, tsval);
	t_put32(o + 8, a_tsval);
	peer_opt(P0 + rel, a_iss + 1, flags, 8000, o, sizeof o, d, len);
}

#define TSEG(a, b, tsv) \
	ts_seg((a), 0x18, (tsv), payload + (a), (size_t)((b) - (a)))

/* MSS, SACK-permitted, WS 2 and (ts) timestamps in the SYN-ACK. */
static inline size_t synack_opt(uint8_t *o, bool ts, uint32_t tsval,
				 uint32_t ecr)
{
	static const uint8_t base[12] = { 2, 4, 0x05, 0xb4, 1, 1, 4, 2,
					  1, 3, 3, 2 };

	memcpy(o, base, sizeof base);
	if (!ts)
		return sizeof base;
	o[12] = 1;
	o[13] = 1;
	o[14] = 8;
	o[15] = 10;
	t_put32(o + 16, tsval);
	t_put32(o + 20, ecr);
	return 24;
}

/* A connects to the hand peer; its SYN-ACK carries timestamps (TSval
 * tsval, echoing A's SYN) when peer_ts. Returns whether A's SYN offered
 * them. */
static bool syn_had_ts;

static inline struct cub_tcp *ts_open(bool peer_ts, uint32_t tsval)
{
	struct cub_coro *co;
	uint32_t v = 0, e = 1;
	uint8_t o[24];
	size_t n;

	co = hand_syn();
	syn_had_ts = seg_ts(last(), &v, &e);
	if (syn_had_ts)
		assert_int_equal(e, 0);		/* no ACK: TSecr 0 */
	n = synack_opt(o, peer_ts, tsval, v);
	peer_opt(P0 - 1, a_iss + 1, 0x12, 8000, o, n, NULL, 0);
	cub_coro_join(co, NULL);
	assert_int_equal(ct.r, 0);
	wire_settle(&W);
	return ct.c;
}

#endif
