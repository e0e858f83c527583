/*
 * socket_opt.c - setsockopt and getsockopt for every kind of socket
 * (socket.h is the interface): the options programs set are recorded and
 * read back, and only SO_KEEPALIVE and TCP_KEEPIDLE / TCP_KEEPINTVL /
 * TCP_KEEPCNT change behaviour (on network connections: the pump of
 * socket_tcpnet.c gives them to the stack); the read-only ones (SO_TYPE,
 * SO_ERROR, SO_ACCEPTCONN, SO_PROTOCOL, SO_DOMAIN, the buffer sizes)
 * report the socket. SO_RCVTIMEO and SO_SNDTIMEO (struct timeval) are
 * kept and bound the waits: a receive, read or accept waits at most
 * SO_RCVTIMEO and a stream send or write SO_SNDTIMEO (socket_dgram.c,
 * socket_stream.c, socket_conn.c, fd_rw.c through the socket's timeo
 * op), then returns what it moved or -EAGAIN, as on Linux.
 * IPPROTO_IP's IP_TTL (1..255, -1 for the default 64; recorded only: the
 * network stack sends its own TTL) is an AF_INET socket's; Go's tests
 * set it from Dialer.Control and ListenConfig.Control.
 * SO_PASSCRED (any socket, as Linux) makes an AF_UNIX socket's recvmsg
 * report the sender's credentials (socket_rights.c); SO_PEERCRED reads
 * them, struct ucred {1, 0, 0}, on a connected or listening AF_UNIX
 * socket (Linux's peer credentials, the listener's its own), else
 * {0, -1, -1} as Linux reports none.
 * TCP_MAXSEG reads a connected TCP socket's MSS and IP_MTU its path MTU
 * (loopback: 65483 and 65535 as Linux's lo, with TCP timestamps; on
 * the card: the stack's snd_mss and path MTU estimate, which the pump
 * copies into the socket); unconnected, TCP_MAXSEG reads what was set,
 * else 536, and IP_MTU fails -ENOTCONN. setsockopt TCP_MAXSEG takes 0
 * or 88..32767 (else -EINVAL, as Linux); set before a loopback connect
 * (on either end, a listener's passing to the sockets it accepts) it
 * lowers the connection's MSS as on Linux; through the card the same:
 * set before connect it goes to the stack (cub_tcp_connect_mss: the
 * MSS our SYN announces and a bound on the peer's, so on the segments
 * either way), set on a listener (before or after listen) its pump
 * gives it to the stack's listener (cub_tcp_set_mss) for the
 * connections that come after; after connect it changes nothing, as
 * on Linux (measured on Linux 6.x: set to 500 after connect, a
 * 988-byte MSS stays). IP_MTU on UDP sockets: the route's path MTU
 * when connected (loopback 65535, the card's 1500), -ENOTCONN
 * unconnected, as Linux; setsockopt IP_MTU -ENOPROTOOPT.
 * Unknown options: -ENOPROTOOPT; IPPROTO_TCP or IPPROTO_IP on AF_UNIX: -EOPNOTSUPP,
 * as on Linux; any level but SOL_SOCKET on AF_NETLINK (SOL_NETLINK):
 * -ENOPROTOOPT.
 *
 * Locking: the fd layer's critical section (interrupts disabled) around
 * every look at a socket; the values are copied in before and out after.
 */
#include <cubrt/arch.h>
#include <cubrt/string.h>

#include "netdev.h"
#include "socket.h"

#define SO_TYPE 3
#define SO_ERROR 4
#define SO_SNDBUF 7
#define SO_RCVBUF 8
#define SO_LINGER 13
#define SO_RCVTIMEO 20		/* SO_RCVTIMEO_OLD: a struct timeval */
#define SO_SNDTIMEO 21
#define NS_PER_S 1000000000ll
#define CUB_EDOM 33
#define SO_ACCEPTCONN 30
#define SO_PROTOCOL 38
#define SO_DOMAIN 39
#define SO_PASSCRED 16
#define SO_PEERCRED 17
#define IP_TTL 2
#define IP_MTU 14
#define TCP_MAXSEG 2
#define TCP_MIN_MSS 88			/* Linux's bounds for TCP_MAXSEG */
#define TCP_MAX_WINDOW 32767

