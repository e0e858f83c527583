/*
 * tcp_impl.h - private interface between the TCP files of src/net:
 *   tcp_in.c     segment checks, demultiplexing, the state machine
 *   tcp_out.c    building and sending segments, RSTs, RTO estimation
 *   tcp_timer.c  the per-interface timer coroutine: retransmission,
 *                persist, TIME_WAIT / FIN_WAIT_2 expiry
 *   tcp_pcb.c    blocks: creation, lookup, ports, ISNs, freeing, wake-ups
 *   tcp_opt.c    options: parsing (MSS, window scale, SACK-permitted,
 *                SACK, timestamps) and building them for a segment
 *   tcp_ts.c     timestamps (RFC 7323 3-5): TS.Recent, PAWS, RTT
 *                samples from TSecr
 *   tcp_ooo.c    the receiver's reassembly in the receive ring and the
 *                SACK blocks that describe it
 *   tcp_sack.c   the sender's SACK scoreboard and loss recovery with it
 *   tcp_api.c    the public calls that open and move data
 *   tcp_close.c  who holds a block; shutdown, close, abort; the
 *                number of orphans (params.max_orphans)
 *   tcp_query.c  the public calls that look: poll, notify, info, ...
 *   tcp_keep.c   noticing a dead peer: keep-alive probes, ICMP errors
 *   tcp_pmtu.c   path MTU discovery: ICMP "fragmentation needed" lowers
 *                the send MSS and resends what is in flight
 * Every cubi_tcp_ function but cubi_tcp_enter is called with nif->lock
 * held.
 *
 * Sequence space of a connection (all mod 2^32, compared with SEQ_LT...):
 *   iss .. snd_una .. snd_nxt <= snd_max
 * Once the SYN is acknowledged (snd_una > iss), the send ring holds
 * s_len bytes from ring index s_head, the first having sequence number
 * snd_una; the bytes up to snd_nxt have been sent (snd_nxt - snd_una <=
 * s_len, + 1 when our FIN was sent: fin_queued and snd_nxt == snd_una +
 * s_len + 1). A timeout sets snd_nxt back to snd_una (go-back-N); snd_max
 * remembers the highest ever sent, the limit of an acceptable ACK.
 * The receive ring (rsize bytes) holds r_len unread bytes from r_head;
 * rcv_nxt is the next byte expected; rcv_adv the right edge we last
 * advertised (rcv_nxt + window), which never moves left. Byte x with
 * rcv_nxt <= x < rcv_nxt + rsize - r_len (the window) lives at ring index
 * (r_head + r_len + x - rcv_nxt) % rsize, where an out-of-order segment's
 * payload is written at once; the ranges held there are ooo[0..nooo),
 * sorted, disjoint, not touching, all beyond rcv_nxt (tcp_ooo.c). The
 * send ring (ssize bytes) holds s_len bytes from s_head.
 * Window scaling (RFC 7323): ws_ok when both SYNs carried the option;
 * then windows we send are shifted right by rcv_wscale and the peer's
 * are shifted left by snd_wscale, except in SYN segments.
 * Timestamps (RFC 7323 3-5, tcp_ts.c): ts_ok when our SYN offered the
 * option (ts_offer) and the peer's carried it; then every segment we
 * send carries TSval (ts_off + the ms clock) and TSecr = ts_recent,
 * which only an acceptable segment starting at or before ts_last_ack
 * (Last.ACK.sent) with a TSval not older moves; a segment older than
 * ts_recent is dropped (PAWS) while ts_recent is younger than
 * paws_idle. Options of a segment never exceed TCP_OPT_MAX bytes: the
 * payload of a segment is snd_mss minus its options' length.
 */
#ifndef CUBRT_TCP_IMPL_H
#define CUBRT_TCP_IMPL_H

#include "net_impl.h"

#define TCP_HLEN 20

/* Header flags. */
#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_URG 0x20

#define TCP_OOO_MAX 8			/* out-of-order ranges a receiver holds */
#define TCP_SACK_MAX 8			/* SACKed ranges a sender remembers */
#define TCP_SACK_BLOCKS 4		/* SACK blocks in one ACK (36 bytes) */
#define TCP_SACK_BLOCKS_TS 3		/* ... beside timestamps (12 + 28) */
#define TCP_TS_OPTLEN 12		/* NOP, NOP, kind 8 of length 10 */
#define TCP_OPT_MAX 40			/* option space of a header */
#define TCP_WS_MAX 14			/* RFC 7323 2.3 */

