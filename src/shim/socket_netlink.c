/*
 * socket_netlink.c - AF_NETLINK sockets of protocol NETLINK_ROUTE, enough
 * for musl's getifaddrs and if_nameindex and Go's net.Interfaces and
 * net.InterfaceAddrs: socket (SOCK_RAW or SOCK_DGRAM, as Linux takes
 * both; other netlink protocols -EPROTONOSUPPORT, socketpair
 * -EOPNOTSUPP), bind, connect, getsockname/getpeername, the send and
 * receive calls, read/write, poll and epoll, close (socket.c creates and
 * frees them like its other sockets; socket.h is the interface). What
 * the kernel answers is socket_rtnl.c's.
 *
 * Port ids, as Linux's af_netlink.c: bind with nl_pid 0, connect and the
 * first send of an unbound socket (autobind) give the process id (1) to
 * the first socket that asks, then -4096, -4097, ... (Linux picks other
 * negative ids); bind to a given nl_pid takes it unless another socket
 * holds it (-EADDRINUSE); a bound socket's bind must name its own id
 * (-EINVAL). getsockname shows {AF_NETLINK, nl_pid, the groups bind
 * named} (nl_pid 0 while unbound); getpeername the connected
 * destination ({AF_NETLINK, 0, 0} unless connect named another), in any
 * state, as Linux's netlink_getname. An address shorter than a
 * sockaddr_nl (12 bytes) or of another family: -EINVAL (connect takes
 * AF_UNSPEC: back to the kernel).
 *
 * A send is one message of at most CUBI_UMSG_MAX bytes (else -EMSGSIZE)
 * to a destination port id: sendto's/msg_name's nl_pid, else the
 * connected one (0, the kernel, unless connect named another). To the
 * kernel: socket_rtnl.c answers it at once and the answers are queued on
 * the sender, so a MSG_DONTWAIT receive right after the send finds them
 * (musl relies on it); if they do not fit the queue's budget
 * (CUBI_UDP_BUDGET), none is queued and the next receive fails -ENOBUFS
 * once, as Linux's overrun does. To another port id: queued whole on the
 * socket holding it, or -ECONNREFUSED (nobody holds it, or that socket is
 * connected to another); a full receiver: -EAGAIN (no wait; Linux's
 * blocking send would wait). Multicast groups are recorded for
 * getsockname and nothing is ever broadcast to them (nothing changes on a
 * machine with only lo). Control data: -EINVAL; MSG_OOB: -EOPNOTSUPP;
 * other flags as Linux: ignored but MSG_DONTWAIT, MSG_PEEK, MSG_TRUNC.
 * A receive takes the oldest queued datagram as UDP does (a shorter
 * buffer gets its first bytes, the rest is discarded: MSG_TRUNC in
 * msg_flags, and as a receive flag the real length is returned; MSG_PEEK
 * leaves it), the sender's sockaddr_nl as its address (nl_pid 0: the
 * kernel); an empty queue blocks unless O_NONBLOCK or MSG_DONTWAIT
 * (-EAGAIN; a signal: -EINTR). listen, accept and shutdown: -EOPNOTSUPP
 * (socket.c, socket_conn.c). Options: SOL_SOCKET's as for every socket;
 * SOL_NETLINK's (NETLINK_EXT_ACK, ...): -ENOPROTOOPT.
 *
 * Invariants: a netlink socket is on `nl_bound` iff in_table, and then
 * its nl_pid is nonzero and no other socket's there; dbytes is the sum
 * of cubi_dgram_cost over its queue (at most CUBI_UDP_BUDGET); every
 * change of what nl_poll reports goes through cubi_sock_changed.
 *
 * Locking: the fd layer's critical section (interrupts disabled) around
 * every look at a socket, its queue and `nl_bound`; the program's
 * buffers are checked and copied inside it. Messages and answers are
 * allocated, and socket_rtnl.c makes the answers, outside it; the calls
 * hold a reference to the file (cubi_fd_get, or the fd layer's for the
 * io op), so the socket stays while they wait.
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/list.h>
#include <cubrt/string.h>

#include "socket.h"
#include "socket_msg.h"

#define NETLINK_ROUTE 0
#define SNL_SIZE 12u		/* sizeof(struct sockaddr_nl) */
#define PROCESS_PID 1u		/* getpid's answer (misc.c) */
#define ROVER_START 0xfffff000u	/* -4096 */
#define MSG_OOB 0x1u
#define S_IFSOCK 0140000u

