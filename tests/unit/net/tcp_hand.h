/*
 * tcp_hand.h - a TCP peer played by hand, for test_net_tcp_ooo and
 * test_net_tcp_ts: interface A's TCP frames to B are captured (cap[],
 * ncap) instead of delivered, and the test answers them with segments
 * it builds from port PPORT. hand_open has A connect and completes the
 * handshake with a SYN-ACK carrying the given options; peer_opt sends
 * any segment; last_sack reads the SACK blocks of A's last segment;
 * expect_ack checks that A answered with exactly one empty ACK.
 * Sequence numbers of the peer are relative to P0, its first data
 * byte. Include after tcp_test.h.
 */
#ifndef TCP_HAND_H
#define TCP_HAND_H

#define PPORT 7777			/* the hand-played peer's port */

static struct wire_frame cap[256];
static uint64_t cap_at[256];		/* when A sent cap[i] (cub_time_now) */
static unsigned ncap;

static inline bool capture(struct wire *w, struct wire_frame *f)
{
	(void)w;
	if (f->to != 1 || f->data[23] != 6)
		return true;
	if (ncap < 256) {
		cap_at[ncap] = cub_time_now();
		cap[ncap++] = *f;
	}
	return false;
}

static inline const uint8_t *last(void)
{
	return cap[ncap - 1].data + 34;
}

static uint16_t aport;
static uint32_t a_iss;
static struct {
	int r;
	struct cub_tcp *c;
} ct;

static inline void *connector(void *arg)
{
	(void)arg;
	ct.r = cub_tcp_connect(A, IP_B, PPORT, 2000 * MS, &ct.c);
	return NULL;
}

/* The peer sends a segment from PPORT to A's aport. */
static inline void peer_opt(uint32_t seq, uint32_t ack, uint8_t flags,
			    uint16_t wnd, const uint8_t *opt, size_t olen,
			    const void *d, size_t len)
{
	uint8_t f[CUB_ETH_FRAME_MAX];
	size_t n = t_tcp(f, MAC_A, MAC_B, IP_B, IP_A, PPORT, aport, seq, ack,
			 flags, wnd, opt, olen, d, len);

	cub_netif_input(A, f, n);
	wire_settle(&W);
}

#define P0 5001u			/* the peer's first data byte */

static inline void peer(uint32_t seq, uint8_t flags, const void *d,
			size_t len)
{
	peer_opt(seq, a_iss + 1, flags, 8000, NULL, 0, d, len);
}

/* A starts connecting to the hand peer: its SYN is captured (last()),
 * aport and a_iss are read from it. Returns the connecting coroutine
 * (join it once the peer has answered). */
static inline struct cub_coro *hand_syn(void)
{
	struct cub_coro *co;

	ncap = 0;
	W.filter = capture;
	assert_int_equal(cub_coro_spawn(&co, connector, NULL, NULL), 0);
	wire_settle(&W);
	assert_int_equal(ncap, 1);
	aport = t_get16(last());
	a_iss = t_get32(last() + 4);
	return co;
}

/* A connects to the hand peer, whose SYN-ACK (seq P0 - 1, window 8000)
 * carries opt. */
static inline struct cub_tcp *hand_open(const uint8_t *opt, size_t olen)
{
	struct cub_coro *co = hand_syn();

	peer_opt(P0 - 1, a_iss + 1, 0x12, 8000, opt, olen, NULL, 0);
	cub_coro_join(co, NULL);
	assert_int_equal(ct.r, 0);
	wire_settle(&W);
	return ct.c;
}

/* The SACK blocks of A's last segment (0: none): starts and ends
 * relative to P0. */
static inline unsigned last_sack(int32_t rel[][2])
{
	const uint8_t *t = last();
	size_t hl = (size_t)(t[12] >> 4) * 4, i = 20;

	while (i + 1 < hl) {
		if (t[i] == 1) {
			i++;
			continue;
		}
		if (t[i] == 5) {
			unsigned n = (t[i + 1] - 2u) / 8;

			for (unsigned k = 0; k < n; k++) {
				rel[k][0] = (int32_t)(t_get32(t + i + 2 + 8 * k) - P0);
				rel[k][1] = (int32_t)(t_get32(t + i + 6 + 8 * k) - P0);
			}
			return n;
		}
		i += t[i + 1];
	}
	return 0;
}

static unsigned before;

/* A answered with exactly one empty ACK of P0 + rel. */
static inline void expect_ack(uint32_t rel)
{
	assert_int_equal(ncap, before + 1);
	assert_int_equal(last()[13], 0x10);
	assert_int_equal(t_get32(last() + 8), P0 + rel);
	before = ncap;
}

static inline void expect_sack(unsigned n, const int32_t want[][2])
{
	int32_t got[4][2];

	assert_int_equal(last_sack(got), n);
	for (unsigned k = 0; k < n; k++) {
		assert_int_equal(got[k][0], want[k][0]);
		assert_int_equal(got[k][1], want[k][1]);
	}
}

#endif