#define TCP_MAGIC 0x54435031u		/* "TCP1": the handle is the user's */
#define TCP_DEFAULT_MSS 536		/* RFC 9293 3.7.1, without the option */

#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b) SEQ_LT(b, a)
#define SEQ_GEQ(a, b) SEQ_LEQ(b, a)

/* A range of sequence space, [start, end). */
struct tcp_range {
	uint32_t start, end;
};

/* A range of out-of-order data held in the receive ring; stamp orders
 * them by their latest segment (SACK: most recent first). */
struct tcp_ooo_range {
	uint32_t start, end, stamp;
};

enum tcp_state {
	TCP_CLOSED,
	TCP_LISTEN,
	TCP_SYN_SENT,
	TCP_SYN_RCVD,
	TCP_ESTABLISHED,
	TCP_FIN_WAIT_1,
	TCP_FIN_WAIT_2,
	TCP_CLOSE_WAIT,
	TCP_CLOSING,
	TCP_LAST_ACK,
	TCP_TIME_WAIT,
};

/*
 * A TCP block: a listener or a connection. Lifetime: it is in nif->tcps
 * from creation until freed. Four things hold it (tcp_close.c): the
 * user's handle (user), the calls inside it (users; close counts itself
 * among them while it waits for the others), its listener's queue
 * (parent) and the protocol (state != CLOSED). Whoever drops the last
 * hold frees it (cubi_tcp_maybe_free), under nif->lock, and no one
 * touches it after that.
 */
struct cub_tcp {
	uint32_t magic;			/* TCP_MAGIC while user holds it */
	struct cub_list link;		/* in nif->tcps */
	struct cub_netif *nif;
	uint8_t state;			/* enum tcp_state */
	bool user;			/* the handle is not released */
	bool rd_shut;			/* cub_tcp_shutdown_recv: recv no
					 * longer waits (0 once r_len is 0) */
	bool fin_queued;		/* shutdown: FIN after the data */
	bool fin_rcvd;			/* the peer's FIN is in rcv_nxt */
	bool ack_now;			/* an ACK is owed (output sends it) */
	bool rtt_on;			/* timing the segment ending rtt_seq */
	bool passive;			/* created by a listener */
	bool fin_acked;			/* our FIN is acknowledged */
	bool ws_ok;			/* window scaling negotiated */
	bool sack_ok;			/* SACK-permitted both ways */
	bool fin_ooo;			/* a FIN at fin_seq beyond a hole */
	bool ts_offer;			/* our SYN offers timestamps */
	bool ts_ok;			/* timestamps negotiated (RFC 7323) */
	bool orphan;			/* counted in st.tcp_orphans: released
					 * by close with work left, neither
					 * CLOSED nor TIME_WAIT (tcp_close.c) */
	uint8_t snd_wscale, rcv_wscale;	/* the peer's shift, ours */
	uint8_t dupacks;		/* duplicate ACKs in a row */
	uint8_t probe_shift;		/* persist backoff: rto << probe_shift */
	unsigned zw_probes;		/* zero-window probes since the peer's
					 * window was last open (orphan limit) */
	int err;			/* sticky error (negative) or 0 */
	unsigned users;			/* API calls inside, close included */
	cub_ip4_t laddr, raddr;
	uint16_t lport, rport;
	uint8_t mac[6];			/* next hop's MAC */

	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wl1, snd_wl2;
	uint32_t snd_wnd;		/* the peer's window */
	uint32_t recover;		/* no fast retransmit below it */
	/* Congestion control (RFC 5681, RFC 3465 byte counting, NewReno
	 * RFC 6582): the sender keeps snd_nxt - snd_una <= min(cwnd,
	 * snd_wnd) (except a FIN, which takes no room); cwnd >= snd_mss
	 * once synchronised; in_recovery only between a fast retransmit
	 * and the ACK of recover. */
	uint32_t cwnd, ssthresh;
	uint32_t ca_acked;		/* bytes ACKed toward cwnd's next MSS
					 * in congestion avoidance */
	bool in_recovery;
	uint32_t rexmits;		/* segments this connection resent */
	/* SACK scoreboard (tcp_sack.c): sacked[0..nsacked) sorted,
	 * disjoint ranges within snd_una..snd_max that the peer holds;
	 * high_rxt: SACK recovery resent the holes below it. */
	struct tcp_range sacked[TCP_SACK_MAX];
	uint8_t nsacked;
	uint32_t high_rxt;
	/* Path MTU discovery (tcp_pmtu.c): snd_mss = min(peer_mss, pmtu -
	 * 40) always; pmtu starts at the interface's MTU and only ICMP
	 * "fragmentation needed" lowers it, never below TCP_PMTU_MIN;
	 * pmtu_nodf: a report below that floor came, segments leave
	 * without DF. pmtu_at != 0 exactly while pmtu < CUB_IP4_MTU (but
	 * in CLOSED / TIME_WAIT): when the cache entry it came from
	 * expires, the moment to look at the cache again (and go back to
	 * CUB_IP4_MTU if the entry is gone). user_mss (0: none) bounds
	 * the MSS our SYN announces and peer_mss (TCP_MAXSEG before
	 * connect; a listener's children inherit it). */
	uint16_t snd_mss;		/* the MSS we send, <= CUB_TCP_MSS */
	uint16_t peer_mss;		/* the peer's SYN's (536 without),
					 * at most user_mss */
	uint16_t user_mss;
	uint16_t pmtu;			/* path MTU estimate */
	bool pmtu_nodf;
	uint64_t pmtu_at;		/* cache look-up deadline, 0: off */
	uint32_t irs, rcv_nxt, rcv_adv;

