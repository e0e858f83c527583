/*
 * socket.h - the sockets' private interface between socket.c (socket
 * objects: socket, socketpair, the last close), socket_bind.c (bind,
 * listen, shutdown), socket_addr.c (addresses in and out, ports, names: getsockname,
 * getpeername), socket_conn.c (connect, accept), socket_stream.c (the
 * stream data: receive rings, the rights on their bytes, read/write/poll
 * ops, the attempts of a send/recv call), socket_sendrecv.c (sendto,
 * recvfrom, sendmsg, recvmsg: the msghdr checks, the hand-off by kind,
 * the stream calls), socket_opt.c (options for every kind),
 * socket_udp.c (UDP: its file ops and send/recv calls), socket_dgram.c
 * (the message queue UDP and AF_UNIX messages share), socket_unix.c
 * (AF_UNIX names: bind to a path or an abstract name, connect's lookup),
 * socket_umsg.c (AF_UNIX SOCK_DGRAM and SOCK_SEQPACKET: connect, one
 * message sent or received on socket_dgram.c's queues, the file ops),
 * socket_umsg_calls.c (their sendto, recvfrom, sendmsg, recvmsg) and
 * socket_rights.c (SCM_RIGHTS: descriptors in flight on AF_UNIX
 * sockets), socket_netlink.c (AF_NETLINK NETLINK_ROUTE sockets: port
 * ids, their file ops and calls), socket_rtnl.c (the replies of
 * rtnetlink, the "kernel" those sockets talk to) and socket_ioctl.c (the
 * socket ioctls: SIOCOUTQ, the SIOCGIF* interface requests). Their header comments
 * state the semantics and invariants. The message sockets' declarations
 * (the queued message and its queue, UDP, AF_UNIX messages, netlink)
 * are socket_msg.h's.
 *
 * Locking: every field of a socket, the port table, the AF_UNIX names
 * and the accept queues are protected by the fd layer's critical section
 * (interrupts disabled, fd.c); functions marked "irq off" expect it
 * held, the others take it. socket_unix.c also takes the fs lock, before
 * that section (never inside it).
 */
#ifndef CUBRT_SHIM_SOCKET_H
#define CUBRT_SHIM_SOCKET_H

#include <cubrt/list.h>

#include "shim_impl.h"

#define CUBI_AF_UNIX 1
#define CUBI_AF_INET 2
#define CUBI_AF_NETLINK 16
#define CUBI_SOCK_STREAM 1
#define CUBI_SOCK_DGRAM 2
#define CUBI_SOCK_RAW 3
#define CUBI_SOCK_SEQPACKET 5
#define CUBI_IPPROTO_IP 0
#define CUBI_IP_DEFAULT_TTL 64	/* Linux's net.ipv4.ip_default_ttl */
#define CUBI_IPPROTO_TCP 6
#define CUBI_IPPROTO_UDP 17
#define CUBI_SOL_SOCKET 1
#define CUBI_SOCK_RING (64u * 1024)	/* receive ring per socket */
/* send/recv flags (Linux's values) */
#define MSG_PEEK 0x2u
#define MSG_CTRUNC 0x8u
#define MSG_TRUNC 0x20u
#define MSG_DONTWAIT 0x40u
#define MSG_WAITALL 0x100u
#define MSG_NOSIGNAL 0x4000u
#define MSG_MORE 0x8000u
#define MSG_CMSG_CLOEXEC 0x40000000u
#define CUBI_SIN_SIZE 16u		/* sizeof(struct sockaddr_in) */
#define CUBI_ADDR_MAX 128		/* sizeof(struct sockaddr_storage) */
#define CUBI_SUN_SIZE 110u		/* sizeof(struct sockaddr_un) */
#define CUBI_SUN_NAME 109		/* an AF_UNIX name's bytes at most: a
					 * 108-byte sun_path and its NUL */
#define CUBI_UDP_MAX 65507u		/* largest UDP payload over IPv4 */
#define CUBI_UDP_BUDGET 212992u	/* a UDP receive queue's bytes (rmem_default) */
#define CUBI_UMSG_MAX (CUBI_UDP_BUDGET - 32)	/* an AF_UNIX message's bytes at
						 * most (Linux: sndbuf - 32) */
