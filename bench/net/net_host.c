/*
 * net_host.c - the network stack (src/net) on the host, over an
 * in-memory wire, against Linux's UDP on loopback.
 *
 *   udp        a coroutine sends a 64-byte UDP datagram from interface A
 *              (10.0.0.1) to an echo coroutine on interface B (10.0.0.2)
 *              and waits for it to come back: ns per round trip
 *   ping       cub_net_ping from A to B, 64 bytes of payload (B answers
 *              inside cub_netif_input, no coroutine of its own): ns per
 *              round trip
 *   udp-timed  udp with the client's receive bounded by a 1 s timeout,
 *              as cub_net_ping's wait is (the peer of ping: on the host
 *              each timed wait arms and disarms a POSIX timer, two
 *              system calls, which udp's untimed wait does not pay)
 *   linux-udp  the udp exchange between two Linux threads pinned to one
 *              CPU, each blocking in recvfrom on its own UDP socket bound
 *              to 127.0.0.1: ns per round trip; a note gives the same
 *              exchange by one thread alternating on the two sockets
 *              (no thread switch: four system calls per round trip)
 *   tcp        16 MiB one way from A to B over TCP: ns per KiB
 *   tcp-lossy  tcp with 1 % of the TCP frames lost on the wire (from
 *              the timed part on): recovery by SACK and the receiver's
 *              out-of-order queue; a note gives resends and timeouts
 *   tcp-big    tcp with 256 KiB rings on both ends (window scaling)
 *   linux-tcp  the same over Linux's loopback TCP
 *
 * The wire (below) is the bench's own and as cheap as it can be: a send
 * copies the frame into a free slot of a ring and passes the slot's
 * number on a buffered channel; the wire coroutine takes the number and
 * gives the slot to the other interface's cub_netif_input. A frame is
 * copied once on the way, as a NIC's transmit ring would. ARP is
 * resolved before the clock starts (the cache keeps the entry for 60 s).
 * Every datagram and reply is checked. Prints "result: <ns> ns/op" for
 * scripts/bench.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cubrt/chan.h>
#include <cubrt/mem.h>
#include <cubrt/net.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>

#include "../shim/host_util.h"

#define TRIPS 200000l
#define WARMUP 1000l
#define MSG 64
#define ECHO_PORT 7
#define IP_A CUB_IP4(10, 0, 0, 1)
#define IP_B CUB_IP4(10, 0, 0, 2)

/* ----------------------------------------------------------------- wire */

#define SLOTS 512	/* a TCP window (180 segments of a 256 KiB ring) and
			 * its ACKs in flight */

struct slot {
	int to;				/* interface index */
	size_t len;
	uint8_t data[CUB_ETH_FRAME_MAX];
};

/*
 * Invariants: slots sent - done are in flight (queued on ch or being
 * delivered), at most SLOTS; slot s % SLOTS holds the s-th frame sent
 * until done passes s. Everything is touched by coroutines of one
 * thread, and a send never yields, so no lock is needed.
 */
static struct wire {
	struct cub_netif nif[2];
	struct slot slot[SLOTS];
	unsigned long sent, done;
	struct cub_chan ch;		/* slot numbers, in order */
	unsigned long qbuf[SLOTS];
	unsigned long refused;		/* sends with every slot in flight */
	unsigned drop_pm;		/* tcp-lossy: TCP frames lost, per mille */
	uint64_t rng;			/* xorshift state of the losses */
	unsigned long dropped;
} w;

/* A TCP frame to be lost (drop_pm of them, at random). */
static bool wire_drops(const struct slot *f)
{
	if (!w.drop_pm || f->len < 34 || f->data[23] != 6)
		return false;
	w.rng ^= w.rng << 13;
	w.rng ^= w.rng >> 7;
	w.rng ^= w.rng << 17;
	if (w.rng % 1000 >= w.drop_pm)
		return false;
	w.dropped++;
	return true;
}

/* Contexts: task, the interface's lock held (never blocks). */
static int wire_send(struct cub_netif *nif, const void *frame, size_t len)
{
	unsigned long s = w.sent % SLOTS;

	if (w.sent - w.done == SLOTS) {
		w.refused++;
		return -CUB_EAGAIN;
	}
	w.slot[s].to = nif == &w.nif[0];
	w.slot[s].len = len;
	memcpy(w.slot[s].data, frame, len);
	if (cub_chan_try_send(&w.ch, &s))
		return -CUB_EAGAIN;	/* cannot happen: SLOTS of room */
	w.sent++;
	return 0;
}

static const struct cub_netif_ops wire_ops = { .send = wire_send };