static struct cub_list nl_bound = CUB_LIST_INIT(nl_bound);
static uint32_t rover = ROVER_START;	/* the next negative id to try */

/* What a receive took: the sender's port id, the message's length. */
struct taken {
	uint32_t pid;
	size_t len;
	bool have;
};

static struct cubi_sock *of_file(struct cubi_file *f)
{
	return cub_container_of(f, struct cubi_sock, file);
}

long cubi_nl_check(int kind, int proto, bool pair)
{
	if (kind != CUBI_SOCK_RAW && kind != CUBI_SOCK_DGRAM)
		return -CUB_ESOCKTNOSUPPORT;
	if (proto != NETLINK_ROUTE)
		return -CUB_EPROTONOSUPPORT;
	return pair ? -CUB_EOPNOTSUPP : 0;
}

/* ------------------------------------------------------------ port ids */

static struct cubi_sock *by_pid(uint32_t pid)
{
	struct cub_list *pos;

	cub_list_for_each(pos, &nl_bound) {
		struct cubi_sock *s = cub_container_of(pos, struct cubi_sock, link);

		if (s->nl_pid == pid)
			return s;
	}
	return NULL;
}

static long insert(struct cubi_sock *s, uint32_t pid)
{
	if (by_pid(pid))
		return -CUB_EADDRINUSE;
	s->nl_pid = pid;
	s->in_table = true;
	cub_list_push_back(&nl_bound, &s->link);
	return 0;
}

/* Linux's netlink_autobind (irq off): the process id, else a negative
 * one (there are far fewer sockets than ids: the search ends). */
static long autobind(struct cubi_sock *s)
{
	if (s->in_table)
		return 0;
	if (!insert(s, PROCESS_PID))
		return 0;
	for (;;) {
		uint32_t p = rover;

		rover = rover == 0x80000000u ? ROVER_START : rover - 1;
		if (!insert(s, p))
			return 0;
	}
}

/* ----------------------------------------------------------- addresses */

void cubi_nl_saddr(struct cubi_saddr *sa, uint32_t pid, uint32_t groups)
{
	cub_memset(sa, 0, sizeof(*sa));
	sa->b[0] = CUBI_AF_NETLINK;
	cub_memcpy(sa->b + 4, &pid, sizeof(pid));
	cub_memcpy(sa->b + 8, &groups, sizeof(groups));
	sa->len = SNL_SIZE;
}

/* A sockaddr_nl's nl_pid and nl_groups: 0, or -EINVAL for a short one or
 * another family. */
static long snl_in(const uint8_t *a, int len, uint32_t *pid, uint32_t *groups)
{
	if ((unsigned)len < SNL_SIZE || cubi_sa_family(a) != CUBI_AF_NETLINK)
		return -CUB_EINVAL;
	cub_memcpy(pid, a + 4, sizeof(*pid));
	cub_memcpy(groups, a + 8, sizeof(*groups));
	return 0;
}

long cubi_nl_bind(struct cubi_sock *s, const uint8_t *a, int len)
{
	uint32_t pid, groups;
	long rc = snl_in(a, len, &pid, &groups);

	if (rc)
		return rc;
	if (s->in_table && pid != s->nl_pid)
		return -CUB_EINVAL;
	if (!s->in_table && (rc = pid ? insert(s, pid) : autobind(s)) != 0)
		return rc;
	s->nl_groups = groups;
	return 0;
}