#define CUBI_SCM_MAX 253		/* descriptors per SCM_RIGHTS send (SCM_MAX_FD) */
#define CUB_EPROTOTYPE 91
#define CUB_ENOBUFS 105
#define CUB_ECONNABORTED 103
#define CUB_EALREADY 114
#define CUB_EINPROGRESS 115

/* The machine's one network interface, the loopback, as rtnetlink
 * (socket_rtnl.c) and the SIOCGIF* ioctls (socket_ioctl.c) both report
 * it: its facts live here only. */
#define CUBI_LO_INDEX 1
#define CUBI_LO_NAME "lo"
#define CUBI_LO_TYPE 772		/* ARPHRD_LOOPBACK; address all zeros */
#define CUBI_LO_FLAGS 0x10049u	/* IFF_UP | IFF_LOOPBACK | IFF_RUNNING |
				 * IFF_LOWER_UP (SIOCGIFFLAGS: low 16 bits) */
#define CUBI_LO_MTU 65536
#define CUBI_LO_ADDR 0x7f000001u	/* 127.0.0.1, host order */
#define CUBI_LO_PREFIX 8		/* /8: netmask 255.0.0.0 */
/* What a connected loopback TCP socket reports, as Linux's lo does:
 * IP_MTU is IPv4's largest packet (the interface's 65536 capped at
 * IP_MAX_MTU), TCP_MAXSEG the MSS that leaves after the IP and TCP
 * headers (40) and the timestamp option (12). */
#define CUBI_LO_IP_MTU 65535
#define CUBI_TCP_HDRS 40		/* IPv4 + TCP headers, no options */
#define CUBI_TCP_TS_LEN 12		/* the timestamp option, padded */
#define CUBI_TCP_MSS_DEFAULT 536	/* TCP_MAXSEG unconnected (RFC 1122) */

/* CONNECTING: a TCP connect through the network card is under way
 * (socket_tcpnet.c); loopback connections never are. */
enum cubi_sock_state { CUBI_SOCK_UNCONNECTED, CUBI_SOCK_LISTENING, CUBI_SOCK_CONNECTED,
		       CUBI_SOCK_CONNECTING };

/* Options recorded for getsockopt (socket_opt.c); they change nothing. */
enum { CUBI_OPT_REUSEADDR, CUBI_OPT_BROADCAST, CUBI_OPT_KEEPALIVE,
       CUBI_OPT_REUSEPORT, CUBI_OPT_NODELAY, CUBI_OPT_KEEPIDLE,
       CUBI_OPT_KEEPINTVL, CUBI_OPT_KEEPCNT, CUBI_OPT_TTL, CUBI_OPT_PASSCRED,
       CUBI_OPT_N };

/*
 * A socket. A message socket (UDP, AF_UNIX SOCK_DGRAM and SOCK_SEQPACKET)
 * uses the fields up to `ring` only and is allocated without the ring
 * (socket.c's cubi_sock_new). A UDP socket never has a peer pointer or an
 * accept queue: CONNECTED means it has a default destination,
 * peer_addr:peer_port. An AF_UNIX SOCK_DGRAM one has a peer pointer when
 * it came from socketpair, else CONNECTED means un_peer_id names its
 * destination; SOCK_SEQPACKET connects, listens and accepts like a
 * stream.
 */