	uint8_t *sbuf, *rbuf;		/* ssize / rsize bytes (heap) */
	uint32_t ssize, rsize;		/* from the params at creation */
	uint32_t s_head, s_len, r_head, r_len;
	/* Out-of-order data in the receive ring (tcp_ooo.c). */
	struct tcp_ooo_range ooo[TCP_OOO_MAX];
	uint8_t nooo;
	uint32_t ooo_clock;		/* the next stamp */
	uint32_t fin_seq;		/* fin_ooo: the FIN's number */

	/* Timestamps (tcp_ts.c): our TSval is ts_off + ms clock. */
	uint32_t ts_off;
	uint32_t ts_recent;		/* TS.Recent: the TSval we echo */
	uint64_t ts_recent_at;		/* when it was set (cub_time_now) */
	uint32_t ts_last_ack;		/* Last.ACK.sent */
	uint32_t ts_rtt_seq;		/* next TSecr sample: an ACK beyond */

	uint64_t rto, srtt, rttvar;	/* ns; srtt 0: no sample yet */
	uint64_t rtt_start;
	uint32_t rtt_seq;
	unsigned retries;		/* timeouts / probes since progress */
	uint64_t rtx_at;		/* retransmission deadline, 0: off */
	uint64_t persist_at;		/* zero-window probe deadline, 0: off */
	uint64_t close_at;		/* TIME_WAIT / orphan FIN_WAIT_2 end */
	/* Keep-alive (tcp_keep.c): while ka_on, a synchronised connection
	 * with nothing outstanding probes at rx_at + ka_idle + k *
	 * ka_intvl for k = ka_probes; ka_probes == ka_cnt fails it. */
	bool ka_on;
	uint8_t ka_probes, ka_cnt;
	uint64_t ka_idle, ka_intvl;
	uint64_t rx_at;			/* the peer's last segment (or open) */
	int soft_err;			/* ICMP soft error (negative) or 0 */

	struct cub_cond cond;		/* state, data, room, errors */
	void (*notify)(void *);
	void *notify_arg;

	/* Listener: children not yet accepted (SYN_RCVD or established),
	 * oldest first; a child links in its parent's queue. */
	struct cub_tcp *parent;
	struct cub_list children;
	struct cub_list child_link;
	unsigned backlog, nchildren;
};

/* A parsed segment. */
struct tcp_seg {
	cub_ip4_t src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint32_t wnd;			/* scaled by sync_input (not a SYN) */
	uint16_t mss;			/* mss 0: no option */
	int8_t ws;			/* window scale option, -1: none */
	bool sack_ok;			/* SACK-permitted option */
	uint8_t nsack;			/* SACK blocks (unchecked) */
	struct tcp_range sack[TCP_SACK_BLOCKS];
	bool ts;			/* timestamps option */
	uint32_t tsval, tsecr;
	uint8_t flags;
	const uint8_t *data;
	uint32_t len;			/* payload bytes */
	const uint8_t *eth_src;		/* the frame's source MAC */
};

