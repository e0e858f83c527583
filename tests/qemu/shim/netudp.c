/*
 * netudp.c - UDP sockets over the network card in an unmodified musl
 * program, booted on QEMU's user network (slirp: this machine 10.0.2.15/24,
 * gateway and TFTP server 10.0.2.2, DNS 10.0.2.3) with tftproot/ served.
 * argv[1] says how the shim brought the card up (CUBRT_NET):
 *   dhcp    the default: DHCP's lease, /etc/resolv.conf written;
 *   static  CUBRT_NET=10.0.2.15/24,10.0.2.2: the same address, no DNS;
 *   off     CUBRT_NET=off: no eth0, sends to the network as without a
 *           card (ENETUNREACH), bind to 10.0.2.15 refused.
 * With a network: eth0 through getifaddrs, if_nametoindex and the
 * SIOCGIF* ioctls; a TFTP download of tftproot/blocks.txt with plain
 * sendto/recvfrom on one socket (RRQ to port 69, the reply port taken
 * from recvfrom; one read waits in poll, one is O_NONBLOCK with EAGAIN
 * first); a TFTP error through a connected socket's write and read;
 * SO_RCVTIMEO on a port nobody sends to; a datagram to the card's own
 * address stays here; EHOSTUNREACH for an address nobody answers ARP
 * for; datagrams of 2000..65507 bytes sent (the stack fragments them),
 * EMSGSIZE over 65507, SO_RCVBUF room for them (tests/qemu/net's
 * net_udpecho echoes such datagrams through QEMU for real). Loopback in
 * every mode, with a 65507-byte datagram. The program exits
 * with sockets (and their pumps) still open. One line per check, then a
 * summary.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"

#define FILE_LINES 60		/* tftproot/blocks.txt: 60 lines of 32 bytes */
#define FILE_LEN (FILE_LINES * 32)

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* ---------------------------------------------------------- interfaces */

static void interfaces(int up)
{
	unsigned want = IFF_UP | IFF_RUNNING | IFF_BROADCAST;
	struct ifaddrs *list = NULL, *i;
	int link = 0, v4 = 0, lo = 0;

	check("getifaddrs", getifaddrs(&list) == 0);
	for (i = list; i; i = i->ifa_next) {
		int fam = i->ifa_addr ? i->ifa_addr->sa_family : -1;
		struct sockaddr_in *a = (struct sockaddr_in *)i->ifa_addr;
		struct sockaddr_in *m = (struct sockaddr_in *)i->ifa_netmask;

		if (!strcmp(i->ifa_name, "lo") && fam == AF_INET)
			lo++;
		if (strcmp(i->ifa_name, "eth0") || (i->ifa_flags & want) != want)
			continue;
		if (fam == AF_PACKET) {
			struct sockaddr_ll *ll = (struct sockaddr_ll *)i->ifa_addr;

			link += ll->sll_halen == 6 &&
				!memcmp(ll->sll_addr, "\x52\x54\x00\x12\x34\x56", 6);
		} else if (fam == AF_INET && m &&
			   a->sin_addr.s_addr == htonl(0x0a00020f) &&
			   m->sin_addr.s_addr == htonl(0xffffff00)) {
			v4++;
		}
	}
	freeifaddrs(list);
	check("getifaddrs: lo's 127.0.0.1 still there", lo == 1);
	if (up) {
		check("getifaddrs: eth0's link, 52:54:00:12:34:56", link == 1);
		check("getifaddrs: eth0 10.0.2.15/24", v4 == 1);
		check("if_nametoindex(eth0) is 2", if_nametoindex("eth0") == 2);
	} else {
		check("getifaddrs: no eth0", link == 0 && v4 == 0);
		check("if_nametoindex(eth0) is 0", if_nametoindex("eth0") == 0);
	}
}

/* The SIOCGIF* requests about eth0. */
static void ioctls(int fd)
{
	struct ifreq q;
	struct sockaddr_in *a = (struct sockaddr_in *)&q.ifr_addr;

	memset(&q, 0, sizeof(q));
	strcpy(q.ifr_name, "eth0");
	check("SIOCGIFADDR eth0: 10.0.2.15",
	      ioctl(fd, SIOCGIFADDR, &q) == 0 && a->sin_addr.s_addr == htonl(0x0a00020f));
	check("SIOCGIFHWADDR eth0: Ethernet, its MAC",
	      ioctl(fd, SIOCGIFHWADDR, &q) == 0 && q.ifr_hwaddr.sa_family == 1 &&
	      !memcmp(q.ifr_hwaddr.sa_data, "\x52\x54\x00\x12\x34\x56", 6));
	check("SIOCGIFFLAGS eth0: up, running, broadcast",
	      ioctl(fd, SIOCGIFFLAGS, &q) == 0 &&
	      (q.ifr_flags & (IFF_UP | IFF_RUNNING | IFF_BROADCAST)) ==
	      (IFF_UP | IFF_RUNNING | IFF_BROADCAST) && !(q.ifr_flags & IFF_LOOPBACK));
	check("SIOCGIFINDEX eth0: 2", ioctl(fd, SIOCGIFINDEX, &q) == 0 && q.ifr_ifindex == 2);
}