struct cubi_sock {
	struct cubi_file file;
	int domain;		/* CUBI_AF_INET, CUBI_AF_UNIX or CUBI_AF_NETLINK */
	int type;		/* CUBI_SOCK_STREAM, _DGRAM or (AF_UNIX) _SEQPACKET;
				 * AF_NETLINK: _RAW or _DGRAM as created */
	enum cubi_sock_state state;
	bool in_table;		/* AF_INET: holds its port, on socket_addr.c's
				 * `bound`; AF_UNIX: bound by bind, on
				 * socket_unix.c's `unix_names`; AF_NETLINK:
				 * holds nl_pid, on socket_netlink.c's list */
	bool rd_shut, wr_shut;	/* shutdown(SHUT_RD / SHUT_WR) of this end */
	bool late_write;	/* loopback TCP whose peer closed cleanly (no
				 * unread data, no SO_LINGER 0): its next send
				 * still succeeds, as on Linux, where the FIN'd
				 * peer answers it with the RST that makes later
				 * sends fail -EPIPE (socket_stream.c) */
	int err;		/* pending error (ECONNRESET): read, SO_ERROR */
	bool eof_first;		/* TCP: the peer's FIN came before its reset:
				 * reads end in end of file, the pending
				 * error (EPIPE) is left to SO_ERROR, poll
				 * and writes (Linux's SOCK_DONE) */
	bool dying;		/* TCP through the card: the connection died
				 * behind a full ring; its last bytes are still
				 * coming in (socket_tcpnet_pump.c's tail), but
				 * poll and writes see it gone, as on Linux */
	struct cubi_sock *peer;	/* connected: the other end while it exists */
	struct cubi_sock *listener;	/* queued, not accepted: whose queue */
	struct cub_list link;	/* on `bound` or `unix_names` (in_table) */
	struct cub_list qlink;	/* on listener->queue */
	struct cub_list queue;	/* listening: not yet accepted, oldest first */
	unsigned qlen, backlog;
	uint32_t addr, peer_addr;	/* IPv4 addresses, host order */
	uint16_t port, peer_port;	/* 0: none */
	int opt[CUBI_OPT_N];
	int linger[2];		/* SO_LINGER: l_onoff (0/1), l_linger */
	uint64_t rcvtimeo_ns;	/* SO_RCVTIMEO (0: none): message sockets'
				 * receives give -EAGAIN after it */
	uint64_t sndtimeo_ns;	/* SO_SNDTIMEO: recorded only */
	struct cub_list dgrams;	/* messages: received ones, oldest first */
	size_t dbytes;		/* messages: what they cost of CUBI_UDP_BUDGET */
	uint32_t un_peer_id;	/* AF_UNIX SOCK_DGRAM connected by name: the
				 * un_id of its destination */
	bool dst_full;		/* AF_UNIX SOCK_DGRAM: a send found its
				 * destination full (poll: a new EPOLLOUT edge) */
	bool gc_live;		/* socket_gc.c's scratch, valid while gc_gen */
	uint32_t gc_gen;	/* is its current pass: in-flight references, */
	unsigned gc_inflight;	/* and whether something live reaches it */
	struct cub_list rights;	/* stream: SCM_RIGHTS on bytes of the ring,
				 * by position (struct cubi_rights) */
	struct cub_list stale;	/* stream: rights read() took, to close */
	uint64_t rx_pos, rd_pos;	/* stream: bytes ever put in the ring, taken
					 * out of it (rights' positions) */
	bool addr_auto;		/* UDP: connect narrowed 0.0.0.0 to addr */
	struct cubi_inet_ep *ep;	/* UDP: its endpoint on the network card, or
					 * NULL (socket_inet.c; changed under its
					 * mutex and irq off, read under either) */
	bool port_auto;		/* the port was picked (bind to port 0) */
	struct cubi_tcpnet *tn;	/* TCP: its link to a connection or listener
				 * on the network card, or NULL
				 * (socket_tcpnet.c, irq off) */
	uint16_t user_mss;	/* TCP: TCP_MAXSEG set (0: none; accepted
				 * sockets inherit their listener's) */
	uint16_t mss, pmtu;	/* TCP, connected: TCP_MAXSEG and IP_MTU.
				 * Loopback: fixed at connect; on the card:
				 * the stack's snd_mss and path MTU, copied
				 * by the pump (socket_tcpnet_pump.c), the
				 * only caller of cub_tcp_* on the handle */
	bool conn_report;	/* TCP: a network connect's outcome is for
				 * the next connect call to report (Linux
				 * answers 0 once, then EISCONN) */
	uint32_t un_id;		/* AF_UNIX, in_table: what its name leads to */
	uint32_t nl_pid, nl_groups;	/* AF_NETLINK: port id (0: unbound) and
					 * the groups bind named */
	uint32_t nl_dst, nl_dst_group;	/* AF_NETLINK: connect's destination
					 * (0: the kernel) */
	uint8_t un_len, un_peer_len;	/* AF_UNIX: bytes of the names */
	char un_name[CUBI_SUN_NAME];	/* its sun_path as getsockname shows it:
					 * a path with its NUL, or an abstract
					 * name ('\0' first); un_len 0: unnamed */
	char un_peer[CUBI_SUN_NAME];	/* connected: the peer's, the same way */
	size_t head, len;	/* stream: receive ring, len bytes from head */
	unsigned char ring[CUBI_SOCK_RING];
};