long cubi_nl_connect(struct cubi_sock *s, const uint8_t *a, int len)
{
	uint32_t pid, groups;
	long rc;

	if ((unsigned)len < 2)
		return -CUB_EINVAL;
	if (cubi_sa_family(a) == 0) {		/* AF_UNSPEC: the kernel again */
		s->state = CUBI_SOCK_UNCONNECTED;
		s->nl_dst = s->nl_dst_group = 0;
		return 0;
	}
	if ((rc = snl_in(a, len, &pid, &groups)) != 0)
		return rc;
	(void)autobind(s);
	s->state = CUBI_SOCK_CONNECTED;
	s->nl_dst = pid;
	s->nl_dst_group = groups & -groups;	/* the lowest group, as ffs */
	return 0;
}

/* ---------------------------------------------------------------- send */

/* Queues the kernel's answers on s (irq off), or drops them all and
 * makes the next receive fail -ENOBUFS when they do not fit. */
static void queue_answers(struct cubi_sock *s, struct cub_list *ans)
{
	size_t cost = 0;
	struct cub_list *pos;

	cub_list_for_each(pos, ans)
		cost += cubi_dgram_cost(cub_container_of(pos, struct cubi_dgram, link)->len);
	if (s->dbytes + cost > CUBI_UDP_BUDGET) {
		s->err = CUB_ENOBUFS;
		cubi_sock_changed(s);
		return;
	}
	while (!cub_list_empty(ans))
		cubi_dgram_queue(s, cub_container_of(cub_list_pop_front(ans),
						     struct cubi_dgram, link));
}

/* One send (irq off) of d->len bytes from u in d to port id *to (NULL:
 * the connected one): the length, or -errno. *dp = NULL when d was
 * queued on another socket; d->addr is the sender's port id. */
static long send_locked(struct cubi_sock *s, const struct cubi_ubuf *u, const uint32_t *to,
			struct cubi_dgram **dp)
{
	struct cubi_dgram *d = *dp;
	uint32_t dst = to ? *to : s->nl_dst;
	struct cubi_sock *r;
	long rc;

	(void)autobind(s);
	if ((rc = cubi_ucopy(u, d->data, d->len, true)) < 0)
		return rc;
	d->len = (size_t)rc;
	d->addr = s->nl_pid;
	if (!dst)
		return rc;			/* the kernel: the caller answers */
	r = by_pid(dst);
	if (!r || (r->state == CUBI_SOCK_CONNECTED && r->nl_dst != s->nl_pid))
		return -CUB_ECONNREFUSED;
	if (r->dbytes + cubi_dgram_cost(d->len) > CUBI_UDP_BUDGET)
		return -CUB_EAGAIN;
	cubi_dgram_queue(r, d);
	*dp = NULL;
	return rc;
}

/* Sends n bytes from u as one message from s (a reference held). */
static long nl_send(struct cubi_sock *s, const struct cubi_ubuf *u, size_t n, const uint32_t *to)
{
	struct cub_list ans = CUB_LIST_INIT(ans);
	struct cubi_dgram *d;
	unsigned long irq;
	long rc;

	if (n > CUBI_UMSG_MAX)
		return -CUB_EMSGSIZE;
	if (!(d = cub_malloc(sizeof(*d) + n)))
		return -CUB_ENOMEM;
	*d = (struct cubi_dgram){ .len = n };
	irq = cub_arch_irq_save();
	rc = send_locked(s, u, to, &d);
	cub_arch_irq_restore(irq);
	if (rc >= 0 && d) {
		long arc = cubi_rtnl_answer(d->data, d->len, d->addr, &ans);

		irq = cub_arch_irq_save();
		if (arc == 0)
			queue_answers(s, &ans);
		cub_arch_irq_restore(irq);
		rc = arc ? arc : rc;
	}
	while (!cub_list_empty(&ans))		/* not queued */
		cub_free(cub_container_of(cub_list_pop_front(&ans), struct cubi_dgram, link));
	cub_free(d);
	return rc;
}