/* ---------------------------------------------------------------- TFTP */

/* One datagram from the server at tid (0: any port of 10.0.2.2, stored). */
static ssize_t from_server(int fd, char *buf, size_t cap, int flags, unsigned short *tid)
{
	struct sockaddr_in from;
	socklen_t len = sizeof(from);
	ssize_t n = recvfrom(fd, buf, cap, flags, (struct sockaddr *)&from, &len);

	if (n < 0)
		return n;
	if (from.sin_addr.s_addr != htonl(0x0a000202) || (*tid && from.sin_port != *tid)) {
		errno = EPROTO;
		return -1;
	}
	*tid = from.sin_port;
	return n;
}

static int ack(int fd, unsigned short tid, unsigned block)
{
	unsigned char a[4] = { 0, 4, block >> 8, block & 0xff };
	struct sockaddr_in to = sin_of("10.0.2.2", 0);

	to.sin_port = tid;
	return sendto(fd, a, 4, 0, (struct sockaddr *)&to, sizeof(to)) == 4;
}

/* The DATA packet of block `want` in buf (n bytes)? */
static int is_block(const unsigned char *buf, ssize_t n, unsigned want)
{
	return n >= 4 && buf[0] == 0 && buf[1] == 3 && (unsigned)(buf[2] << 8 | buf[3]) == want;
}

/* Block 2 with O_NONBLOCK: nothing there before the ACK (EAGAIN), then
 * polled for with EAGAIN until it comes. */
static ssize_t nonblocking_block(int fd, unsigned char *buf, unsigned short tid)
{
	unsigned short t = tid;
	ssize_t n;
	int flags = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	n = from_server(fd, (char *)buf, 516, 0, &t);
	check("O_NONBLOCK recvfrom before the ACK: EAGAIN", n < 0 && errno == EAGAIN);
	if (!ack(fd, tid, 1))
		return -1;
	for (int i = 0; i < 5000; i++) {
		n = from_server(fd, (char *)buf, 516, 0, &t);
		if (n >= 0 || errno != EAGAIN)
			break;
		usleep(1000);
	}
	fcntl(fd, F_SETFL, flags);
	return n;
}

/* Downloads blocks.txt into file: its length, or -1. */
static long tftp_get(int fd, char *file)
{
	static const char rrq[] = "\0\1blocks.txt\0octet";
	struct sockaddr_in srv = sin_of("10.0.2.2", 69);
	struct pollfd p = { fd, POLLIN, 0 };
	unsigned char buf[600];
	unsigned short tid = 0;
	long got = 0;
	ssize_t n;

	check("sendto 10.0.2.2:69 (RRQ)", sendto(fd, rrq, sizeof(rrq), 0,
						(struct sockaddr *)&srv, sizeof(srv)) == sizeof(rrq));
	check("getsockname: 0.0.0.0 and the port the send picked",
	      name_of(fd).sin_port != 0 && name_of(fd).sin_addr.s_addr == 0);
	check("poll waits for the first block", poll(&p, 1, 5000) == 1 && (p.revents & POLLIN));
	n = from_server(fd, (char *)buf, sizeof(buf), 0, &tid);
	check("recvfrom: block 1 from 10.0.2.2, its own port", is_block(buf, n, 1) && n == 516 &&
	      tid != 0);
	if (!is_block(buf, n, 1))
		return -1;
	memcpy(file, buf + 4, 512);
	got = 512;
	n = nonblocking_block(fd, buf, tid);
	check("O_NONBLOCK recvfrom: EAGAIN until block 2 came", is_block(buf, n, 2));
	for (unsigned b = 2; is_block(buf, n, b); b++) {
		if (got + n - 4 > FILE_LEN)
			return -1;
		memcpy(file + got, buf + 4, n - 4);
		got += n - 4;
		if (!ack(fd, tid, b) || n < 516)
			return got;
		n = from_server(fd, (char *)buf, sizeof(buf), 0, &tid);
	}
	return -1;
}

static void tftp(int fd)
{
	static char file[FILE_LEN + 512], want[FILE_LEN + 1];
	long n;

	for (int i = 0; i < FILE_LINES; i++)
		snprintf(want + 32 * i, 33, "tftp test line %04d abcdefghijk\n", i);
	n = tftp_get(fd, file);
	printf("tftp: %ld bytes\n", n);
	check("tftp: blocks.txt, 4 blocks, every byte", n == FILE_LEN && !memcmp(file, want, FILE_LEN));
}

