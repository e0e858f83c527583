/*
 * cubrt/tcp.h - TCP (RFC 9293): listeners and connections
 * with their calls, timers, options and keep-alive.
 * Part of the network API: <cubrt/net.h> has the interface, its
 * counters and parameters, the locking rule and the contexts every call
 * here follows, and includes this header.
 */
#ifndef CUBRT_TCP_H
#define CUBRT_TCP_H

#include <cubrt/net.h>

/*
 * TCP (RFC 9293; retransmission timer per RFC 6298, congestion control
 * per RFC 5681). A connection or a
 * listener is a struct cub_tcp that the stack allocates (connect, accept,
 * listen) and frees itself once the handle is released (close, abort)
 * and the connection has finished (FIN exchange, TIME_WAIT). A handle
 * must not be used after cub_tcp_close / cub_tcp_abort returns.
 *
 * Buffers: each connection allocates, when it is created, a send and a
 * receive ring of the interface's params.sndbuf / rcvbuf bytes (default
 * CUB_TCP_SNDBUF / CUB_TCP_RCVBUF, 64 KiB); nothing is allocated per
 * segment. The receive window is the receive ring's free space beyond
 * rcv_nxt, scaled (RFC 7323) when both SYNs carried the window scale
 * option (ours: the smallest shift that fits the ring), at most 65535
 * otherwise; a reader freeing space sends a window update. Segments
 * beyond rcv_nxt within the window are kept in the receive ring (up to
 * 8 separate ranges per connection: tcp_ooo_kept; more are dropped:
 * tcp_ooo) and draw an immediate duplicate ACK with SACK blocks (RFC
 * 2018) when both SYNs offered SACK; a FIN beyond a hole waits for it.
 *
 * Timers run in one coroutine per interface ("tcp timer"), spawned with
 * the first TCP block and ended with the last, that sleeps until the
 * earliest deadline: retransmission (RTO from RFC 6298: initial
 * rto_initial, bounds rto_min..rto_max, doubled at each timeout; after
 * max_retries timeouts of one segment, syn_retries of a SYN, the
 * connection fails with -CUB_ETIMEDOUT), persist (zero-window probes,
 * same backoff, failing after max_retries unanswered probes; a closed
 * handle's connection is reset after orphan_retries probes, answered or
 * not, while the window stays shut: tcp_orphan_resets), TIME_WAIT
 * (time_wait, default 2 s: shorter than RFC 9293's 2 MSL, fine on a LAN)
 * and FIN_WAIT_2 of a closed handle (fin_timeout).
 *
 * Congestion control (RFC 5681): the sender keeps at most min(cwnd,
 * the peer's window) beyond the first unacknowledged byte. cwnd starts
 * at RFC 6928's initial window (10 segments of 1460; 1 MSS when the SYN
 * timed out), grows by the bytes ACKed (at most 2 MSS per ACK) in slow
 * start and by one MSS per cwnd ACKed past ssthresh; three duplicate
 * ACKs resend the first unacknowledged segment (fast retransmit,
 * tcp_fast_retransmits), halve ssthresh and start NewReno's fast
 * recovery (RFC 6582: each partial ACK resends the next hole,
 * tcp_partial_acks); a timeout sets ssthresh to half the flight and
 * cwnd to one MSS, and sending starts again at the first
 * unacknowledged byte. With SACK agreed, fast recovery follows RFC 6675
 * (cwnd = ssthresh; every ACK resends the holes below the highest
 * SACKed byte while pipe leaves room). cub_tcp_info shows cwnd and
 * ssthresh. Options sent: MSS (CUB_TCP_MSS), window scale and
 * SACK-permitted on SYNs, timestamps (RFC 7323: offered in our SYN,
 * answered when the peer's SYN carried them; then in every segment,
 * echoed by its rules, RTT samples from the echo, PAWS drops segments
 * with an old timestamp: tcp_paws), SACK blocks in ACKs and data
 * segments while out-of-order data is held (as many as the 40 bytes
 * leave: 4, or 3 beside timestamps); the payload of a segment is the
 * MSS minus its options. The peer's MSS is honoured (536 without the
 * option); a malformed option list drops the segment (tcp_bad). No
 * Nagle, no delayed ACKs, no urgent data. Keep-alive when asked
 * (cub_tcp_set_keepalive, cub_tcp_params.keepalive). ICMP errors
 * about a connection's segments (RFC 1122 4.2.3.9, matched by
 * addresses, ports and a sequence number in flight): port or protocol
 * unreachable in SYN_SENT fails the connect (-CUB_ECONNREFUSED); the
 * others are soft errors, kept and given instead of -CUB_ETIMEDOUT if
 * the connection then times out (as Linux). Path MTU discovery (RFC
 * 1191): segments carry DF; "fragmentation needed" with an MTU below
 * the connection's estimate (1500 at first) and the quoted datagram's
 * length lowers the send MSS to that MTU - 40 and resends what is in
 * flight at once in segments of the new size (MTU 0: RFC 1191's
 * plateaus; below 552: 552 and no DF from then on); kept 10 minutes
 * per destination for the next connections (cub_pmtu_get); when that
 * entry expires, the connection's estimate goes back up to 1500 and
 * the next full segment tries it (RFC 1191 6.3; tcp_pmtu_raised), at
 * most once per lifetime after a lowering (cub_tcp_info: pmtu,
 * pmtu_nodf).
 *
 * Errors of a connection (-CUB_ECONNRESET: the peer reset it;
 * -CUB_ECONNREFUSED: a RST answered our SYN; -CUB_ETIMEDOUT: the peer
 * stopped answering) are sticky: every later send or recv returns them.
 * The peer's RST (at rcv_nxt; elsewhere in the window it draws a
 * challenge ACK, RFC 5961) ends an ESTABLISHED, FIN_WAIT or CLOSE_WAIT
 * connection at once with -CUB_ECONNRESET, also after the peer's FIN:
 * no RST answers it, what waited to be sent is dropped, a recv blocked
 * on it wakes. Bytes received in order before it stay readable, as
 * Linux keeps them: recv returns them first, then the error.
 *
 * Locking: all state lives under the interface's lock (nif->lock); the
 * calls block only in condition waits, which release it. Contexts: task.
 */