/* socket_ioctl.c: the socket requests of ioctl (ioctl.c hands them on):
 * SIOCOUTQ and the interface ones; -ENOTTY for the rest. Interrupts
 * enabled; the caller holds a reference to f. */
long cubi_sock_ioctl(struct cubi_file *f, unsigned cmd, uintptr_t arg);

/* A socket address as the program sees it: a sockaddr_in, or an AF_UNIX
 * name (sa_family and un_len bytes of sun_path; just sa_family when
 * unnamed; 111 bytes for a 108-byte path, as on Linux). */
struct cubi_saddr {
	uint8_t b[CUBI_ADDR_MAX];
	uint32_t len;
};

struct msghdr_user {		/* Linux's struct msghdr on x86-64 */
	uint64_t name;
	uint32_t namelen, pad0;
	uint64_t iov, iovlen, control, controllen;
	int32_t flags, pad1;
};

struct iovec_user {
	uint64_t base, len;
};

/* The program's side of a message transfer: one buffer (iov 0: base, len
 * bytes) or an iovec array (iov, len entries; read again at each use). */
struct cubi_ubuf {
	uintptr_t base, iov;
	size_t len;
};

/* SCM_RIGHTS in flight: the files, one reference each. On a stream
 * socket's `rights`, they ride with the ring's bytes [start, end) (its
 * rx_pos counting); on a message, with the message. Every record is on
 * socket_gc.c's list of them (glink) from cubi_rights_in to
 * cubi_rights_put; holder is the socket whose queue (ring, stale list or
 * messages) holds it, NULL while a call holds it (being sent, or taken
 * by a receive). */
struct cubi_rights {
	struct cub_list link;
	struct cub_list glink;
	struct cubi_sock *holder;
	uint64_t start, end;
	unsigned n;
	struct cubi_file *files[];
};

/* What a receive took of SCM_RIGHTS, on the caller's stack: n files, a
 * reference each, to install (socket_rights.c). */
struct cubi_fdset {
	unsigned n;
	struct cubi_file *f[CUBI_SCM_MAX];
};

/* Fields of a sockaddr (a buffer from cubi_sock_addr_in). */
static inline int cubi_sa_family(const uint8_t *a)
{
	return a[0] | a[1] << 8;	/* sa_family_t: host order (x86) */
}

static inline uint16_t cubi_sa_port(const uint8_t *a)
{
	return (uint16_t)(a[2] << 8 | a[3]);	/* network order */
}

static inline uint32_t cubi_sa_addr(const uint8_t *a)
{
	return (uint32_t)a[4] << 24 | (uint32_t)a[5] << 16 | (uint32_t)a[6] << 8 | a[7];
}

/* socket.c */
/* A new socket (interrupts enabled: it allocates), or NULL. */
struct cubi_sock *cubi_sock_new(int domain, int type, unsigned flags);
/* The socket at fd (irq off), or NULL and *err = -EBADF or -ENOTSOCK. */
struct cubi_sock *cubi_sock_at(uint64_t fd, long *err);
/* The domain (type) of the socket at fd, or -EBADF/-ENOTSOCK (a
 * snapshot). */
long cubi_sock_domain(uint64_t fd);
long cubi_sock_type(uint64_t fd);
/* f as a socket, or NULL when it is none (any context). */
/* The deadline of a call on s that begins to wait now: SO_SNDTIMEO (out)
 * or SO_RCVTIMEO from now, 0 for none. Irq off. */
uint64_t cubi_sock_deadline(const struct cubi_sock *s, bool out);
/* cubi_file_wait_put on s's file until deadline (0: none): 0, -EINTR, or
 * -EAGAIN when the deadline passed (a socket timeout, as Linux says it). */
long cubi_sock_wait_put(struct cubi_sock *s, uint32_t seq, uint64_t deadline,
			const char *what);
struct cubi_sock *cubi_sock_of(struct cubi_file *f);
/* The file ops all sockets but UDP share: the last close (irq off) and
 * the free after it (interrupts enabled: drops queued messages, rights,
 * a listener's unaccepted connections). */