/* A connected socket: write an RRQ for a missing file, read the error
 * (slirp's server answers from the port the request went to). */
static void tftp_error(void)
{
	static const char rrq[] = "\0\1no-such-file\0octet";
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in srv = sin_of("10.0.2.2", 69);
	struct pollfd p = { fd, POLLIN, 0 };
	unsigned char buf[600];
	ssize_t n;

	check("connect to 10.0.2.2:69", connect(fd, (struct sockaddr *)&srv, sizeof(srv)) == 0);
	check("getsockname after connect: 10.0.2.15",
	      name_of(fd).sin_addr.s_addr == htonl(0x0a00020f) && name_of(fd).sin_port);
	check("write on the connected socket", write(fd, rrq, sizeof(rrq)) == sizeof(rrq));
	check("poll: the reply", poll(&p, 1, 5000) == 1);
	n = read(fd, buf, sizeof(buf));
	check("read: the server's ERROR (file not found)",
	      n >= 4 && buf[0] == 0 && buf[1] == 5 && buf[3] == 1);
	close(fd);			/* its pump ends */
}

/* ------------------------------------------------------------- others */

static void rcvtimeo(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in any = sin_of("0.0.0.0", 0), me;
	struct timeval tv = { 0, 300000 };
	char buf[16];
	double t;
	ssize_t n;

	check("bind 0.0.0.0:0", bind(fd, (struct sockaddr *)&any, sizeof(any)) == 0);
	check("setsockopt SO_RCVTIMEO 0.3 s", setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0);
	t = now();
	n = recvfrom(fd, buf, sizeof(buf), 0, NULL, NULL);
	t = now() - t;
	check("SO_RCVTIMEO: EAGAIN after 0.3 s", n < 0 && errno == EAGAIN && t > 0.25 && t < 2);
	/* To the card's own address: it stays on this machine. */
	int tx = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in from;
	socklen_t len = sizeof(from);

	me = sin_of("10.0.2.15", ntohs(name_of(fd).sin_port));
	sendto(tx, "self", 4, 0, (struct sockaddr *)&me, sizeof(me));
	n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
	check("to 10.0.2.15: received here, from 10.0.2.15",
	      n == 4 && !memcmp(buf, "self", 4) && from.sin_addr.s_addr == htonl(0x0a00020f));
	close(tx);
	close(fd);
}

static void loopback_too(void)
{
	int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in lo = loopback(0), to, from;
	socklen_t len = sizeof(from);
	char buf[16];
	ssize_t n;

	bind(a, (struct sockaddr *)&lo, sizeof(lo));
	to = loopback(ntohs(name_of(a).sin_port));
	sendto(b, "loop", 4, 0, (struct sockaddr *)&to, sizeof(to));
	n = recvfrom(a, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
	check("loopback: a datagram to 127.0.0.1, from 127.0.0.1",
	      n == 4 && !memcmp(buf, "loop", 4) && from.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
	static unsigned char out[65507], in[65536];
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (unsigned char)(i * 7 + (i >> 9));
	n = sendto(b, out, sizeof(out), 0, (struct sockaddr *)&to, sizeof(to));
	check("loopback: 65507 bytes sent and received whole",
	      n == (ssize_t)sizeof(out) && recv(a, in, sizeof(in), 0) == (ssize_t)sizeof(out) &&
	      !memcmp(in, out, sizeof(out)));
	close(a);
	close(b);
}

static void errors(int up)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in nobody = sin_of("10.0.2.99", 9), gw = sin_of("10.0.2.2", 9);
	struct sockaddr_in me = sin_of("10.0.2.15", 0);
	static char big[65508];
	double t;
	int rcvbuf = 0;
	socklen_t optlen = sizeof(rcvbuf);

	if (!up) {
		check("no network: sendto 10.0.2.2: ENETUNREACH",
		      sendto(fd, "x", 1, 0, (struct sockaddr *)&gw, sizeof(gw)) < 0 &&
		      errno == ENETUNREACH);
		check("no network: bind 10.0.2.15: EADDRNOTAVAIL",
		      bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0 && errno == EADDRNOTAVAIL);
		close(fd);
		return;
	}
	check("sendto 65508 bytes: EMSGSIZE",
	      sendto(fd, big, sizeof(big), 0, (struct sockaddr *)&gw, sizeof(gw)) < 0 &&
	      errno == EMSGSIZE);
	check("sendto 2000, 20000 and 65507 bytes through the card (fragments)",
	      sendto(fd, big, 2000, 0, (struct sockaddr *)&gw, sizeof(gw)) == 2000 &&
	      sendto(fd, big, 20000, 0, (struct sockaddr *)&gw, sizeof(gw)) == 20000 &&
	      sendto(fd, big, 65507, 0, (struct sockaddr *)&gw, sizeof(gw)) == 65507);
	check("SO_RCVBUF holds three datagrams of 65507 bytes",
	      getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &optlen) == 0 &&
	      rcvbuf >= 3 * 65507);
	t = now();
	check("sendto 10.0.2.99 (no ARP answer): EHOSTUNREACH",
	      sendto(fd, "x", 1, 0, (struct sockaddr *)&nobody, sizeof(nobody)) < 0 &&
	      errno == EHOSTUNREACH);
	printf("EHOSTUNREACH after %.1f s\n", now() - t);
	close(fd);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	int fd2 = socket(AF_INET, SOCK_DGRAM, 0);
	check("bind 10.0.2.15:0", bind(fd, (struct sockaddr *)&me, sizeof(me)) == 0);
	me.sin_port = name_of(fd).sin_port;
	check("bind the same port again: EADDRINUSE",
	      bind(fd2, (struct sockaddr *)&me, sizeof(me)) < 0 && errno == EADDRINUSE);
	close(fd2);
	close(fd);
}

