/*
 * model_net_frag.h - the second phase of model_net.c (included there,
 * after its helpers): large datagrams from A to B over a faulty wire.
 *
 * The wire drops and reorders frames (struct wire's faults); a filter
 * duplicates frames, recording which fragment of which IPv4 datagram
 * (identification, offset / 1480) it duplicated, and flips one bit of
 * at most one frame per datagram (two flips could cancel out in the
 * checksum). Property checked: every delivered datagram is byte-exact;
 * a datagram delivered more than once had every fragment duplicated;
 * after the reassembly timeout no slot is busy; some large datagrams
 * arrive. Only A -> B UDP frames are touched; B sends nothing back but
 * ARP, which the filter passes untouched.
 */
#define F_COUNT 300
#define F_PORT_A 2000
#define F_PORT_B 2001

static uint64_t f_dups[65536];		/* per IP id: fragments duplicated */
static uint8_t f_nfrags[65536];		/* per IP id: fragments (final seen) */
static uint8_t f_corrupt[65536];	/* per IP id: a frame corrupted */
static int32_t f_ipid[F_COUNT];		/* per sequence: its IP id, or -1 */
static uint8_t f_got[F_COUNT];
static uint64_t f_rng, f_big_ok, f_twice;
static bool f_done;
static struct cub_udp f_a, f_b;

static bool f_filter(struct wire *w, struct wire_frame *f)
{
	const uint8_t *ip = f->data + 14;
	uint16_t id, fl;
	unsigned k;

	if (f->to != 1 || f->len < 34 || t_get16(f->data + 12) != 0x0800 ||
	    ip[9] != 17)
		return true;
	id = (uint16_t)t_get16(ip + 4);
	fl = (uint16_t)t_get16(ip + 6);
	k = (fl & 0x1fff) / 185;
	if ((fl & 0x1fff) == 0 && f->len >= 34 + 8 + 12 &&
	    t_get32(ip + 28) == TAG_REAL) {
		uint32_t seq = t_get32(ip + 28 + 6);

		if (seq < F_COUNT)
			f_ipid[seq] = id;
	}
	if (!(fl & 0x2000))
		f_nfrags[id] = (uint8_t)(k + 1);
	f_rng ^= f_rng << 13, f_rng ^= f_rng >> 7, f_rng ^= f_rng << 17;
	if (!f_corrupt[id] && f_rng % 1000 < 10) {
		f_corrupt[id] = 1;
		f->data[14 + (f_rng >> 20) % (f->len - 14)] ^=
			(uint8_t)(1u << ((f_rng >> 10) % 8));
	}
	if ((f_rng >> 32) % 1000 < 20) {
		f_dups[id] |= 1ull << k;
		wire_deliver(w, f);		/* the copy, then the frame */
	}
	return true;
}

static void *f_sender(void *arg)
{
	static uint8_t buf[CUB_UDP_PAYLOAD_MAX];
	uint64_t s = seed * 77 + 5;

	(void)arg;
	for (uint32_t seq = 0; seq < F_COUNT; seq++) {
		size_t len = 12 + rnd(&s) % (CUB_UDP_PAYLOAD_MAX - 11);
		int r;

		if (rnd(&s) % 2)
			len = 12 + rnd(&s) % 16000;
		fill(buf, len, TAG_REAL, 0, seq);
		r = cub_udp_sendto(&f_a, IP_B, F_PORT_B, buf, len);
		if (r != (int)len && r != -CUB_EAGAIN)
			die("faulty sendto", r);
		cub_sleep(1 * MS + rnd(&s) % (2 * MS));
	}
	return NULL;
}

/* A delivered datagram seen again: all of its fragments had copies. */
static void f_check_twice(uint32_t seq)
{
	int32_t id = f_ipid[seq];
	unsigned n;

	if (id < 0 || !(n = f_nfrags[id]) ||
	    f_dups[id] != (n == 64 ? ~0ull : (1ull << n) - 1))
		die("a datagram delivered twice without duplicated fragments",
		    (long)seq);
	f_twice++;
}

static void *f_receiver(void *arg)
{
	static uint8_t buf[CUB_UDP_PAYLOAD_MAX];
	int r;

	(void)arg;
	for (;;) {
		r = cub_udp_recvfrom(&f_b, buf, sizeof(buf), NULL, NULL,
				     200 * MS);
		if (r == -CUB_ETIMEDOUT && f_done)
			break;
		if (r == -CUB_ETIMEDOUT)
			continue;
		if (r < 0)
			die("faulty recvfrom", r);
		if (!intact(buf, (size_t)r, TAG_REAL) || t_get32(buf + 6) >= F_COUNT)
			die("faulty wire: corrupted datagram delivered", r);
		if (f_got[t_get32(buf + 6)]++)
			f_check_twice(t_get32(buf + 6));
		f_big_ok += r > CUB_UDP_FRAME_PAYLOAD;
	}
	return NULL;
}

static void faulty_phase(void)
{
	struct cub_coro *snd, *rcv;
	unsigned got = 0;

	memset(f_ipid, 0xff, sizeof(f_ipid));
	f_rng = seed | 1;
	W.rng = seed * 3 + 1;
	W.drop_pm = 10;
	W.reorder_pm = 50;
	W.filter = f_filter;
	if (cub_udp_open(&f_a, &W.end[0].nif, F_PORT_A) ||
	    cub_udp_open(&f_b, &W.end[1].nif, F_PORT_B))
		die("faulty open", 0);
	spawn(&rcv, f_receiver, 0);
	spawn(&snd, f_sender, 0);
	cub_coro_join(snd, NULL);
	wire_settle(&W);
	cub_sleep(300 * MS);			/* past the 100 ms timeout */
	f_done = true;
	cub_coro_join(rcv, NULL);
	W.filter = NULL;
	W.drop_pm = W.reorder_pm = 0;
	for (int e = 0; e < 2; e++)
		if (cub_ip4_reasm_busy(&W.end[e].nif) != 0)
			die("reassembly slots busy after the timeout", e);
	cub_udp_close(&f_a);
	cub_udp_close(&f_b);
	for (unsigned i = 0; i < F_COUNT; i++)
		got += f_got[i] != 0;
	if (!f_big_ok || got < F_COUNT / 4)
		die("faulty wire: too few datagrams arrived", (long)got);
	printf("model_net: faulty wire: %u of %u datagrams arrived intact (%"
	       PRIu64 " large, %" PRIu64 " twice: all fragments duplicated);"
	       " wire dropped %u, reordered %u\n", got, F_COUNT, f_big_ok,
	       f_twice, W.dropped, W.reordered);
}