void *cubi_sock_release(struct cubi_file *f);
void cubi_sock_free(void *mem);
/* s's readiness, and its peer's, may have changed (irq off). */
void cubi_sock_changed(struct cubi_sock *s);
/* Shared by the last close (socket.c) and shutdown (socket_bind.c):
 * resets a listener's queued connections (irq off): their clients get
 * ECONNRESET; the sockets stay on the queue, detached, to be freed. */
void cubi_sock_reset_queue(struct cubi_sock *l);
/* Frees every socket on q (interrupts enabled; nothing refers to them). */
void cubi_sock_free_queue(struct cub_list *q);
/* Whether closing TCP socket s resets its connection rather than end it
 * with FIN (irq off): SO_LINGER {1, 0}, or unread data (Linux's
 * tcp_close). */
static inline bool cubi_sock_close_resets(const struct cubi_sock *s)
{
	return s->len || (s->linger[0] && !s->linger[1]);
}

/* s's pending error (ECONNREFUSED, ECONNRESET), cleared, or 0 (irq off):
 * the datagram kinds report it once, from their next call. */
long cubi_sock_take_err(struct cubi_sock *s);

/* socket_addr.c */
/* True for an address in 127.0.0.0/8. */
bool cubi_sock_loopback(uint32_t addr);
/* The listening stream socket for a connection to addr:port, or NULL
 * (irq off). */
struct cubi_sock *cubi_sock_find_listener(uint32_t addr, uint16_t port);
/* s's own name, or its peer's (irq off). */
void cubi_sock_name(const struct cubi_sock *s, bool peer, struct cubi_saddr *sa);
/* Linux's move_addr_to_kernel: len 0..128 (else -EINVAL), readable
 * (-EFAULT); buf is zero-filled past len. */
long cubi_sock_addr_in(uintptr_t u, int len, uint8_t buf[CUBI_ADDR_MAX]);
/* Checks an (addr, *addrlen) pair a call will fill: *addrlen readable
 * (-EFAULT) and >= 0 (-EINVAL), room for a sockaddr_in (-EFAULT). */
long cubi_sock_addr_out_ok(uintptr_t uaddr, uintptr_t ulen);
/* Linux's move_addr_to_user: copies min(*ulen, sa->len) bytes, then
 * stores sa->len in *ulen (a longer address is truncated). */
long cubi_sock_addr_out(uintptr_t uaddr, uintptr_t ulen, const struct cubi_saddr *sa);
/* sa = the sockaddr_in of addr:port (host order). */
void cubi_sock_sin(struct cubi_saddr *sa, uint32_t addr, uint16_t port);
/* Binds s to addr:port in its type's port space; port 0 picks a free
 * ephemeral one. 0 or -EADDRINUSE (irq off). */
long cubi_sock_bind(struct cubi_sock *s, uint32_t addr, uint16_t port);
/* Gives up s's port (irq off; a bind the network refused). */
void cubi_sock_unbind(struct cubi_sock *s);
/* The socket of this type bound to port on dst or on 0.0.0.0, or NULL
 * (irq off; bind keeps such sockets from overlapping: at most one). */
struct cubi_sock *cubi_sock_bound(int type, uint32_t dst, uint16_t port);

/* socket_stream.c: appends what fits of buf[0..n) to stream socket s's
 * ring (irq off; the network pump's receive, socket_tcpnet.c): the
 * count. */
size_t cubi_sock_ring_put(struct cubi_sock *s, const void *buf, size_t n);
/* socket_stream.c: the read, peek, write and poll ops (irq off). */
long cubi_sock_read(struct cubi_file *f, void *buf, size_t n);
long cubi_sock_peek(struct cubi_file *f, void *buf, size_t n);
long cubi_sock_write(struct cubi_file *f, const void *buf, size_t n);
uint32_t cubi_sock_poll(struct cubi_file *f);
long cubi_sock_inq(struct cubi_file *f);	/* FIONREAD */
/* What one stream send or receive call carries across its attempts (on
 * the caller's stack; the caller puts tx and drop when the call ends). */