/* The recorded options: level, name and the values setsockopt takes
 * (max == 0: a boolean, stored as 0/1). */
static const struct {
	int level, name, min, max;
} optdef[CUBI_OPT_N] = {
	[CUBI_OPT_REUSEADDR] = { CUBI_SOL_SOCKET, 2, 0, 0 },
	[CUBI_OPT_BROADCAST] = { CUBI_SOL_SOCKET, 6, 0, 0 },
	[CUBI_OPT_KEEPALIVE] = { CUBI_SOL_SOCKET, 9, 0, 0 },
	[CUBI_OPT_REUSEPORT] = { CUBI_SOL_SOCKET, 15, 0, 0 },
	[CUBI_OPT_NODELAY] = { CUBI_IPPROTO_TCP, 1, 0, 0 },
	[CUBI_OPT_KEEPIDLE] = { CUBI_IPPROTO_TCP, 4, 1, 32767 },	/* Linux's limits */
	[CUBI_OPT_KEEPINTVL] = { CUBI_IPPROTO_TCP, 5, 1, 32767 },
	[CUBI_OPT_KEEPCNT] = { CUBI_IPPROTO_TCP, 6, 1, 127 },
	[CUBI_OPT_TTL] = { CUBI_IPPROTO_IP, IP_TTL, 1, 255 },
	[CUBI_OPT_PASSCRED] = { CUBI_SOL_SOCKET, SO_PASSCRED, 0, 0 },
};

/* s's recorded option (level, name), or -1: none (TCP's on UDP too). */
static int find_opt(const struct cubi_sock *s, int level, int name)
{
	if (level == CUBI_IPPROTO_TCP && s->type != CUBI_SOCK_STREAM)
		return -1;		/* Linux: -ENOPROTOOPT */
	for (int i = 0; i < CUBI_OPT_N; i++)
		if (optdef[i].level == level && optdef[i].name == name)
			return i;
	return -1;
}

/* Levels a socket of this domain has: 0, -ENOPROTOOPT or (IPPROTO_TCP on
 * AF_UNIX, as on Linux) -EOPNOTSUPP. */
static long check_level(long domain, int level)
{
	if (level == CUBI_SOL_SOCKET)
		return 0;
	if (domain == CUBI_AF_NETLINK)
		return -CUB_ENOPROTOOPT;	/* SOL_NETLINK's: none kept */
	if (domain == CUBI_AF_UNIX)
		return -CUB_EOPNOTSUPP;
	return level == CUBI_IPPROTO_TCP || level == CUBI_IPPROTO_IP ? 0 : -CUB_ENOPROTOOPT;
}

static bool is_timeo(int level, int name)
{
	return level == CUBI_SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO);
}

/* A struct timeval as a timeout (Linux's sock_set_timeout): 0.0 is none
 * (0), a negative one expires at once (1 ns); usec outside 0..999999:
 * -EDOM. */
static long timeo_in(const int v[4], uint64_t *ns)
{
	int64_t tv[2];

	cub_memcpy(tv, v, sizeof(tv));
	if (tv[1] < 0 || tv[1] >= 1000000)
		return -CUB_EDOM;
	if (tv[0] < 0)
		*ns = 1;
	else if (tv[0] > INT64_MAX / NS_PER_S - 1)
		*ns = 0;			/* as good as forever */
	else
		*ns = (uint64_t)(tv[0] * NS_PER_S + tv[1] * 1000);
	return 0;
}

static void timeo_out(uint64_t ns, int v[4])
{
	int64_t tv[2] = { (int64_t)(ns / NS_PER_S), (int64_t)(ns % NS_PER_S / 1000) };

	cub_memcpy(v, tv, sizeof(tv));
}

static bool is_tcp(const struct cubi_sock *s)
{
	return s->domain == CUBI_AF_INET && s->type == CUBI_SOCK_STREAM;
}

/* TCP_MAXSEG (mtu false) or IP_MTU of TCP socket s into *v: the
 * connection's while connected, else what Linux reports unconnected. */
static long path_value(const struct cubi_sock *s, bool mtu, int *v)
{
	bool conn = s->state == CUBI_SOCK_CONNECTED && s->mss;

	if (mtu && !conn)
		return -CUB_ENOTCONN;
	*v = conn ? (mtu ? s->pmtu : s->mss)
		  : (s->user_mss ? s->user_mss : CUBI_TCP_MSS_DEFAULT);
	return 0;
}

