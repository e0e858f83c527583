/*
 * model_tftp_link.h - the faulty link of model_tftp.c and what it sees.
 *
 * A filter on the wire of net_test.h (W.filter; it runs in the wire
 * coroutine and delivers frames itself) that applies, per direction and
 * at per-mille rates of its own, to the UDP datagrams between the TFTP
 * client on A and the fake server on B:
 *  - drop;
 *  - truncate: either a cut frame whose IPv4 length still says more (the
 *    stack must drop it), or, from B to A only, a consistent cut (IPv4
 *    and UDP lengths and checksums made right) to a length TFTP must
 *    refuse: a DATA, ACK or ERROR to 0..3 bytes, an OACK inside its last
 *    string (no NUL at its end). A consistent cut of a DATA to 4 bytes or
 *    more is not made: TFTP has no check of its own beyond UDP's, and
 *    such a DATA is a short last block (RFC 1350), which no client can
 *    tell apart;
 *  - reorder: the datagram is held until the next one in its direction
 *    has passed (or one in the other direction: then it is only late);
 *    one held per direction, a held one nothing passes is lost;
 *  - duplicate;
 *  - stray (B to A only): right after a datagram from B, a forged one:
 *    DATA of the next block filled with 0xee, ACK of the next block, or
 *    an ERROR; from 10.0.0.77 (to be ignored), or, when the datagram
 *    came from the port the client sends its own to (its transfer ID,
 *    so after it fixed it), mostly from another port of B below the
 *    ephemeral range (no endpoint of the fake there: the client must
 *    answer ERROR 5 and take nothing; a stray before the transfer ID is
 *    fixed is the server's reply for any client, RFC 1350).
 * ARP, ICMP and IPv4 fragments (blksize over 1468 with fragment) pass
 * untouched: a lost ARP reply ends a sendto with -CUB_EHOSTUNREACH
 * after CUB_ARP_RESOLVE_NS, not a TFTP matter, and the reassembly of
 * fragments is model_net.c's.
 *
 * It watches what the client sends: every datagram to 10.0.0.2; its
 * DATA and ACKs to one port only (the transfer ID, fixed once); an
 * ERROR 5 (unknown transfer ID) never to that port nor 69; the count of
 * its non-ERROR datagrams (info.sends must match). And what A is given:
 * whether the first OACK was a truncated one, how many ERROR 8 came,
 * whether an ERROR or ACK found the client's receive queue full.
 */
#ifndef MODEL_TFTP_LINK_H
#define MODEL_TFTP_LINK_H

#define L_TO_A 0		/* struct wire_frame's to: end 0 is A */
#define L_TO_B 1
#define L_ETH 14
#define L_UDP (L_ETH + 20)	/* both ends send IHL 5 */
#define L_PAY (L_UDP + 8)

struct link_dir {
	unsigned drop_pm, trunc_pm, reorder_pm, dup_pm, stray_pm;
	bool holding, held_cut;
	struct wire_frame held;
	unsigned dropped, truncated, reordered, duplicated, strays;
};

struct link {
	struct link_dir d[2];		/* by destination: L_TO_A, L_TO_B */
	uint64_t rng;
	unsigned pkt_limit;		/* more client datagrams: a livelock */
	/* What the client sent. */
	unsigned client_pkts;		/* RRQ, WRQ, DATA, ACK */
	unsigned err5, err_other;	/* its ERRORs */
	uint16_t tid;			/* where its DATA / ACKs go (0: none) */
	const char *bad;		/* a rule it broke, else NULL */
	/* What A was given. */
	bool oack_seen, oack_first_cut;
	unsigned err8;
	/* An ERROR or ACK for which the client's receive queue had no room:
	 * the server never sends an ERROR again (RFC 1350), nor a write's
	 * last ACK when it does not dally. */
	bool unrepeated;
};

static struct link L;

static unsigned link_roll(void)
{
	L.rng ^= L.rng << 13;
	L.rng ^= L.rng >> 7;
	L.rng ^= L.rng << 17;
	return (unsigned)(L.rng % 1000);
}

/* The frame's UDP payload length, or -1 for anything but an unfragmented
 * IPv4 UDP datagram with a 20-byte header. */