#define CUB_TCP_MSS 1460		/* 1500 - 20 (IPv4) - 20 (TCP) */
#define CUB_TCP_MSS_MIN 88		/* the least user MSS (Linux's
					 * TCP_MIN_MSS) */
#define CUB_TCP_SNDBUF (64u * 1024)	/* default ring sizes */
#define CUB_TCP_RCVBUF (64u * 1024)
#define CUB_TCP_BUF_MIN (4u * 1024)	/* bounds of params.sndbuf/rcvbuf */
#define CUB_TCP_BUF_MAX (16u * 1024 * 1024)
#define CUB_TCP_BACKLOG_MAX 128
#define CUB_TCP_RTO_INITIAL (1000ull * 1000 * 1000)
#define CUB_TCP_RTO_MIN (200ull * 1000 * 1000)	/* as Linux; RFC 6298: 1 s */
#define CUB_TCP_RTO_MAX (60ull * 1000 * 1000 * 1000)
#define CUB_TCP_MAX_RETRIES 8
#define CUB_TCP_SYN_RETRIES 5
#define CUB_TCP_TIME_WAIT (2ull * 1000 * 1000 * 1000)
#define CUB_TCP_FIN_TIMEOUT (30ull * 1000 * 1000 * 1000)
#define CUB_TCP_ORPHAN_RETRIES 8	/* Linux's tcp_orphan_retries when 0:
					 * about 100 s at a 200 ms RTO */
/* Orphans at once per interface (params.max_orphans). An orphan pins
 * its block (about 600 bytes) and its two rings (64 KiB each by
 * default) until it finishes: 64 of them hold about 8 MiB, a sixteenth of the
 * 128 MiB QEMU machine of scripts/run, which still leaves room for a
 * server closing a burst of connections whose peers read slowly.
 * Linux scales tcp_max_orphans with memory; its sockets' buffers grow
 * on demand, ours are allocated whole, hence the smaller number. */