/* ------------------------------------------------------------- receive */

/* One receive attempt (irq off): the bytes copied, -EAGAIN when the
 * caller must wait, or -errno; a taken datagram goes to *dp. */
static long recv_locked(struct cubi_sock *s, const struct cubi_recv *r, struct cubi_dgram **dp)
{
	struct taken *t = r->took;
	struct cubi_dgram *d;
	long rc = cubi_sock_take_err(s);

	if (rc)
		return rc;
	if (cub_list_empty(&s->dgrams))
		return -CUB_EAGAIN;
	d = cub_container_of(cub_list_first(&s->dgrams), struct cubi_dgram, link);
	*t = (struct taken){ d->addr, d->len, true };
	return cubi_dgram_take(s, r->u, r->flags & MSG_PEEK, dp);
}

/* Receives one message into u for s (a reference held), waiting for one
 * unless non-blocking: the bytes copied, or -errno. */
static long nl_recv(struct cubi_sock *s, const struct cubi_ubuf *u, unsigned flags, struct taken *t)
{
	struct cubi_recv r = { u, flags, t, NULL };

	t->have = false;
	return cubi_dgram_recv(s, &r, recv_locked, "netlink recv");
}

/* ------------------------------------------------------------ file ops */

/* read and write (the fd layer checked buf; a reference is held). */
static long nl_io(struct cubi_file *f, void *buf, size_t n, int64_t off, bool out)
{
	struct cubi_ubuf u = { (uintptr_t)buf, 0, n };
	struct taken t;

	(void)off;
	return out ? nl_send(of_file(f), &u, n, NULL) : nl_recv(of_file(f), &u, 0, &t);
}

static uint32_t nl_poll(struct cubi_file *f)
{
	struct cubi_sock *s = of_file(f);
	uint32_t ev = CUBI_EPOLLOUT | CUBI_EPOLLWRNORM;

	if (s->err)
		ev |= CUBI_EPOLLERR;
	if (!cub_list_empty(&s->dgrams))
		ev |= CUBI_EPOLLIN | CUBI_EPOLLRDNORM;
	return ev;
}

const struct cubi_file_ops cubi_nl_ops = {
	.io = nl_io, .poll = nl_poll, .release = cubi_sock_release, .free = cubi_sock_free,
	.mode = S_IFSOCK | 0777,
	.datagram = true,		/* readv/writev: one message (io.c) */
	.file_wakes = true,
};

/* ---------------------------------------------------------------- calls */

/* The netlink socket at fd with a reference (cubi_file_put it), or NULL
 * and *err. */
static struct cubi_sock *nl_get(uint64_t fd, long *err)
{
	struct cubi_file *f = cubi_fd_get(fd);

	*err = f ? -CUB_ENOTSOCK : -CUB_EBADF;
	if (f && f->ops != &cubi_nl_ops) {
		cubi_file_put(f);
		return NULL;
	}
	return f ? of_file(f) : NULL;
}

/* A send call: err (its arguments' checks) or the message's fate. */
static long send_fd(uint64_t fd, long err, const struct cubi_ubuf *u, size_t n, const uint32_t *to)
{
	long rc;
	struct cubi_sock *s = nl_get(fd, &rc);

	if (!s)
		return rc;
	rc = err ? err : nl_send(s, u, n, to);
	cubi_file_put(&s->file);
	return rc;
}

/* Receives one message into u: the bytes copied, or -errno; *sa the
 * sender's address, *len the message's real length. */
static long recv_fd(uint64_t fd, const struct cubi_ubuf *u, unsigned flags, struct cubi_saddr *sa,
		    size_t *len)
{
	struct taken t;
	long rc;
	struct cubi_sock *s = nl_get(fd, &rc);

	if (!s)
		return rc;
	rc = nl_recv(s, u, flags, &t);
	cubi_file_put(&s->file);
	if (rc >= 0) {
		cubi_nl_saddr(sa, t.pid, 0);
		*len = t.len;
	}
	return rc;
}