static void *wire_main(void *unused)
{
	unsigned long s;

	(void)unused;
	while (cub_chan_recv(&w.ch, &s) == 1) {
		if (!wire_drops(&w.slot[s]))
			cub_netif_input(&w.nif[w.slot[s].to], w.slot[s].data,
					w.slot[s].len);
		w.done++;
	}
	return NULL;
}

static int wire_start(struct cub_coro **coro)
{
	static const uint8_t mac[2][6] = { { 2, 0, 0, 0, 0, 0xa }, { 2, 0, 0, 0, 0, 0xb } };
	uint8_t m[6];
	int r;

	r = cub_chan_init(&w.ch, sizeof(unsigned long), SLOTS, w.qbuf);
	for (int i = 0; i < 2 && !r; i++)
		r = cub_netif_init(&w.nif[i], i ? "B" : "A", mac[i], &wire_ops, NULL);
	if (!r)
		r = cub_netif_configure(&w.nif[0], IP_A, 24, 0);
	if (!r)
		r = cub_netif_configure(&w.nif[1], IP_B, 24, 0);
	if (!r)
		r = cub_coro_spawn(coro, wire_main, NULL, NULL);
	if (!r)			/* both directions: B learns A from the request */
		r = cub_arp_resolve(&w.nif[0], IP_B, m, CUB_NSEC_PER_SEC);
	return r;
}

/* ----------------------------------------------------------- cubrt side */

static double result;
static uint64_t client_timeout = UINT64_MAX;	/* udp-timed: 1 s */

static void *echo_main(void *arg)
{
	struct cub_udp *u = arg;
	uint8_t buf[MSG];
	cub_ip4_t src;
	uint16_t port;

	for (long i = 0; i < WARMUP + TRIPS; i++) {
		if (cub_udp_recvfrom(u, buf, sizeof(buf), &src, &port, UINT64_MAX) != MSG ||
		    cub_udp_sendto(u, src, port, buf, MSG) != MSG)
			return (void *)1;
	}
	return NULL;
}

/* n round trips through the echo; false on any error or wrong reply. */
static bool udp_trips(struct cub_udp *u, long n)
{
	uint8_t msg[MSG], back[MSG];

	memset(msg, 0x5a, sizeof(msg));
	for (long i = 0; i < n; i++) {
		memcpy(msg, &i, sizeof(i));
		if (cub_udp_sendto(u, IP_B, ECHO_PORT, msg, MSG) != MSG ||
		    cub_udp_recvfrom(u, back, sizeof(back), NULL, NULL, client_timeout) != MSG ||
		    memcmp(msg, back, MSG))
			return false;
	}
	return true;
}

static void *udp_bench(void *unused)
{
	struct cub_udp cu, eu;
	struct cub_coro *wire, *echo;
	void *echo_failed = (void *)1;
	uint64_t t0;
	bool ok;

	(void)unused;
	if (wire_start(&wire) || cub_udp_open(&eu, &w.nif[1], ECHO_PORT) ||
	    cub_udp_open(&cu, &w.nif[0], 0) || cub_coro_spawn(&echo, echo_main, &eu, NULL))
		return (void *)1;
	ok = udp_trips(&cu, WARMUP);
	t0 = cub_time_now();
	ok = ok && udp_trips(&cu, TRIPS);
	result = (double)(cub_time_now() - t0) / TRIPS;
	if (ok)
		cub_coro_join(echo, &echo_failed);
	cub_chan_close(&w.ch);
	cub_coro_join(wire, NULL);
	return ok && !echo_failed ? NULL : (void *)1;
}

static bool ping_trips(long n)
{
	for (long i = 0; i < n; i++)
		if (cub_net_ping(&w.nif[0], IP_B, (uint16_t)i, MSG, CUB_NSEC_PER_SEC, NULL))
			return false;
	return true;
}

static void *ping_bench(void *unused)
{
	struct cub_coro *wire;
	uint64_t t0;
	bool ok;

	(void)unused;
	if (wire_start(&wire))
		return (void *)1;
	ok = ping_trips(WARMUP);
	t0 = cub_time_now();
	ok = ok && ping_trips(TRIPS);
	result = (double)(cub_time_now() - t0) / TRIPS;
	cub_chan_close(&w.ch);
	cub_coro_join(wire, NULL);
	return ok ? NULL : (void *)1;
}

/* TCP: TCP_WARM bytes, then TCP_BYTES timed, one way from A to B in
 * TCP_CHUNK writes, until B has read them all (the sender's FIN). */
#define TCP_PORT 9
#define TCP_CHUNK (64l << 10)
#define TCP_WARM (1l << 20)
#define TCP_BYTES (16l << 20)
static uint8_t tcp_buf[2][TCP_CHUNK];