#define CUB_TCP_ORPHANS 64
#define CUB_TCP_ORPHANS_MAX 65536	/* the largest max_orphans */
#define CUB_TCP_PAWS_IDLE (24ull * 24 * 3600 * 1000 * 1000 * 1000)
#define CUB_TCP_KEEPIDLE (7200ull * 1000 * 1000 * 1000)	/* Linux's */
#define CUB_TCP_KEEPINTVL (75ull * 1000 * 1000 * 1000)
#define CUB_TCP_KEEPCNT 9

/* cub_tcp_poll bits (Linux's poll values). */
#define CUB_TCP_POLLIN 0x001		/* data, the peer's FIN (or our
					 * cub_tcp_shutdown_recv), or
					 * (listener) a connection to accept */
#define CUB_TCP_POLLOUT 0x004		/* room in the send ring */
#define CUB_TCP_POLLERR 0x008		/* an error is pending */
#define CUB_TCP_POLLHUP 0x010		/* both directions are closed */
#define CUB_TCP_POLLRDHUP 0x2000	/* the peer sent FIN, or
					 * cub_tcp_shutdown_recv was called */

struct cub_tcp;

/*
 * Sets nif's TCP tunables (for new and existing connections); a zero
 * field keeps its value. NULL p restores the defaults. 0 or -CUB_EINVAL
 * (NULL nif, rto_min > rto_max, sndbuf or rcvbuf outside
 * CUB_TCP_BUF_MIN..CUB_TCP_BUF_MAX, keep_cnt above 255, max_orphans
 * above CUB_TCP_ORPHANS_MAX); nothing is changed then. A max_orphans
 * below the orphans there are now resets none of them: the closes that
 * follow reset their connections until the count is below it.
 * Contexts: task.
 */
int cub_tcp_set_params(struct cub_netif *nif, const struct cub_tcp_params *p);

/*
 * Listens on nif's port `port` (1..65535): SYNs to it create
 * connections (each with its buffers) that complete the handshake on
 * their own and wait for cub_tcp_accept; at most backlog (1..
 * CUB_TCP_BACKLOG_MAX, 0 is taken as 1, larger is clamped) wait at once,
 * half-open ones included: SYNs beyond are dropped and counted
 * (tcp_backlog_drops), the peer retries. Returns 0 and *out;
 * -CUB_EADDRINUSE (a listener or connection has the port);
 * -CUB_EINVAL (NULL nif or out, port 0); -CUB_ENOMEM. Contexts: task.
 */
int cub_tcp_listen(struct cub_netif *nif, uint16_t port, unsigned backlog,
		   struct cub_tcp **out);

/*
 * Takes the oldest established connection of listener l, waiting up to
 * timeout_ns for one (0 polls, UINT64_MAX forever). Returns 0 and *conn;
 * -CUB_EAGAIN (poll, none), -CUB_ETIMEDOUT, -CUB_EINVAL (NULL
 * arguments, l not a listener), -CUB_EBADF (l closed meanwhile: a
 * cub_tcp_close of l by another coroutine wakes this call, which
 * returns -CUB_EBADF at once; the connections not yet accepted are
 * reset). Contexts: task (blocks).
 */
int cub_tcp_accept(struct cub_tcp *l, struct cub_tcp **conn,
		   uint64_t timeout_ns);

/*
 * Opens a connection from nif's address and an ephemeral port
 * (49152..65535) to dst:port: resolves the next hop by ARP, sends SYN
 * (retransmitted with backoff) and waits up to timeout_ns for the
 * handshake. Returns 0 and *out (ESTABLISHED); -CUB_ECONNREFUSED (a RST
 * answered), -CUB_ETIMEDOUT (no answer within timeout_ns or the SYN's
 * retries), -CUB_EHOSTUNREACH (no ARP answer), -CUB_ENETUNREACH /
 * -CUB_EADDRNOTAVAIL (routing, as cub_udp_sendto), -CUB_EINVAL (NULL
 * nif or out, dst 0 or a broadcast, port 0), -CUB_EADDRINUSE (no free
 * port), -CUB_ENOMEM. There is no handle to close until it returns:
 * the wait ends only by the handshake, a RST, the SYN's retries or the
 * timeout. Contexts: task (blocks).
 */