/* An orphan: its handle was closed and no listener queues it, so no one
 * will read from it or wait for it; only the protocol holds it. */
static inline bool tcp_orphan(const struct cub_tcp *c)
{
	return !c->user && !c->parent;
}

static inline uint32_t tcp_seglen(const struct tcp_seg *s)
{
	return s->len + !!(s->flags & TH_SYN) + !!(s->flags & TH_FIN);
}

/* tcp_opt.c */
/* Parses the option list o[0..len) into s (mss, ws, sack_ok, sack,
 * ts); false when it is malformed (a length below 2 or past the end, a
 * known kind with a wrong length): the segment is dropped. */
bool cubi_tcp_opt_parse(struct tcp_seg *s, const uint8_t *o, size_t len);
/* Writes c's options for a segment with flags into o (TCP_OPT_MAX
 * bytes, padded to 4): MSS, window scale, SACK-permitted and timestamps
 * on a SYN (on a SYN-ACK only those the peer's SYN offered); otherwise
 * timestamps when agreed, then SACK blocks (nsack of sack, as many as
 * fit). Returns the length. */
size_t cubi_tcp_opt_build(const struct cub_tcp *c, uint8_t flags,
			  const struct tcp_range *sack, unsigned nsack,
			  uint8_t *o);
/* The SACK blocks that fit beside c's other options (4, 3 with
 * timestamps). */
unsigned cubi_tcp_sack_room(const struct cub_tcp *c);
/* Takes the options of the peer's SYN s: MSS, window scale, SACK,
 * timestamps. */
void cubi_tcp_opt_take_syn(struct cub_tcp *c, const struct tcp_seg *s);
/* Our window scale for a receive ring of rsize bytes. */
uint8_t cubi_tcp_wscale_for(uint32_t rsize);

/* tcp_ts.c */
/* Our TSval now. Contexts: any. */
uint32_t cubi_tcp_ts_now(const struct cub_tcp *c);
/* The peer's SYN s (our SYN offered timestamps when active): agrees
 * or not, TS.Recent from its TSval. */
void cubi_tcp_ts_take_syn(struct cub_tcp *c, const struct tcp_seg *s);
/* PAWS (RFC 7323 5.3 R1) and the option's presence, before the
 * sequence check: false when s is to be dropped (an old TSval draws an
 * ACK; a segment without the option is dropped silently). RSTs pass. */
bool cubi_tcp_ts_check(struct cub_tcp *c, const struct tcp_seg *s);
/* R3: an acceptable segment that started at seq (before trimming)
 * updates TS.Recent when seq <= Last.ACK.sent and its TSval is not
 * older (or TS.Recent outlived paws_idle). */
void cubi_tcp_ts_update(struct cub_tcp *c, const struct tcp_seg *s,
			uint32_t seq);
/* An RTT sample from the TSecr of ACK s, which acknowledges new data;
 * false when timestamps are not agreed (time by rtt_on instead). */
bool cubi_tcp_ts_rtt(struct cub_tcp *c, const struct tcp_seg *s);

/* tcp_ooo.c */
/* Takes the payload (and FIN) of s, acceptable and trimmed in front
 * (s->seq >= rcv_nxt): in order it is appended and rcv_nxt moves over
 * the ranges it joins; beyond rcv_nxt it is written at its place and
 * its range kept (tcp_ooo_kept) or, the table being full, dropped
 * (tcp_ooo); a FIN beyond a hole is remembered. Bytes beyond the
 * window are cut off. Sets ack_now; wakes readers. */
void cubi_tcp_rcv_data(struct cub_tcp *c, struct tcp_seg *s);
/* true when a FIN (in s, or remembered) is at rcv_nxt now. */
bool cubi_tcp_fin_due(const struct cub_tcp *c, const struct tcp_seg *s);
/* Up to max SACK blocks of the held ranges, most recent first. */
unsigned cubi_tcp_ooo_blocks(const struct cub_tcp *c, struct tcp_range *b,
			     unsigned max);
/* Forgets the out-of-order data (reset). */
void cubi_tcp_ooo_clear(struct cub_tcp *c);

/* tcp_sack.c */
/* Takes the SACK blocks of ACK s into the scoreboard (blocks outside
 * snd_una..snd_max or inverted are ignored); trims what s->ack
 * covers. */
