/*
 * tcp_impl.h - private interface between the TCP files of src/net:
 *   tcp_in.c     segment checks, demultiplexing, the state machine
 *   tcp_out.c    building and sending segments, RSTs, RTO estimation
 *   tcp_timer.c  the per-interface timer coroutine: retransmission,
 *                persist, TIME_WAIT / FIN_WAIT_2 expiry
 *   tcp_pcb.c    blocks: creation, lookup, ports, ISNs, freeing, wake-ups
 *   tcp_api.c    the public calls (cubrt/net.h)
 * Every cubi_tcp_ function is called with nif->lock held.
 *
 * Sequence space of a connection (all mod 2^32, compared with SEQ_LT...):
 *   iss .. snd_una .. snd_nxt <= snd_max
 * Once the SYN is acknowledged (snd_una > iss), the send ring holds
 * s_len bytes from ring index s_head, the first having sequence number
 * snd_una; the bytes up to snd_nxt have been sent (snd_nxt - snd_una <=
 * s_len, + 1 when our FIN was sent: fin_queued and snd_nxt == snd_una +
 * s_len + 1). A timeout sets snd_nxt back to snd_una (go-back-N); snd_max
 * remembers the highest ever sent, the limit of an acceptable ACK.
 * The receive ring holds r_len unread bytes from r_head; rcv_nxt is the
 * next byte expected; rcv_adv the right edge we last advertised
 * (rcv_nxt + window), which never moves left.
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

#define TCP_MAGIC 0x54435031u		/* "TCP1": the handle is the user's */
#define TCP_DEFAULT_MSS 536		/* RFC 9293 3.7.1, without the option */

#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b) SEQ_LT(b, a)
#define SEQ_GEQ(a, b) SEQ_LEQ(b, a)

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
 * from creation until freed; it is freed (cubi_tcp_maybe_free) once it is
 * CLOSED, its handle released (!user), no call is inside (users == 0)
 * and no listener queues it (!parent).
 */
struct cub_tcp {
	uint32_t magic;			/* TCP_MAGIC while user holds it */
	struct cub_list link;		/* in nif->tcps */
	struct cub_netif *nif;
	uint8_t state;			/* enum tcp_state */
	bool user;			/* the handle is not released */
	bool fin_queued;		/* shutdown: FIN after the data */
	bool fin_rcvd;			/* the peer's FIN is in rcv_nxt */
	bool ack_now;			/* an ACK is owed (output sends it) */
	bool rtt_on;			/* timing the segment ending rtt_seq */
	bool passive;			/* created by a listener */
	bool fin_acked;			/* our FIN is acknowledged */
	uint8_t dupacks;		/* duplicate ACKs in a row */
	uint8_t probe_shift;		/* persist backoff: rto << probe_shift */
	int err;			/* sticky error (negative) or 0 */
	unsigned users;			/* API calls inside (close waits) */
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
	uint16_t snd_mss;		/* the peer's MSS, <= CUB_TCP_MSS */
	uint32_t irs, rcv_nxt, rcv_adv;

	uint8_t *sbuf, *rbuf;		/* CUB_TCP_SNDBUF / _RCVBUF (heap) */
	uint32_t s_head, s_len, r_head, r_len;

	uint64_t rto, srtt, rttvar;	/* ns; srtt 0: no sample yet */
	uint64_t rtt_start;
	uint32_t rtt_seq;
	unsigned retries;		/* timeouts / probes since progress */
	uint64_t rtx_at;		/* retransmission deadline, 0: off */
	uint64_t persist_at;		/* zero-window probe deadline, 0: off */
	uint64_t close_at;		/* TIME_WAIT / orphan FIN_WAIT_2 end */

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
	uint16_t wnd, mss;		/* mss 0: no option */
	uint8_t flags;
	const uint8_t *data;
	uint32_t len;			/* payload bytes */
	const uint8_t *eth_src;		/* the frame's source MAC */
};

static inline uint32_t tcp_seglen(const struct tcp_seg *s)
{
	return s->len + !!(s->flags & TH_SYN) + !!(s->flags & TH_FIN);
}

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
/* The window we would advertise now: free receive space, <= 65535. */
uint32_t cubi_tcp_rcv_wnd(const struct cub_tcp *c);
/* Resends the first unacknowledged segment (at snd_una, at most one MSS,
 * and the FIN when it fits) without moving snd_nxt: fast retransmit and
 * NewReno's partial ACKs. */
void cubi_tcp_resend_first(struct cub_tcp *c);
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

/* tcp_pcb.c */
struct cub_tcp *cubi_tcp_alloc(struct cub_netif *nif, bool buffers);
struct cub_tcp *cubi_tcp_find(struct cub_netif *nif, cub_ip4_t raddr,
			      uint16_t rport, uint16_t lport);
struct cub_tcp *cubi_tcp_find_listener(struct cub_netif *nif, uint16_t port);
bool cubi_tcp_port_used(struct cub_netif *nif, uint16_t port);
uint16_t cubi_tcp_pick_port(struct cub_netif *nif);
uint32_t cubi_tcp_iss(struct cub_netif *nif, const struct cub_tcp *c);
/* Moves c to state s (CLOSED: timers off, detached from its parent's
 * queue, freed when nothing holds it). */
void cubi_tcp_set_state(struct cub_tcp *c, enum tcp_state s);
/* Frees c when CLOSED and nothing holds it; true when freed. */
bool cubi_tcp_maybe_free(struct cub_tcp *c);
/* Broadcasts c->cond and calls its notify (poll may have changed). */
void cubi_tcp_wake(struct cub_tcp *c);
const struct cub_tcp_params *cubi_tcp_params(const struct cub_tcp *c);
void cubi_tcp_params_default(struct cub_netif *nif);

#endif