int cub_tcp_connect(struct cub_netif *nif, cub_ip4_t dst, uint16_t port,
		    uint64_t timeout_ns, struct cub_tcp **out);

/*
 * As cub_tcp_connect, with a user MSS (Linux's TCP_MAXSEG set before
 * connect; 0: none, else at least CUB_TCP_MSS_MIN, or -CUB_EINVAL): the
 * MSS our SYN announces is min(mss, CUB_TCP_MSS) and the peer's is
 * taken as at most mss, so no segment either way carries more than mss
 * bytes (options included), whatever the path MTU (which still lowers
 * it, and going back up never passes it). Contexts: task (blocks).
 */
int cub_tcp_connect_mss(struct cub_netif *nif, cub_ip4_t dst, uint16_t port,
			uint16_t mss, uint64_t timeout_ns, struct cub_tcp **out);

/*
 * The user MSS of listener l's future connections (as
 * cub_tcp_connect_mss's, for the SYN-ACK and the peer's SYN; those
 * already queued keep theirs). 0 removes it. 0; -CUB_EINVAL (NULL, not
 * a listener, 1..CUB_TCP_MSS_MIN-1); -CUB_EBADF (closed). A connection
 * has no such call: as on Linux, an MSS set after the handshake does
 * not change what is sent. Contexts: task.
 */
int cub_tcp_set_mss(struct cub_tcp *l, uint16_t mss);

/*
 * Queues up to len bytes of buf for sending, blocking while the send
 * ring is full, up to timeout_ns (0: queue what fits now). Returns the
 * bytes queued (> 0, fewer than len when the time ran out with some
 * queued); -CUB_EAGAIN (0 or timeout with nothing queued: -CUB_ETIMEDOUT
 * for a timeout > 0); -CUB_EPIPE after cub_tcp_shutdown or once the
 * connection closed; the connection's sticky error; -CUB_ENOTCONN (a
 * listener); -CUB_EBADF (c closed, also by another coroutine while this
 * call waits for room: it returns at once, with the bytes it had queued
 * if there are some); -CUB_EINVAL (NULL c, NULL buf with len > 0). len 0
 * returns 0. Contexts: task (blocks).
 */
long cub_tcp_send(struct cub_tcp *c, const void *buf, size_t len,
		  uint64_t timeout_ns);

/*
 * Copies up to cap received bytes into buf, waiting up to timeout_ns for
 * some (0 polls). Returns the bytes copied (> 0); 0 when the peer sent
 * FIN and everything before it was read (again at each call), and after
 * cub_tcp_shutdown_recv whenever nothing is queued (it never waits);
 * -CUB_EAGAIN (poll) / -CUB_ETIMEDOUT; the sticky error once the bytes
 * received before it are read (a reset: -CUB_ECONNRESET, also after
 * the peer's FIN);
 * -CUB_ENOTCONN (a listener); -CUB_EBADF (c closed, also by another
 * coroutine while this call waits: it returns at once);
 * -CUB_EINVAL (NULL c, NULL buf, cap 0).
 * Freeing space may send a window update. Contexts: task (blocks).
 */
long cub_tcp_recv(struct cub_tcp *c, void *buf, size_t cap,
		  uint64_t timeout_ns);

/*
 * Ends our direction: FIN goes after the queued data; receiving goes on.
 * 0 (also when already shut down); -CUB_ENOTCONN (not connected, a
 * listener); -CUB_EINVAL (NULL). Contexts: task.
 */
int cub_tcp_shutdown(struct cub_tcp *c);