struct cubi_xctx {
	struct cubi_rights *tx;	/* send: rights for its first bytes */
	struct cubi_fdset *set;	/* recvmsg: where rights go (NULL: closed) */
	struct cubi_rights *drop;	/* receive: taken rights to close */
	bool ended;		/* receive: at or past rights: the call ends */
};
/* A send or receive call's transfer of up to n bytes between the
 * program's buffer (checked by the caller) and stream socket fd, with the
 * MSG_ flags; skip: what the call moved before (a MSG_PEEK looks that far
 * in); x: never NULL. The bytes moved, or -errno (-EAGAIN only when
 * non-blocking). Interrupts enabled: it takes the critical section for
 * each attempt and waits outside it. socket_sendrecv.c's calls run it. */
long cubi_stream_xfer(uint64_t fd, uintptr_t buf, size_t n, unsigned flags, bool out,
		      size_t skip, struct cubi_xctx *x);

/* socket_rights.c: SCM_RIGHTS. */
/* sendmsg's control data on an AF_UNIX socket: its SCM_RIGHTS
 * descriptors, held, in *out (NULL: none). 0, -EINVAL (a bad cmsg,
 * SCM_CREDENTIALS, another SOL_SOCKET type, more than CUBI_SCM_MAX
 * descriptors), -EBADF, -EFAULT, -ENOBUFS (control data too long),
 * -ENOMEM. Interrupts enabled. */
long cubi_rights_in(const struct msghdr_user *m, struct cubi_rights **out);
/* Drops the references and frees r (interrupts enabled; NULL: none). */
void cubi_rights_put(struct cubi_rights *r);
/* Adds r's files to set (irq off): moved (r->n becomes 0) or, peek,
 * with new references. False when they do not fit (set left alone). */
bool cubi_rights_grab(struct cubi_rights *r, struct cubi_fdset *set, bool peek);
/* Writes a receive's control data into m's control buffer: first, when
 * cred_pid >= 0 (the socket has SO_PASSCRED), SCM_CREDENTIALS {cred_pid,
 * 0, 0}; then installs set's files as descriptors in the receiver and
 * writes their SCM_RIGHTS message, as far as both have room (the rest
 * are closed: MSG_CTRUNC in m->flags); sets m->controllen to the bytes
 * used. cloexec: MSG_CMSG_CLOEXEC. Interrupts enabled. */
void cubi_rights_out(struct cubi_fdset *set, struct msghdr_user *m, bool cloexec,
		     int32_t cred_pid);
/* socket_opt.c: SO_PASSCRED is set on socket fd (false: not a socket). */
bool cubi_sock_passcred(uint64_t fd);
/* Closes what a stream socket's rights and stale lists hold (interrupts
 * enabled; nothing else refers to s). */
void cubi_rights_drop_all(struct cubi_sock *s);

/* socket_gc.c: SCM_RIGHTS cycles. */
/* Lists r among the records in flight (irq off). */
void cubi_gc_track(struct cubi_rights *r);
/* Takes r off that list (irq off). */
void cubi_gc_untrack(struct cubi_rights *r);
/* Closes the AF_UNIX sockets that only the rights in their own queues
 * (or those of other such sockets) keep open (interrupts enabled, no
 * lock held: it puts files). The sockets' `closed` op. */
void cubi_unix_gc(void);

/* socket_unix.c: AF_UNIX names. a is cubi_sock_addr_in's buffer (zeros
 * past len). */
/* bind of AF_UNIX socket s, which the caller holds a reference to
 * (interrupts enabled: a path takes the fs lock). */
long cubi_unix_bind(struct cubi_sock *s, const uint8_t *a, int len);
/* connect's lookup (interrupts enabled): *id of the socket the name
 * leads to; -EINVAL (not a sockaddr_un), the path walk's errors,
 * -ECONNREFUSED (no socket node or no such abstract name). The socket
 * may be gone by the time the caller looks: cubi_unix_find. */
long cubi_unix_lookup(const uint8_t *a, int len, uint32_t *id);
/* The socket bound with this id, or NULL (irq off). */
struct cubi_sock *cubi_unix_find(uint32_t id);
/* sa = the sockaddr_un of a name of n bytes (n 0: unnamed). */
void cubi_unix_saddr(struct cubi_saddr *sa, const char *name, size_t n);

#endif