/* IP_MTU of UDP socket s into *v (irq off): its route's MTU while
 * connected (Linux's dst_mtu): loopback's 65535 for 127.x and the
 * card's own address, the card's 1500 elsewhere (UDP datagrams
 * fragment at the interface MTU: the stack's path MTU cache is TCP's);
 * -ENOTCONN unconnected (also after AF_UNSPEC), as Linux. */
static long udp_mtu(const struct cubi_sock *s, int *v)
{
	if (s->state != CUBI_SOCK_CONNECTED)
		return -CUB_ENOTCONN;
	*v = cubi_sock_loopback(s->peer_addr) ||
	     (cubi_netdev.nif && s->peer_addr == cubi_netdev.addr)
		? CUBI_LO_IP_MTU : CUB_IP4_MTU;
	return 0;
}

static long setopt_locked(struct cubi_sock *s, int level, int name, const int v[4])
{
	int i = find_opt(s, level, name);

	if (is_timeo(level, name))
		return timeo_in(v, name == SO_RCVTIMEO ? &s->rcvtimeo_ns : &s->sndtimeo_ns);
	if (level == CUBI_SOL_SOCKET && name == SO_LINGER) {
		s->linger[0] = v[0] != 0;
		s->linger[1] = v[1];
		return 0;
	}
	if (level == CUBI_SOL_SOCKET && (name == SO_SNDBUF || name == SO_RCVBUF))
		return 0;	/* the ring's (UDP: budget's) size is fixed */
	if (is_tcp(s) && level == CUBI_IPPROTO_TCP && name == TCP_MAXSEG) {
		if (v[0] && (v[0] < TCP_MIN_MSS || v[0] > TCP_MAX_WINDOW))
			return -CUB_EINVAL;
		s->user_mss = (uint16_t)v[0];
		cubi_tcpnet_room(s);	/* a card listener's pump takes it */
		return 0;
	}
	if (i < 0)
		return -CUB_ENOPROTOOPT;
	if (i == CUBI_OPT_TTL && v[0] == -1) {
		s->opt[i] = CUBI_IP_DEFAULT_TTL;	/* Linux: back to the default */
		return 0;
	}
	if (optdef[i].max && (v[0] < optdef[i].min || v[0] > optdef[i].max))
		return -CUB_EINVAL;
	s->opt[i] = optdef[i].max ? v[0] : v[0] != 0;
	if (i == CUBI_OPT_KEEPALIVE || i == CUBI_OPT_KEEPIDLE ||
	    i == CUBI_OPT_KEEPINTVL || i == CUBI_OPT_KEEPCNT)
		cubi_sock_changed(s);	/* a network connection's pump */
	return 0;
}

/* setsockopt(fd, level, name, val, len): int values (SO_LINGER: struct
 * linger, 8 bytes; the timeouts: struct timeval, 16); len below that:
 * -EINVAL. */
CUBI_SYS(setsockopt)
{
	int level = (int)A1(r), name = (int)A2(r), len = (int)A4(r), v[4] = { 0, 0, 0, 0 };
	size_t size = level == CUBI_SOL_SOCKET && name == SO_LINGER ? 8 :
		      is_timeo(level, name) ? 16 : 4;
	long rc = cubi_sock_domain(A0(r));
	unsigned long irq;
	struct cubi_sock *s;

	if (rc < 0)
		return rc;
	if (len < 0)
		return -CUB_EINVAL;
	if ((rc = check_level(rc, level)) != 0)
		return rc;
	if ((size_t)len < size)
		return -CUB_EINVAL;
	if (cubi_copy_in(v, A3(r), size))
		return -CUB_EFAULT;
	irq = cub_arch_irq_save();
	s = cubi_sock_at(A0(r), &rc);
	if (s)
		rc = setopt_locked(s, level, name, v);
	cub_arch_irq_restore(irq);
	return rc;
}

