/*
 * socket_msg.h - the message sockets' part of the sockets' private
 * interface (socket.h has the rest: the socket object, addresses,
 * streams, SCM_RIGHTS, AF_UNIX names): the queued message (struct
 * cubi_dgram) and its queue, socket_dgram.c, which UDP (socket_udp.c),
 * AF_UNIX SOCK_DGRAM and SOCK_SEQPACKET (socket_umsg.c,
 * socket_umsg_calls.c) and AF_NETLINK (socket_netlink.c, with
 * rtnetlink's answers in socket_rtnl.c) share.
 *
 * Locking: socket.h's (the fd layer's critical section; "irq off" marks
 * the functions that expect it held).
 */
#ifndef CUBRT_SHIM_SOCKET_MSG_H
#define CUBRT_SHIM_SOCKET_MSG_H

#include "socket.h"

/* A queued message (UDP datagram, AF_UNIX message, netlink message):
 * the sender (UDP: addr:port; AF_UNIX: its name, name_len bytes at the
 * start of data, 0: unnamed; AF_NETLINK: its port id in addr, 0: the
 * kernel), rights (AF_UNIX, or NULL), len bytes of payload after the
 * name. */
struct cubi_dgram {
	struct cub_list link;	/* on the receiver's dgrams */
	uint32_t addr;
	uint16_t port;
	uint8_t name_len;
	struct cubi_rights *rights;
	size_t len;
	unsigned char data[];
};

/* socket_udp.c: the file ops of UDP sockets (sock_new uses them); the
 * calls socket_conn.c and socket_sendrecv.c hand UDP sockets to: connect
 * (irq off; a is cubi_sock_addr_in's buffer), sendto, recvfrom, and
 * sendmsg/recvmsg after the header and iovecs passed socket_sendrecv.c's
 * checks. */
extern const struct cubi_file_ops cubi_udp_ops;
long cubi_udp_connect(struct cubi_sock *s, const uint8_t *a, int len);
long cubi_udp_sendto(struct cub_shim_regs *r);
long cubi_udp_recvfrom(struct cub_shim_regs *r);
long cubi_udp_sendmsg(uint64_t fd, const struct msghdr_user *m, unsigned flags);
long cubi_udp_recvmsg(uint64_t fd, uintptr_t umsg, struct msghdr_user *m, unsigned flags);

/* socket_dgram.c: the message queue (a socket's dgrams and dbytes) that
 * socket_udp.c and socket_umsg.c share, and the copies to and from the
 * program's buffers both use. */
/* What a message of len bytes costs of its receiver's budget. */
size_t cubi_dgram_cost(size_t len);
/* Copies up to n bytes between data and u (in: from u), irq off: the
 * bytes copied, or -EFAULT. */
long cubi_ucopy(const struct cubi_ubuf *u, unsigned char *data, size_t n, bool in);
/* Appends d to r's queue (irq off). */
void cubi_dgram_queue(struct cubi_sock *r, struct cubi_dgram *d);
/* Copies the oldest message's payload into u (irq off): the bytes
 * copied, -EFAULT (it stays), or -EAGAIN (none). Unless peek, it leaves
 * the queue for *dp (the caller frees it after the critical section). */
long cubi_dgram_take(struct cubi_sock *s, const struct cubi_ubuf *u, bool peek,
		     struct cubi_dgram **dp);
/* The iovecs' total (socket_sendrecv.c checked them; read again): at
 * most max, else -EMSGSIZE; -EFAULT if they went away. */
long cubi_iov_total(const struct msghdr_user *m, size_t max);
/* Frees a message and drops its rights (interrupts enabled; NULL: none). */
void cubi_dgram_free(struct cubi_dgram *d);
/* FIONREAD of a message socket (irq off): the payload bytes of its next
 * message, or of all its queued ones (all); 0 when none. */
size_t cubi_dgram_inq(const struct cubi_sock *s, bool all);
/* A message receive in progress: where its attempts copy to (u), how
 * (flags: MSG_PEEK, MSG_DONTWAIT, ...), the caller's record of what was
 * taken (took: each kind has its own) and where rights go (AF_UNIX;
 * NULL: closed with the message). */
struct cubi_recv {
	const struct cubi_ubuf *u;
	unsigned flags;
	void *took;
	struct cubi_fdset *set;
};
/* One attempt (irq off): the bytes copied, 0 at end of file, -EAGAIN
 * while the caller must wait, or -errno; a message taken off the queue
 * goes to *dp. */
typedef long (*cubi_recv_try)(struct cubi_sock *s, const struct cubi_recv *r,
			      struct cubi_dgram **dp);
