/*
 * socket_addr.c - socket addresses and the port table (socket.h is the
 * interface): sockaddrs copied in from the program and out to it (Linux's
 * move_addr_to_kernel and move_addr_to_user), the sockaddr_in and
 * AF_UNIX names a socket shows (getsockname, getpeername), and the TCP
 * and UDP ports: binding a socket to one (an ephemeral one for port 0),
 * finding the socket bound to a destination and the listener for a
 * connection. socket.c's header comment has the rules for ports
 * (overlapping addresses, the ephemeral range, TCP and UDP apart); the
 * bind and listen calls, which bind through here, are socket_bind.c's;
 * AF_UNIX names are socket_unix.c's.
 *
 * Invariants: a TCP or UDP socket is on `bound` iff in_table (it holds
 * its port, never 0); cubi_sock_bind puts it there, the last close
 * (socket.c, socket_udp.c) and a UDP disconnect giving up a picked port
 * (socket_udp.c) take it off. next_port stays in EPH_LO..EPH_HI.
 *
 * Locking: the fd layer's critical section (interrupts disabled, fd.c)
 * around every look at or change of the port table and of a socket's
 * addresses: the functions socket.h marks "irq off" expect it held,
 * getsockname and getpeername take it. cubi_sock_addr_in, _addr_out_ok
 * and _addr_out touch the program's memory: callers run them outside it.
 */
#include <cubrt/arch.h>
#include <cubrt/list.h>
#include <cubrt/string.h>

#include "socket.h"
#include "socket_msg.h"

#define EPH_LO 32768u		/* Linux's default ip_local_port_range */
#define EPH_HI 60999u

static struct cub_list bound = CUB_LIST_INIT(bound);
static unsigned next_port = EPH_LO;	/* where the ephemeral search begins */

/* ----------------------------------------------------------- addresses */

long cubi_sock_addr_in(uintptr_t u, int len, uint8_t buf[CUBI_ADDR_MAX])
{
	if (len < 0 || len > CUBI_ADDR_MAX)
		return -CUB_EINVAL;
	cub_memset(buf, 0, CUBI_ADDR_MAX);
	return cubi_copy_in(buf, u, (size_t)len);
}

void cubi_sock_sin(struct cubi_saddr *sa, uint32_t addr, uint16_t port)
{
	cub_memset(sa, 0, sizeof(*sa));
	sa->b[0] = CUBI_AF_INET;
	sa->len = CUBI_SIN_SIZE;
	sa->b[2] = (uint8_t)(port >> 8);
	sa->b[3] = (uint8_t)port;
	for (int i = 0; i < 4; i++)
		sa->b[4 + i] = (uint8_t)(addr >> (24 - 8 * i));
}

/* The address of s (or of its peer) as getsockname shows it (irq off). */
void cubi_sock_name(const struct cubi_sock *s, bool peer, struct cubi_saddr *sa)
{
	if (s->domain == CUBI_AF_INET) {
		cubi_sock_sin(sa, peer ? s->peer_addr : s->addr, peer ? s->peer_port : s->port);
		return;
	}
	if (s->domain == CUBI_AF_NETLINK) {
		cubi_nl_saddr(sa, peer ? s->nl_dst : s->nl_pid, peer ? s->nl_dst_group : s->nl_groups);
		return;
	}
	if (peer)
		cubi_unix_saddr(sa, s->un_peer, s->un_peer_len);
	else
		cubi_unix_saddr(sa, s->un_name, s->un_len);
}

long cubi_sock_addr_out_ok(uintptr_t uaddr, uintptr_t ulen)
{
	int len;

	if (cubi_copy_in(&len, ulen, sizeof(len)))
		return -CUB_EFAULT;
	if (len < 0)
		return -CUB_EINVAL;
	if (!cubi_user_writable(ulen, sizeof(len)) ||
	    !cubi_user_writable(uaddr, CUB_MIN((size_t)len, CUBI_SIN_SIZE)))
		return -CUB_EFAULT;
	return 0;
}