/* A destination of len bytes at u (len 0: none): 0 and *to, or -errno. */
static long dest_in(uintptr_t u, int len, uint32_t *to)
{
	uint8_t a[CUBI_ADDR_MAX];
	uint32_t groups;
	long rc = cubi_sock_addr_in(u, len, a);

	return rc ? rc : snl_in(a, len, to, &groups);
}

long cubi_nl_sendto(struct cub_shim_regs *r)
{
	struct cubi_ubuf u = { A1(r), 0, A2(r) };
	bool named = A4(r) && (int)A5(r);
	uint32_t to = 0;
	long rc = (unsigned)A3(r) & MSG_OOB ? -CUB_EOPNOTSUPP : 0;

	if (!rc && named)
		rc = dest_in(A4(r), (int)A5(r), &to);
	if (!rc && A2(r) <= CUBI_UMSG_MAX && !cubi_user_readable(A1(r), A2(r)))
		rc = -CUB_EFAULT;
	return send_fd(A0(r), rc, &u, A2(r), named ? &to : NULL);
}

long cubi_nl_recvfrom(struct cub_shim_regs *r)
{
	struct cubi_ubuf u = { A1(r), 0, A2(r) };
	unsigned flags = (unsigned)A3(r);
	struct cubi_saddr sa;
	size_t len;
	long rc;

	if (flags & MSG_OOB)
		return -CUB_EOPNOTSUPP;
	if (A4(r) && (rc = cubi_sock_addr_out_ok(A4(r), A5(r))) != 0)
		return rc;
	rc = recv_fd(A0(r), &u, flags, &sa, &len);
	if (rc >= 0 && A4(r) && cubi_sock_addr_out(A4(r), A5(r), &sa))
		return -CUB_EFAULT;
	return rc >= 0 && (flags & MSG_TRUNC) ? (long)len : rc;
}

long cubi_nl_sendmsg(uint64_t fd, const struct msghdr_user *m, unsigned flags)
{
	struct cubi_ubuf u = { 0, m->iov, m->iovlen };
	long n = cubi_iov_total(m, CUBI_UMSG_MAX), rc = n < 0 ? n : 0;
	bool named = m->name && m->namelen;
	uint32_t to = 0;

	if (!rc && (flags & MSG_OOB))
		rc = -CUB_EOPNOTSUPP;
	if (!rc && m->controllen)
		rc = -CUB_EINVAL;
	if (!rc && named)
		rc = dest_in(m->name, (int)m->namelen, &to);
	return send_fd(fd, rc, &u, (size_t)CUB_MAX(n, 0), named ? &to : NULL);
}

long cubi_nl_recvmsg(uint64_t fd, uintptr_t umsg, struct msghdr_user *m, unsigned flags)
{
	struct cubi_ubuf u = { 0, m->iov, m->iovlen };
	struct cubi_saddr sa;
	size_t len;
	long rc;

	if (flags & MSG_OOB)
		return -CUB_EOPNOTSUPP;
	if (m->name && (int32_t)m->namelen < 0)
		return -CUB_EINVAL;
	rc = recv_fd(fd, &u, flags, &sa, &len);
	if (rc < 0)
		return rc;
	if (m->name && cubi_copy_out(m->name, sa.b, CUB_MIN(m->namelen, sa.len)))
		return -CUB_EFAULT;
	if (m->name)
		m->namelen = sa.len;
	m->controllen = 0;
	m->flags = (size_t)rc < len ? (int32_t)MSG_TRUNC : 0;
	if (cubi_copy_out(umsg, m, sizeof(*m)))
		return -CUB_EFAULT;
	return flags & MSG_TRUNC ? (long)len : rc;
}