/*
 * Ends our reading, as Linux's shutdown(SHUT_RD): from now on
 * cub_tcp_recv never waits. It returns what is queued, then 0 (end of
 * file) whenever the ring is empty; calls blocked in recv on c wake and
 * return 0 (or the data that got there first); poll shows POLLIN |
 * POLLRDHUP (and POLLHUP once our FIN is queued too). Nothing is sent:
 * the peer is not told. Data arriving later while our direction is
 * still open (ESTABLISHED) is acknowledged and queued as before, and
 * recv returns it (Linux does the same); once we have also sent our FIN
 * (cub_tcp_shutdown), new data resets the connection (RST; send and
 * recv then give -CUB_ECONNRESET), as it would after a close. A close
 * with unread data resets as ever. 0 (also when already shut);
 * -CUB_ENOTCONN (a listener, or a connection already CLOSED by a reset
 * or timeout); -CUB_EBADF (closed handle); -CUB_EINVAL (NULL).
 * Contexts: task.
 */
int cub_tcp_shutdown_recv(struct cub_tcp *c);

/*
 * Releases the handle. A connection with unread received data is reset
 * (RST, as Linux); otherwise the stack sends FIN after the queued data
 * and finishes the close itself (FIN_WAIT, TIME_WAIT), then frees it;
 * data arriving after close draws a RST. Such a connection with work
 * left (any state but TIME_WAIT or CLOSED) is an orphan until it
 * reaches one of them (st.tcp_orphans); when nif already has
 * params.max_orphans orphans it is reset at once instead (RST, the
 * queued data dropped, tcp_orphan_overflow), as Linux's "too many
 * orphaned sockets". A listener resets the
 * connections not yet accepted. Calls blocked on c in other coroutines
 * (accept, send, recv) wake and return -CUB_EBADF, never wait on; close
 * returns once they have all left, and the block is freed exactly once,
 * by whoever lets go of it last (close itself, or the stack when the
 * connection's closing handshake ends). Only calls already inside c
 * when close starts are woken so: the handle is dead from then on, and
 * a call that starts on it later (even one that began before close
 * returned) gets -CUB_EBADF, or, once a new connection has reused the
 * block (blocks are type-stable, never returned to the heap), acts on
 * that connection, as a reused file descriptor number would; never on
 * freed memory. 0, -CUB_EBADF (c already closed) or -CUB_EINVAL
 * (NULL).
 * Contexts: task (blocks while other calls leave).
 */
int cub_tcp_close(struct cub_tcp *c);

/* As cub_tcp_close, but a connection is reset (RST) at once, whatever
 * its state. 0 or -CUB_EINVAL. Contexts: task. */
int cub_tcp_abort(struct cub_tcp *c);

/*
 * What nif's connections still have to deliver: the bytes queued or sent
 * but not yet acknowledged, plus one for each FIN not yet acknowledged,
 * over every connection that can still deliver (established or closing,
 * no error). 0: the peers have everything. A machine about to stop waits
 * for 0 (the syscall shim does at a program's exit), as Linux's kernel
 * goes on sending after a process exits. Contexts: task.
 */
size_t cub_tcp_undelivered(struct cub_netif *nif);

/* CUB_TCP_POLL* bits of c now (0 for NULL). A connection with an error
 * (reset, timed out) shows POLLERR | POLLHUP | POLLIN, and no POLLOUT.
 * Contexts: task. */
unsigned cub_tcp_poll(struct cub_tcp *c);

/*
 * fn(arg) is called, with the interface's lock held (it must not block
 * nor call into the stack), whenever cub_tcp_poll(c)'s answer may have
 * changed. NULL fn removes it. 0 or -CUB_EINVAL. Contexts: task.
 */
int cub_tcp_set_notify(struct cub_tcp *c, void (*fn)(void *), void *arg);

/* c's local / remote address and port (each pointer may be NULL; a
 * listener's remote is 0:0). 0 or -CUB_EINVAL. Contexts: task. */
int cub_tcp_local(struct cub_tcp *c, cub_ip4_t *addr, uint16_t *port);
int cub_tcp_peer(struct cub_tcp *c, cub_ip4_t *addr, uint16_t *port);