/* Receives one message for s (a reference held; interrupts enabled):
 * runs try in the fd layer's critical section until it answers anything
 * but -EAGAIN, waiting on s between attempts unless O_NONBLOCK or
 * MSG_DONTWAIT (a signal: -EINTR; s's SO_RCVTIMEO running out: -EAGAIN); frees each message try took (rights
 * nobody took close with it). what names the wait. */
long cubi_dgram_recv(struct cubi_sock *s, const struct cubi_recv *r, cubi_recv_try try,
		     const char *what);

/* socket_umsg.c: AF_UNIX SOCK_DGRAM and SOCK_SEQPACKET. The file ops;
 * connect of a SOCK_DGRAM socket (irq off; id: what the name led to, 0
 * for AF_UNSPEC). */
extern const struct cubi_file_ops cubi_umsg_ops;
long cubi_umsg_connect(struct cubi_sock *s, uint32_t id);
/* A send's destination: a name (a is cubi_sock_addr_in's buffer, len its
 * length) or none (a NULL); id is cubi_umsg_send's scratch. */
struct cubi_umsg_to {
	const uint8_t *a;
	int len;
	uint32_t id;		/* what the name led to */
};
/* What a receive took: the message's real length, its sender's name;
 * have is false when there was none (end of file). */
struct cubi_umsg_took {
	size_t len;
	bool have;
	uint8_t name_len;
	char name[CUBI_SUN_NAME];
};
/* cubi_umsg_send: one message of n bytes from u sent from s, with the
 * rights *rp (taken when sent; the caller puts what is left), waiting
 * while the receiver is full unless non-blocking: the length sent, or
 * -errno. cubi_umsg_recv: one message received into u (*t: what was
 * taken; its rights into set, NULL: closed), waiting unless
 * non-blocking: the bytes copied, or -errno. For the calls
 * (socket_umsg_calls.c) and the file ops; the caller holds a reference
 * to s; interrupts enabled (they allocate, free and wait). */
long cubi_umsg_send(struct cubi_sock *s, const struct cubi_ubuf *u, size_t n,
		    struct cubi_umsg_to *to, unsigned flags, struct cubi_rights **rp);
long cubi_umsg_recv(struct cubi_sock *s, const struct cubi_ubuf *u, unsigned flags,
		    struct cubi_umsg_took *t, struct cubi_fdset *set);

/* socket_umsg_calls.c: the calls socket_sendrecv.c hands AF_UNIX message
 * sockets (after its checks of the msghdr and its iovecs). */
long cubi_umsg_sendto(struct cub_shim_regs *r);
long cubi_umsg_recvfrom(struct cub_shim_regs *r);
long cubi_umsg_sendmsg(uint64_t fd, const struct msghdr_user *m, unsigned flags);
long cubi_umsg_recvmsg(uint64_t fd, uintptr_t umsg, struct msghdr_user *m, unsigned flags);

/* socket_netlink.c: AF_NETLINK sockets (NETLINK_ROUTE only). */
extern const struct cubi_file_ops cubi_nl_ops;
/* socket's and socketpair's (pair) checks of a netlink type (without
 * flags) and protocol: 0 or -errno, in Linux's order. */
long cubi_nl_check(int kind, int proto, bool pair);
/* bind and connect of netlink socket s (irq off); a is
 * cubi_sock_addr_in's buffer, len its length. */
long cubi_nl_bind(struct cubi_sock *s, const uint8_t *a, int len);
long cubi_nl_connect(struct cubi_sock *s, const uint8_t *a, int len);
/* sa = the sockaddr_nl of port id pid in groups. */
void cubi_nl_saddr(struct cubi_saddr *sa, uint32_t pid, uint32_t groups);
/* The calls socket_sendrecv.c hands netlink sockets (sendmsg and
 * recvmsg after its checks of the msghdr and its iovecs). */
long cubi_nl_sendto(struct cub_shim_regs *r);
long cubi_nl_recvfrom(struct cub_shim_regs *r);
long cubi_nl_sendmsg(uint64_t fd, const struct msghdr_user *m, unsigned flags);
long cubi_nl_recvmsg(uint64_t fd, uintptr_t umsg, struct msghdr_user *m, unsigned flags);

/* socket_rtnl.c: rtnetlink's answers. */
/* Answers the requests in req (n bytes, sent by port id pid) as Linux's
 * netlink_rcv_skb and rtnetlink do: each reply datagram, allocated
 * (interrupts enabled), is appended to out (struct cubi_dgram, from the
 * kernel: addr 0). 0, or -ENOMEM (out holds what was made). */
long cubi_rtnl_answer(const unsigned char *req, size_t n, uint32_t pid, struct cub_list *out);

#endif