void cubi_tcp_sack_input(struct cub_tcp *c, const struct tcp_seg *s);
/* Forgets the scoreboard (after a timeout, RFC 2018 8). */
void cubi_tcp_sack_clear(struct cub_tcp *c);
/* RFC 6675's pipe: bytes in flight, neither SACKed nor deemed lost. */
uint32_t cubi_tcp_sack_pipe(const struct cub_tcp *c);
/* SACK recovery: resends holes below the highest SACKed byte while
 * pipe leaves an MSS of cwnd (RFC 6675 5 (C)). */
void cubi_tcp_sack_send(struct cub_tcp *c);

/* tcp_in.c: a TCP segment to us (from cubi_ip4_input). */
void cubi_tcp_input(struct cub_netif *nif, const struct cubi_ip4_pkt *p);

/* tcp_out.c */
/* Sends what is due: SYN or SYN-ACK, new data within the peer's window,
 * FIN, or an ACK when ack_now; arms the timers. */
void cubi_tcp_output(struct cub_tcp *c);
/* Sends a bare segment with c's addresses (no data). */
void cubi_tcp_send_ctl(struct cub_tcp *c, uint32_t seq, uint8_t flags);
/* Sends the RST that answers segment s (RFC 9293 3.10.7.1). */
void cubi_tcp_send_rst_for(struct cub_netif *nif, const struct tcp_seg *s);
/* Resets c: RST to the peer (when synchronised), error err, CLOSED. */
void cubi_tcp_reset(struct cub_tcp *c, int err);
/* An RTT sample (ns) into srtt / rttvar / rto (RFC 6298 2.2, 2.3). */
void cubi_tcp_rtt_sample(struct cub_tcp *c, uint64_t r);
/* The window we could advertise now: the receive ring's free space
 * beyond rcv_nxt (rsize - r_len), at most 65535 << rcv_wscale. */
uint32_t cubi_tcp_rcv_wnd(const struct cub_tcp *c);
/* Resends up to n bytes (at most an MSS) from seq (snd_una <= seq <
 * snd_nxt), and the FIN when it fits, without moving snd_nxt; returns
 * the sequence space resent (0: nothing there). */
uint32_t cubi_tcp_resend(struct cub_tcp *c, uint32_t seq, uint32_t n);
/* Resends the first unacknowledged segment (at snd_una, at most one MSS,
 * and the FIN when it fits): fast retransmit and NewReno's partial ACKs. */
void cubi_tcp_resend_first(struct cub_tcp *c);
/* The room congestion control leaves beyond what is in flight: cwnd -
 * flight, or cwnd - pipe in SACK recovery (tcp_cc.c). */
uint32_t cubi_tcp_cc_room(const struct cub_tcp *c);
/* Congestion control (tcp_cc.c). */
/* Initial cwnd (RFC 6928) and ssthresh, when the handshake completes
 * (retries still counts the SYN's timeouts). */
void cubi_tcp_cc_init(struct cub_tcp *c);
/* acked new bytes ACKed (snd_una already moved): grows cwnd, or in fast
 * recovery handles a partial or full ACK. */
void cubi_tcp_cc_ack(struct cub_tcp *c, uint32_t acked);
/* A duplicate ACK (counted in dupacks): the third starts fast
 * retransmit, later ones inflate cwnd in recovery. */
void cubi_tcp_cc_dupack(struct cub_tcp *c);
/* A retransmission timeout (before snd_nxt goes back): loss window. */
void cubi_tcp_cc_timeout(struct cub_tcp *c);

/* tcp_timer.c */
/* Makes sure the timer coroutine runs and wakes it when deadline is
 * before its next wake-up. 0 or -CUB_ENOMEM (spawn). */
int cubi_tcp_timer_kick(struct cub_netif *nif, uint64_t deadline);

/* tcp_keep.c */
/* A segment from the peer came: restarts the idle time and the count,
 * and makes sure the timer knows the next probe's deadline. */
void cubi_tcp_ka_heard(struct cub_tcp *c);
/* The keep-alive deadline of c, 0 when none is due (off, not
 * synchronised, something outstanding). */
uint64_t cubi_tcp_ka_deadline(const struct cub_tcp *c);
/* The deadline passed: a probe, or the abort after ka_cnt of them. */
void cubi_tcp_ka_timeout(struct cub_tcp *c);
/* The error of a connection that timed out: its soft error or
 * -CUB_ETIMEDOUT. */