static void *tcp_sink(void *arg)
{
	struct cub_tcp *l = arg, *c;
	long got = 0, n;

	if (cub_tcp_accept(l, &c, CUB_NSEC_PER_SEC))
		return (void *)1;
	while ((n = cub_tcp_recv(c, tcp_buf[1], TCP_CHUNK, UINT64_MAX)) > 0)
		got += n;
	cub_tcp_close(c);
	return got == TCP_WARM + TCP_BYTES ? NULL : (void *)1;
}

static bool tcp_send_n(struct cub_tcp *c, long bytes)
{
	for (long done = 0; done < bytes;) {
		long n = cub_tcp_send(c, tcp_buf[0], (size_t)CUB_MIN(TCP_CHUNK, bytes - done),
				      UINT64_MAX);

		if (n <= 0)
			return false;
		done += n;
	}
	return true;
}

/* tcp-big: rings of this size on both ends (0: the default 64 KiB). */
static uint32_t tcp_ring;

static int tcp_rings(void)
{
	struct cub_tcp_params p = { .sndbuf = tcp_ring, .rcvbuf = tcp_ring };

	for (int i = 0; i < 2; i++)
		if (cub_tcp_set_params(&w.nif[i], &p))
			return -1;
	return 0;
}

static void tcp_note(struct cub_tcp *c)
{
	struct cub_netif_stats a, b;
	struct cub_tcp_info i;

	cub_netif_stats(&w.nif[0], &a);
	cub_netif_stats(&w.nif[1], &b);
	cub_tcp_info(c, &i);
	printf("note: %lu frames lost; sender: %llu segments resent, %llu "
	       "timeouts, %llu fast retransmits, SACK %s, window scale %u; "
	       "receiver kept %llu segments out of order\n", w.dropped,
	       (unsigned long long)a.tcp_retransmits,
	       (unsigned long long)a.tcp_timeouts,
	       (unsigned long long)a.tcp_fast_retransmits,
	       i.sack ? "on" : "off", i.snd_wscale,
	       (unsigned long long)b.tcp_ooo_kept);
}

static void *tcp_bench(void *unused)
{
	struct cub_coro *wire, *sink;
	struct cub_tcp *l, *c;
	void *sink_failed = (void *)1;
	unsigned drop_pm = w.drop_pm;
	uint64_t t0;
	bool ok;

	(void)unused;
	w.drop_pm = 0;			/* no loss before the clock starts */
	if (wire_start(&wire) || tcp_rings() ||
	    cub_tcp_listen(&w.nif[1], TCP_PORT, 1, &l) ||
	    cub_coro_spawn(&sink, tcp_sink, l, NULL) ||
	    cub_tcp_connect(&w.nif[0], IP_B, TCP_PORT, CUB_NSEC_PER_SEC, &c))
		return (void *)1;
	ok = tcp_send_n(c, TCP_WARM);
	w.drop_pm = drop_pm;
	t0 = cub_time_now();
	ok = ok && tcp_send_n(c, TCP_BYTES) && cub_tcp_shutdown(c) == 0;
	cub_coro_join(sink, &sink_failed);
	result = (double)(cub_time_now() - t0) / (TCP_BYTES >> 10);
	w.drop_pm = 0;
	tcp_note(c);
	cub_tcp_close(c);
	cub_tcp_close(l);
	cub_chan_close(&w.ch);
	cub_coro_join(wire, NULL);
	return ok && !sink_failed ? NULL : (void *)1;
}

/* ----------------------------------------------------------- Linux side */

static int linux_socks[2];		/* client, echo */
static struct sockaddr_in linux_addr[2];

static void *linux_echo(void *unused)
{
	uint8_t buf[MSG];
	struct sockaddr_in from;
	socklen_t len;

	(void)unused;
	for (long i = 0; i < WARMUP + TRIPS; i++) {
		len = sizeof(from);
		if (recvfrom(linux_socks[1], buf, sizeof(buf), 0, (struct sockaddr *)&from,
			     &len) != MSG ||
		    sendto(linux_socks[1], buf, MSG, 0, (struct sockaddr *)&from, len) != MSG)
			return (void *)1;
	}
	return NULL;
}

/* n round trips; with alone, this thread plays the echo too. */
static bool linux_trips(long n, bool alone)
{
	uint8_t msg[MSG], back[MSG];
	struct sockaddr_in from;
	socklen_t len;

	memset(msg, 0x5a, sizeof(msg));
	for (long i = 0; i < n; i++) {
		memcpy(msg, &i, sizeof(i));
		if (sendto(linux_socks[0], msg, MSG, 0, (struct sockaddr *)&linux_addr[1],
			   sizeof(linux_addr[1])) != MSG)
			return false;
		len = sizeof(from);
		if (alone && (recvfrom(linux_socks[1], back, sizeof(back), 0,
				       (struct sockaddr *)&from, &len) != MSG ||
			      sendto(linux_socks[1], back, MSG, 0, (struct sockaddr *)&from,
				     len) != MSG))
			return false;
		if (recv(linux_socks[0], back, sizeof(back), 0) != MSG || memcmp(msg, back, MSG))
			return false;
	}
	return true;
}