/* c's state: "LISTEN", "SYN_SENT", ..., "TIME_WAIT", "CLOSED" ("?" for
 * NULL). Contexts: task. */
const char *cub_tcp_state_name(struct cub_tcp *c);

/*
 * A connection's sender state, for tests and diagnostics. cwnd and
 * ssthresh are RFC 5681's congestion window and slow start threshold
 * (bytes; ssthresh is UINT32_MAX until the first loss); the sender has
 * at most min(cwnd, snd_wnd) bytes in flight. srtt and rto are in ns
 * (srtt 0: no sample yet); retransmits counts this connection's
 * segments sent again (timeouts, fast retransmits, partial ACKs).
 */
struct cub_tcp_info {
	const char *state;		/* as cub_tcp_state_name */
	uint32_t cwnd, ssthresh;
	uint32_t snd_wnd;		/* the peer's window */
	uint32_t flight;		/* bytes sent, not yet acknowledged */
	uint16_t snd_mss;		/* the MSS we send */
	bool in_recovery;		/* fast recovery (RFC 6582) */
	uint64_t srtt, rto;
	uint32_t retransmits;
	bool wscale;			/* window scaling agreed (RFC 7323) */
	uint8_t snd_wscale, rcv_wscale;	/* the peer's shift, ours (0
					 * without wscale) */
	bool sack;			/* SACK agreed (RFC 2018) */
	bool timestamps;		/* timestamps agreed (RFC 7323) */
	uint32_t sacked;		/* bytes the peer SACKed (scoreboard) */
	uint8_t ooo_ranges;		/* out-of-order ranges we hold */
	uint32_t sndbuf, rcvbuf;	/* this connection's ring sizes */
	bool keepalive;			/* keep-alive on */
	uint8_t keepalive_probes;	/* probes sent since the peer's last
					 * segment */
	int soft_err;			/* an ICMP error kept for a timeout
					 * (-CUB_EHOSTUNREACH...), or 0 */
	uint16_t pmtu;			/* path MTU estimate (1500 until an
					 * ICMP lowers it; snd_mss <= pmtu -
					 * 40) */
	bool pmtu_nodf;			/* a report below 552 came: sent
					 * without DF */
};

/* Fills *info from c. 0 or -CUB_EINVAL (NULL, released handle).
 * Contexts: task. */
int cub_tcp_info(struct cub_tcp *c, struct cub_tcp_info *info);

/* A connection's keep-alive (RFC 9293 3.8.4, RFC 1122 4.2.3.6). */
struct cub_tcp_keepalive {
	bool on;
	uint64_t idle_ns;		/* nothing from the peer this long: the
					 * first probe */
	uint64_t interval_ns;		/* between probes */
	unsigned count;			/* unanswered probes before the abort
					 * (1..255) */
};

/*
 * Sets c's keep-alive (off by default, or as cub_tcp_params.keepalive
 * says when c was created). When on, a synchronised connection with
 * nothing outstanding that has received no segment for idle_ns sends a
 * probe (an empty ACK at SND.NXT - 1, which the peer must answer with
 * an ACK, as Linux sends it), another every interval_ns, and after
 * count unanswered probes is reset (RST) with -CUB_ETIMEDOUT (or the
 * soft error an ICMP message left: -CUB_EHOSTUNREACH,
 * -CUB_ENETUNREACH) for every call, blocked ones woken. Any segment
 * from the peer restarts the idle time and the count. 0;
 * -CUB_EINVAL (NULL, a listener, idle or interval 0, count 0 or above
 * 255); -CUB_EBADF (c closed). Contexts: task.
 */
int cub_tcp_set_keepalive(struct cub_tcp *c, const struct cub_tcp_keepalive *ka);
/* c's keep-alive settings into *ka. 0, -CUB_EINVAL. Contexts: task. */
int cub_tcp_get_keepalive(struct cub_tcp *c, struct cub_tcp_keepalive *ka);

#endif