int cubi_tcp_timeout_err(const struct cub_tcp *c);
/* An ICMP error about a segment from lport to raddr:rport with
 * sequence number seq: err is what it means, hard for port/protocol
 * unreachable. Returns 1 (acted on or recorded), 0 (matched but
 * ignored), -1 (no such connection, or seq not in flight). */
int cubi_tcp_icmp_error(struct cub_netif *nif, cub_ip4_t raddr,
			uint16_t rport, uint16_t lport, uint32_t seq, int err,
			bool hard);

/* tcp_pmtu.c */
#define TCP_PMTU_MIN 552		/* the floor of pmtu (Linux's min_pmtu) */
#define TCP_IP_HLEN 40			/* IPv4 + TCP headers, no options */
/* snd_mss from peer_mss and pmtu (after either changed). */
void cubi_tcp_mss_sync(struct cub_tcp *c);
/* The peer's SYN came (raddr known): pmtu from the interface's cache
 * when it knows a lower one, then snd_mss. */
void cubi_tcp_pmtu_start(struct cub_tcp *c);
/* The timer's: pmtu_at came. The cache still has a live estimate for
 * raddr: wait for it again; else pmtu goes back up to CUB_IP4_MTU
 * (RFC 1191 6.3). */
void cubi_tcp_pmtu_timeout(struct cub_tcp *c);
/* An ICMP "fragmentation needed and DF set" (type 3 code 4) about a
 * segment from lport to raddr:rport with sequence number seq; mtu is
 * the next-hop MTU it reports (0: an old router's), qlen the quoted
 * datagram's total length. Returns 1 (pmtu lowered), 0 (matched,
 * ignored: not lower, or bogus), -1 (no such connection, or seq not in
 * flight). */
int cubi_tcp_icmp_too_big(struct cub_netif *nif, cub_ip4_t raddr,
			  uint16_t rport, uint16_t lport, uint32_t seq,
			  uint16_t mtu, uint16_t qlen);
/* The next-hop MTU to believe for a report of mtu about a datagram of
 * qlen bytes: mtu itself, or with mtu 0 the plateau below qlen (RFC
 * 1191 7); 0 when there is none. Contexts: any. */
uint16_t cubi_pmtu_guess(uint16_t mtu, uint16_t qlen);

/* tcp_pcb.c */
struct cub_tcp *cubi_tcp_alloc(struct cub_netif *nif, bool buffers);
struct cub_tcp *cubi_tcp_find(struct cub_netif *nif, cub_ip4_t raddr,
			      uint16_t rport, uint16_t lport);
struct cub_tcp *cubi_tcp_find_listener(struct cub_netif *nif, uint16_t port);
bool cubi_tcp_port_used(struct cub_netif *nif, uint16_t port);
uint16_t cubi_tcp_pick_port(struct cub_netif *nif);
uint32_t cubi_tcp_iss(struct cub_netif *nif, const struct cub_tcp *c);
/* A keyed hash of c's addresses and ports: our timestamp offset. */
uint32_t cubi_tcp_ts_offset(struct cub_netif *nif, const struct cub_tcp *c);
/* Moves c to state s (CLOSED: timers off, detached from its parent's
 * queue, freed when nothing holds it). */
void cubi_tcp_set_state(struct cub_tcp *c, enum tcp_state s);
/* Frees c when CLOSED and nothing holds it; true when freed. */
bool cubi_tcp_maybe_free(struct cub_tcp *c);
/* Broadcasts c->cond and calls its notify (poll may have changed). */
void cubi_tcp_wake(struct cub_tcp *c);
const struct cub_tcp_params *cubi_tcp_params(const struct cub_tcp *c);
void cubi_tcp_params_default(struct cub_netif *nif);

/* tcp_close.c: takes c's interface lock and counts the caller in (users,
 * which keeps c from being freed); NULL, no lock taken, when c is not a
 * live handle. cubi_tcp_leave undoes it (waking a close that waits for
 * the calls inside to leave; c stays alive for close, which frees it).
 * Contexts: task. */
struct cub_netif *cubi_tcp_enter(struct cub_tcp *c);
void cubi_tcp_leave(struct cub_netif *nif, struct cub_tcp *c);

#endif