/* The read-only SOL_SOCKET options, or -1: not one of them. */
static int sol_value(const struct cubi_sock *s, int name)
{
	switch (name) {
	case SO_TYPE: return s->type;
	case SO_ACCEPTCONN: return s->state == CUBI_SOCK_LISTENING;
	case SO_PROTOCOL:
		if (s->domain != CUBI_AF_INET)
			return 0;
		return s->type == CUBI_SOCK_DGRAM ? CUBI_IPPROTO_UDP : CUBI_IPPROTO_TCP;
	case SO_DOMAIN: return s->domain;
	case SO_SNDBUF: case SO_RCVBUF:	/* messages: the receive queue's budget */
		return (int)(s->type != CUBI_SOCK_STREAM ? CUBI_UDP_BUDGET : CUBI_SOCK_RING);
	default: return -1;
	}
}

/* An option's value into v, its size into *size (irq off). */
static long getopt_locked(struct cubi_sock *s, int level, int name, int v[4], size_t *size)
{
	int i = find_opt(s, level, name);

	*size = 4;
	if (is_timeo(level, name)) {
		timeo_out(name == SO_RCVTIMEO ? s->rcvtimeo_ns : s->sndtimeo_ns, v);
		*size = 16;
		return 0;
	}
	if (level == CUBI_IPPROTO_TCP && s->type == CUBI_SOCK_DGRAM)
		return -CUB_EOPNOTSUPP;	/* Linux's ip_getsockopt */
	if (s->domain == CUBI_AF_INET && s->type == CUBI_SOCK_DGRAM &&
	    level == CUBI_IPPROTO_IP && name == IP_MTU)
		return udp_mtu(s, &v[0]);
	if (is_tcp(s) && ((level == CUBI_IPPROTO_TCP && name == TCP_MAXSEG) ||
			  (level == CUBI_IPPROTO_IP && name == IP_MTU)))
		return path_value(s, name == IP_MTU, &v[0]);
	if (i >= 0) {
		v[0] = s->opt[i];
	} else if (level != CUBI_SOL_SOCKET) {
		return -CUB_ENOPROTOOPT;
	} else if (name == SO_ERROR) {
		v[0] = s->err;
		s->err = 0;
		cubi_sock_changed(s);
	} else if (name == SO_LINGER) {
		v[0] = s->linger[0];
		v[1] = s->linger[1];
		*size = 8;
	} else if (name == SO_PEERCRED) {
		bool known = s->domain == CUBI_AF_UNIX && (s->state == CUBI_SOCK_CONNECTED ||
							   s->state == CUBI_SOCK_LISTENING);

		v[0] = known ? 1 : 0;		/* pid, uid, gid */
		v[1] = v[2] = known ? 0 : -1;
		*size = 12;
	} else {
		v[0] = sol_value(s, name);
		if (v[0] < 0)
			return -CUB_ENOPROTOOPT;
	}
	return 0;
}

/* getsockopt(fd, level, name, val, lenp): copies min(*lenp, size). */
CUBI_SYS(getsockopt)
{
	int level = (int)A1(r), name = (int)A2(r), len, v[4] = { 0, 0, 0, 0 };
	long rc = cubi_sock_domain(A0(r));
	size_t size = 4;
	unsigned long irq;
	struct cubi_sock *s;

	if (rc < 0)
		return rc;
	if (cubi_copy_in(&len, A4(r), sizeof(len)))
		return -CUB_EFAULT;
	if (len < 0 || (len < 4 && level != CUBI_IPPROTO_TCP))
		return -CUB_EINVAL;	/* TCP's: min(len, 4) bytes, as Linux */
	if ((rc = check_level(rc, level)) != 0)
		return rc;
	irq = cub_arch_irq_save();
	s = cubi_sock_at(A0(r), &rc);
	if (s)
		rc = getopt_locked(s, level, name, v, &size);
	cub_arch_irq_restore(irq);
	if (rc)
		return rc;
	len = (int)CUB_MIN((size_t)len, size);
	if (cubi_copy_out(A3(r), v, (size_t)len) || cubi_copy_out(A4(r), &len, sizeof(len)))
		return -CUB_EFAULT;
	return 0;
}

bool cubi_sock_passcred(uint64_t fd)
{
	unsigned long irq = cub_arch_irq_save();
	long rc;
	struct cubi_sock *s = cubi_sock_at(fd, &rc);
	bool on = s && s->opt[CUBI_OPT_PASSCRED];

	cub_arch_irq_restore(irq);
	return on;
}