static int link_udp_len(const struct wire_frame *f)
{
	const uint8_t *ip = f->data + L_ETH;

	if (f->len < L_PAY || t_get16(f->data + 12) != 0x0800 || ip[0] != 0x45 ||
	    ip[9] != 17 || (t_get16(ip + 6) & 0x3fff))
		return -1;
	return (int)t_get16(f->data + L_UDP + 4) - 8;
}

/* The first fragment of a fragmented IPv4 UDP datagram (the TFTP
 * header is in it). */
static bool link_first_fragment(const struct wire_frame *f)
{
	const uint8_t *ip = f->data + L_ETH;

	return f->len >= L_PAY + 4 && t_get16(f->data + 12) == 0x0800 && ip[0] == 0x45 &&
	       ip[9] == 17 && (t_get16(ip + 6) & 0x3fff) == 0x2000;
}

/* Makes the IPv4 and UDP headers of f right for a payload of n bytes. */
static void link_fix(struct wire_frame *f, size_t n)
{
	uint8_t *ip = f->data + L_ETH, *u = f->data + L_UDP;
	uint16_t sum;

	f->len = L_PAY + n;
	t_put16(ip + 2, (uint32_t)(28 + n));
	t_ip_refresh(f->data);
	t_put16(u + 4, (uint32_t)(8 + n));
	t_put16(u + 6, 0);
	sum = t_cksum(t_pseudo(t_get32(ip + 12), t_get32(ip + 16), 17, (uint32_t)(8 + n)),
		      u, 8 + n);
	t_put16(u + 6, sum ? sum : 0xffff);
}

static bool link_trace;			/* $CUBRT_TRACE: print every datagram */

static void link_print(const struct wire_frame *f, int n, const char *what)
{
	const uint8_t *p = f->data + L_PAY;

	printf("  %8.3f ms %s %5u->%5u %s op %u #%u len %d\n",
	       (double)cub_time_now() / 1e6, f->to == L_TO_A ? "B->A" : "A->B",
	       t_get16(f->data + L_UDP), t_get16(f->data + L_UDP + 2), what,
	       n >= 2 ? t_get16(p) : 0, n >= 4 ? t_get16(p + 2) : 0, n);
}

/* What the client sent (f to B, a payload of n bytes). */
static void link_sent(const struct wire_frame *f, int n)
{
	const uint8_t *p = f->data + L_PAY;
	uint16_t port = t_get16(f->data + L_UDP + 2);
	unsigned op = n >= 2 ? t_get16(p) : 0;

	if (t_get32(f->data + L_ETH + 16) != IP_B)
		L.bad = "a datagram to another address";
	else if (op == ERR && n >= 4) {
		if (t_get16(p + 2) != 5)
			L.err_other++;
		else if (L.err5++, port == L.tid || port == 69)
			L.bad = "ERROR 5 to the server's own port";
	} else if (op == RRQ || op == WRQ) {
		L.client_pkts++;
		if (port != 69 || L.tid)
			L.bad = "a request not to 69, or after the transfer ID";
	} else if (op == DATA || op == ACKOP) {
		L.client_pkts++;
		if (port == 69)
			L.bad = "DATA or ACK to port 69";
		else if (L.tid && port != L.tid)
			L.bad = "DATA or ACK to a second transfer ID";
		L.tid = port;
	} else {
		L.bad = "a datagram that is no TFTP packet";
	}
	if (L.pkt_limit && L.client_pkts > L.pkt_limit)
		L.bad = "more datagrams than any progress explains (a livelock)";
}

/* The datagrams A's endpoints had no room for. */
static uint64_t link_queue_full(void)
{
	struct cub_netif_stats st;

	return cub_netif_stats(A, &st) == 0 ? st.udp_queue_full : 0;
}

/* Delivers f to its end; cut: a consistent truncation of it. */
static void link_deliver(struct wire *w, struct wire_frame *f, bool cut)
{
	int n = link_udp_len(f);

	if (link_trace)
		link_print(f, n, cut ? "cut " : "deliv");
	if (f->to == L_TO_A && n >= 0 && f->len >= L_PAY + (size_t)n) {
		unsigned op = n >= 2 ? t_get16(f->data + L_PAY) : 0;

		if (op == OACK && !L.oack_seen) {
			L.oack_seen = true;
			L.oack_first_cut = cut;
		}
		if (op == ERR && n >= 4 && t_get16(f->data + L_PAY + 2) == 8)
			L.err8++;
		if (op == ERR || op == ACKOP) {
			uint64_t full = link_queue_full();

			wire_deliver(w, f);
			L.unrepeated |= link_queue_full() != full;
			return;
		}
	}
	wire_deliver(w, f);
}