long cubi_sock_addr_out(uintptr_t uaddr, uintptr_t ulen, const struct cubi_saddr *sa)
{
	long rc = cubi_sock_addr_out_ok(uaddr, ulen);
	int len;

	if (rc)
		return rc;
	cub_memcpy(&len, (const void *)ulen, sizeof(len));
	if (cubi_copy_out(uaddr, sa->b, CUB_MIN((size_t)len, sa->len)) ||
	    cubi_copy_out(ulen, &sa->len, sizeof(sa->len)))
		return -CUB_EFAULT;
	return 0;
}

bool cubi_sock_loopback(uint32_t addr)
{
	return addr >> 24 == 127;
}

/* True when port on addr overlaps a bound socket's of this type (irq
 * off). */
static bool port_taken(int type, uint32_t addr, uint16_t port)
{
	struct cub_list *pos;

	cub_list_for_each(pos, &bound) {
		struct cubi_sock *b = cub_container_of(pos, struct cubi_sock, link);

		if (b->type == type && b->port == port && (!b->addr || !addr || b->addr == addr))
			return true;
	}
	return false;
}

struct cubi_sock *cubi_sock_bound(int type, uint32_t dst, uint16_t port)
{
	struct cub_list *pos;

	cub_list_for_each(pos, &bound) {
		struct cubi_sock *b = cub_container_of(pos, struct cubi_sock, link);

		if (b->type == type && b->port == port && (!b->addr || b->addr == dst))
			return b;
	}
	return NULL;
}

long cubi_sock_bind(struct cubi_sock *s, uint32_t addr, uint16_t port)
{
	s->port_auto = !port;
	for (unsigned i = 0; !port && i <= EPH_HI - EPH_LO; i++) {
		uint16_t p = (uint16_t)next_port;

		next_port = next_port == EPH_HI ? EPH_LO : next_port + 1;
		if (!port_taken(s->type, 0, p))
			port = p;
	}
	if (!port || port_taken(s->type, addr, port))
		return -CUB_EADDRINUSE;
	s->addr = addr;
	s->port = port;
	s->in_table = true;
	cub_list_push_back(&bound, &s->link);
	return 0;
}

void cubi_sock_unbind(struct cubi_sock *s)
{
	if (s->in_table)
		cub_list_del(&s->link);
	s->in_table = false;
	s->port = 0;
	s->addr = 0;
	s->port_auto = false;
}

/* The listener for a connection to addr:port (irq off), or NULL. */
struct cubi_sock *cubi_sock_find_listener(uint32_t addr, uint16_t port)
{
	struct cub_list *pos;

	cub_list_for_each(pos, &bound) {
		struct cubi_sock *l = cub_container_of(pos, struct cubi_sock, link);

		if (l->state == CUBI_SOCK_LISTENING && l->port == port && (!l->addr || l->addr == addr))
			return l;
	}
	return NULL;
}

/* ------------------------------------------------------------- names */

/* getsockname (peer false) and getpeername: 0.0.0.0:0 while unbound. */
static long name_of(struct cub_shim_regs *r, bool peer)
{
	struct cubi_saddr sa;
	long rc;
	unsigned long irq = cub_arch_irq_save();
	struct cubi_sock *s = cubi_sock_at(A0(r), &rc);

	if (s)
		rc = peer && s->state != CUBI_SOCK_CONNECTED &&
		     s->domain != CUBI_AF_NETLINK ? -CUB_ENOTCONN : 0;	/* netlink: any state */
	if (s && !rc)
		cubi_sock_name(s, peer, &sa);
	cub_arch_irq_restore(irq);
	return rc ? rc : cubi_sock_addr_out(A1(r), A2(r), &sa);
}

CUBI_SYS(getsockname)
{
	return name_of(r, false);
}

CUBI_SYS(getpeername)
{
	return name_of(r, true);
}