/* A connected socket to a host port nobody serves (slirp relays it to the
 * host's 127.0.0.1:9; its ICMP port unreachable comes back as one from
 * 10.0.2.2): the error is the socket's, once, as on Linux. */
static void refused(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0), err = 0;
	struct sockaddr_in gw = sin_of("10.0.2.2", 9);
	struct timeval tv = { 3, 0 };
	socklen_t len = sizeof(err);
	char b[4];
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	check("connect UDP to 10.0.2.2:9", connect(fd, (struct sockaddr *)&gw, sizeof(gw)) == 0);
	check("send to it", send(fd, "x", 1, 0) == 1);
	n = recv(fd, b, sizeof(b), 0);
	printf("recv after the port unreachable: %zd (%s)\n", n, n < 0 ? strerror(errno) : "");
	check("recv: ECONNREFUSED (the ICMP port unreachable)", n < 0 && errno == ECONNREFUSED);
	check("SO_ERROR is clear after it", getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
	      err == 0);
	close(fd);
}

/* The whole of a small file (at most 4 KiB), "" when it cannot be read. */
static const char *file_text(const char *path)
{
	static char text[4096];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;

	if (f)
		fclose(f);
	text[n] = '\0';
	return text;
}

/* /proc/net/route names the default gateway (what tools read it for) and
 * eth0's subnet; /proc/net/dev counts eth0's traffic (by now: DHCP and the
 * checks before). Without a network: neither. Called after the traffic. */
static void proc_net(int up)
{
	const char *t = file_text("/proc/net/route");
	unsigned long rx = 0, rxp = 0;
	const char *e;

	if (!up) {
		check("/proc/net/route: the header only", !strncmp(t, "Iface\tDestination\t", 18) &&
		      !strstr(t, "eth0"));
		check("/proc/net/dev: lo, no eth0", strstr(file_text("/proc/net/dev"), "    lo:") &&
		      !strstr(file_text("/proc/net/dev"), "eth0"));
		return;
	}
	check("/proc/net/route: default via 10.0.2.2",
	      strstr(t, "\neth0\t00000000\t0202000A\t0003\t") != NULL);
	check("/proc/net/route: 10.0.2.0/24 on eth0",
	      strstr(t, "\neth0\t0002000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t") != NULL);
	e = strstr(file_text("/proc/net/dev"), "  eth0:");
	check("/proc/net/dev: eth0 received bytes and frames",
	      e && sscanf(e + 7, "%lu %lu", &rx, &rxp) == 2 && rx > 1000 && rxp > 2);
}

static void resolv(const char *mode)
{
	FILE *f = fopen("/etc/resolv.conf", "r");
	char line[64] = "";

	if (f) {
		fgets(line, sizeof(line), f);
		fclose(f);
	}
	if (!strcmp(mode, "dhcp"))
		check("/etc/resolv.conf: nameserver 10.0.2.3", !strcmp(line, "nameserver 10.0.2.3\n"));
	else
		check("/etc/resolv.conf: none (no DNS server known)", f == NULL);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "dhcp";
	int up = strcmp(mode, "off") != 0;
	int fd;

	interfaces(up);
	resolv(mode);
	loopback_too();
	errors(up);
	if (!up)
		proc_net(up);
	if (up) {
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		ioctls(fd);
		tftp(fd);
		tftp_error();
		rcvtimeo();
		refused();
		proc_net(up);
		/* fd stays open: the program exits with its pump running */
	}
	printf("netudp %s: %d of %d checks passed\n", mode, passed, total);
	return passed == total ? 0 : 1;
}