/* Truncates f (a payload of n bytes): true when the cut is consistent. */
static bool link_cut(struct wire_frame *f, int n)
{
	const uint8_t *p = f->data + L_PAY;
	unsigned op = n >= 2 ? t_get16(p) : 0;

	if (f->to == L_TO_A && link_roll() < 600) {
		if (op == OACK && n >= 4) {
			size_t k = 3 + link_roll() % (size_t)(n - 3);	/* 3..n-1 */

			while (k > 3 && p[k - 1] == 0)
				k--;
			if (p[k - 1] != 0) {
				link_fix(f, k);
				return true;
			}
		} else if (op == DATA || op == ACKOP || op == ERR) {
			link_fix(f, link_roll() % 4);
			return true;
		}
	}
	f->len = L_UDP + link_roll() % (8 + (size_t)n);	/* IPv4 says more */
	return false;
}

/* A forged datagram after f (a payload of n bytes, from B): from a
 * foreign port of B when f came from the client's transfer ID, else or
 * now and then from 10.0.0.77; DATA of the next block filled with
 * 0xee, ACK of the next block, or an ERROR. */
static void link_stray(struct wire *w, const struct wire_frame *f, int n)
{
	static struct wire_frame s;
	uint8_t *p = s.data + L_PAY;
	unsigned op = n >= 2 ? t_get16(f->data + L_PAY) : 0;
	bool port = L.tid && t_get16(f->data + L_UDP) == L.tid && link_roll() < 667;

	if (n < 4 || op < DATA || op > OACK)
		return;
	s = *f;
	if (op == OACK)
		t_put16(p, DATA);
	t_put16(p + 2, t_get16(p + 2) + 1u);
	if (op == DATA || op == OACK)
		memset(p + 4, 0xee, (size_t)n - 4);
	if (link_roll() < 200) {	/* an ERROR, which must not end it */
		t_put16(p, ERR);
		t_put16(p + 2, link_roll() % 9);
		memcpy(p + 4, "x", 2);
		n = 6;
	}
	if (port)
		t_put16(s.data + L_UDP, 1024 + link_roll() * 40);	/* < 49152 */
	else
		t_put32(s.data + L_ETH + 12, IP_NOBODY);
	link_fix(&s, (size_t)n);
	L.d[L_TO_A].strays++;
	wire_deliver(w, &s);
}

static bool link_filter(struct wire *w, struct wire_frame *f)
{
	struct link_dir *d = &L.d[f->to], *o = &L.d[1 - f->to];
	int n = link_udp_len(f);
	bool cut = false, ipcut = false;

	if (n < 0) {
		if (link_first_fragment(f) && f->to == L_TO_B)
			link_sent(f, (int)t_get16(f->data + L_UDP + 4) - 8);
		return true;	/* ARP, ICMP, fragments: as they are */
	}
	if (f->to == L_TO_B)
		link_sent(f, n);
	if (link_trace)
		link_print(f, n, "sent");
	if (link_roll() < d->drop_pm) {
		d->dropped++;
		return false;
	}
	if (link_roll() < d->trunc_pm) {
		d->truncated++;
		cut = link_cut(f, n);
		ipcut = !cut;
	}
	if (!d->holding && link_roll() < d->reorder_pm) {
		d->held = *f;
		d->held_cut = cut;
		d->holding = true;
		d->reordered++;
		return false;
	}
	link_deliver(w, f, cut);
	if (link_roll() < d->dup_pm) {
		d->duplicated++;
		link_deliver(w, f, cut);
	}
	if (f->to == L_TO_A && !cut && !ipcut && link_roll() < d->stray_pm)
		link_stray(w, f, n);
	if (d->holding) {
		d->holding = false;
		link_deliver(w, &d->held, d->held_cut);
	}
	if (o->holding) {
		o->holding = false;
		link_deliver(w, &o->held, o->held_cut);
	}
	return false;
}

#endif