static int linux_bench(void)
{
	pthread_t echo;
	void *echo_failed = (void *)1;
	double t0;
	bool ok;

	for (int i = 0; i < 2; i++) {
		socklen_t len = sizeof(linux_addr[i]);

		linux_addr[i] = (struct sockaddr_in){ .sin_family = AF_INET,
						      .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		linux_socks[i] = socket(AF_INET, SOCK_DGRAM, 0);
		if (linux_socks[i] < 0 ||
		    bind(linux_socks[i], (struct sockaddr *)&linux_addr[i], sizeof(linux_addr[i])) ||
		    getsockname(linux_socks[i], (struct sockaddr *)&linux_addr[i], &len))
			return 1;
	}
	if (pthread_create(&echo, NULL, linux_echo, NULL))
		return 1;
	ok = linux_trips(WARMUP, false);
	t0 = now();
	ok = ok && linux_trips(TRIPS, false);
	result = (now() - t0) / TRIPS;
	if (ok)
		pthread_join(echo, &echo_failed);
	if (!ok || echo_failed)
		return 1;
	t0 = now();
	if (!linux_trips(TRIPS, true))
		return 1;
	printf("note: one thread alternating on both sockets: %.0f ns per round trip\n",
	       (now() - t0) / TRIPS);
	return 0;
}

static void *linux_tcp_sink(void *arg)
{
	int fd = accept(*(int *)arg, NULL, NULL);
	long got = 0, n;

	while (fd >= 0 && (n = read(fd, tcp_buf[1], TCP_CHUNK)) > 0)
		got += n;
	if (fd >= 0)
		close(fd);
	return got == TCP_WARM + TCP_BYTES ? NULL : (void *)1;
}

static bool linux_tcp_send_n(int fd, long bytes)
{
	for (long done = 0; done < bytes;) {
		ssize_t n = write(fd, tcp_buf[0], (size_t)CUB_MIN(TCP_CHUNK, bytes - done));

		if (n <= 0)
			return false;
		done += n;
	}
	return true;
}

/* The same over Linux's loopback TCP, the reader a second thread on the
 * same CPU. */
static int linux_tcp_bench(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0);
	void *sink_failed = (void *)1;
	pthread_t sink;
	double t0;
	bool ok;

	if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &len) ||
	    pthread_create(&sink, NULL, linux_tcp_sink, &l) ||
	    connect(c, (struct sockaddr *)&a, sizeof(a)))
		return 1;
	ok = linux_tcp_send_n(c, TCP_WARM);
	t0 = now();
	ok = ok && linux_tcp_send_n(c, TCP_BYTES) && shutdown(c, SHUT_WR) == 0;
	pthread_join(sink, &sink_failed);
	result = (now() - t0) / (TCP_BYTES >> 10);
	close(c);
	close(l);
	return ok && !sink_failed ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	void *failed = (void *)1;

	cubi_mem_init();
	pin_to_cpu0();		/* cubrt runs on one CPU: the threads share it */
	if (!strcmp(mode, "udp") || !strcmp(mode, "udp-timed")) {
		if (mode[3])
			client_timeout = CUB_NSEC_PER_SEC;
		cub_sched_run(udp_bench, NULL, &failed);
	} else if (!strcmp(mode, "ping")) {
		cub_sched_run(ping_bench, NULL, &failed);
	} else if (!strcmp(mode, "linux-udp")) {
		failed = linux_bench() ? (void *)1 : NULL;
	} else if (!strcmp(mode, "tcp") || !strcmp(mode, "tcp-lossy") ||
		   !strcmp(mode, "tcp-big")) {
		w.rng = 0x9e3779b97f4a7c15ull;
		if (!strcmp(mode, "tcp-lossy"))
			w.drop_pm = 10;		/* 1 % */
		if (!strcmp(mode, "tcp-big"))
			tcp_ring = 256 * 1024;
		cub_sched_run(tcp_bench, NULL, &failed);
	} else if (!strcmp(mode, "linux-tcp")) {
		failed = linux_tcp_bench() ? (void *)1 : NULL;
	} else {
		fprintf(stderr, "usage: %s udp|udp-timed|ping|linux-udp|tcp|tcp-lossy|"
			"tcp-big|linux-tcp\n",
			argv[0]);
		return 2;
	}
	if (failed || w.refused) {
		fprintf(stderr, "%s: %s failed (%lu frames refused by the wire)\n", argv[0],
			mode, w.refused);
		return 1;
	}
	printf("result: %.2f %s\n", result, strstr(mode, "tcp") ? "ns/KiB" : "ns/op");
	return 0;
}
