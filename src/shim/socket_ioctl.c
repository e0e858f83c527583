/*
 * socket_ioctl.c - the ioctls of sockets (ioctl.c hands on what it does
 * not answer itself for every file; FIONREAD is each kind's inq op):
 *  - SIOCOUTQ (0x5411, int *): bytes sent and not yet taken: an AF_UNIX
 *    stream's peer ring (Linux charges them to the sender until read);
 *    0 for TCP (loopback acknowledges at once), UDP and AF_UNIX
 *    messages; -EINVAL on a listener (TCP, as Linux's tcp_ioctl);
 *    -ENOTTY on netlink sockets (Linux has no SIOCOUTQ there).
 *  - The interface requests, on any socket, about the interfaces there
 *    are ("lo", and "eth0" while the network card is up: netdev.c's
 *    cubi_netdev_if, the facts rtnetlink reports too), with Linux's
 *    struct ifreq (40 bytes: a 16-byte name, then the union) and struct
 *    ifconf: SIOCGIFCONF (an ifreq per interface, its IPv4 address, as
 *    many as fit; a NULL buffer asks the length), SIOCGIFNAME (index ->
 *    name), SIOCGIFINDEX, SIOCGIFFLAGS (the low 16 bits: lo's
 *    UP|LOOPBACK|RUNNING, eth0's UP|BROADCAST|RUNNING|MULTICAST),
 *    SIOCGIFADDR, SIOCGIFNETMASK, SIOCGIFMTU, SIOCGIFHWADDR (its ARPHRD_
 *    type and MAC: lo's zeros).
 *    Another name or index: -ENODEV. The setting ones (SIOCSIF*): -EPERM
 *    (the program has no CAP_NET_ADMIN), after the ifreq is read.
 *    Unreadable or unwritable structs: -EFAULT.
 *  - Everything else -ENOTTY.
 *
 * Locking: the socket's state is read inside the fd layer's critical
 * section (interrupts disabled); the interface facts do not change while
 * the program runs (netdev.h).
 * Contexts: task.
 */
#include <cubrt/arch.h>
#include <cubrt/string.h>

#include "netdev.h"
#include "socket.h"

#define SIOCOUTQ 0x5411u
#define SIOCGIFNAME 0x8910u
#define SIOCGIFCONF 0x8912u
#define SIOCGIFFLAGS 0x8913u
#define SIOCGIFADDR 0x8915u
#define SIOCGIFNETMASK 0x891bu
#define SIOCGIFMTU 0x8921u
#define SIOCGIFHWADDR 0x8927u
#define SIOCGIFINDEX 0x8933u
#define IFNAMSIZ 16

struct ifreq_user {		/* Linux's struct ifreq on x86-64 */
	char name[IFNAMSIZ];
	union {
		uint8_t sa[16];	/* struct sockaddr: family, then data */
		int16_t flags;
		int32_t ivalue;	/* ifindex, mtu */
		uint8_t pad[24];
	} u;
};

struct ifconf_user {		/* Linux's struct ifconf on x86-64 */
	int32_t len, pad;
	uint64_t buf;
};

static long outq(struct cubi_file *f, uintptr_t arg)
{
	struct cubi_sock *s = cub_container_of(f, struct cubi_sock, file);
	unsigned long irq = cub_arch_irq_save();
	long n = 0;

	if (s->domain == CUBI_AF_NETLINK)
		n = -CUB_ENOTTY;
	else if (s->state == CUBI_SOCK_LISTENING)
		n = s->domain == CUBI_AF_INET ? -CUB_EINVAL : 0;
	else if (s->type == CUBI_SOCK_STREAM && s->peer && (s->domain == CUBI_AF_UNIX || s->tn))
		n = (long)s->peer->len;
	cub_arch_irq_restore(irq);
	return n < 0 ? n : cubi_ioctl_int_out(arg, (int)n);
}

/* An AF_INET sockaddr of addr (host order) into sa. */
static void put_sin(uint8_t *sa, uint32_t addr)
{
	cub_memset(sa, 0, 16);
	sa[0] = CUBI_AF_INET;
	for (int i = 0; i < 4; i++)
		sa[4 + i] = (uint8_t)(addr >> (24 - 8 * i));
}

/* The request's answer for interface i into q: 0, or -ENOTTY for a
 * request that is no interface query. */
static long fill(unsigned cmd, struct ifreq_user *q, const struct cubi_ifinfo *i)
{
	cub_memset(&q->u, 0, sizeof(q->u));
	switch (cmd) {
	case SIOCGIFINDEX:
		q->u.ivalue = i->index;
		return 0;
	case SIOCGIFFLAGS:
		q->u.flags = (int16_t)(i->flags & 0xffffu);
		return 0;
	case SIOCGIFADDR:
		put_sin(q->u.sa, i->addr);
		return 0;
	case SIOCGIFNETMASK:
		put_sin(q->u.sa, ~0u << (32 - i->prefix));
		return 0;
	case SIOCGIFMTU:
		q->u.ivalue = (int32_t)i->mtu;
		return 0;
	case SIOCGIFHWADDR:
		q->u.sa[0] = i->type & 0xff;
		q->u.sa[1] = i->type >> 8;
		cub_memcpy(q->u.sa + 2, i->mac, 6);
		return 0;
	}
	return -CUB_ENOTTY;
}

/* SIOCGIF* on one struct ifreq, by name (or by index: SIOCGIFNAME). */
static long ifreq(unsigned cmd, uintptr_t arg)
{
	struct cubi_ifinfo i;
	struct ifreq_user q;
	long r;

	if (cubi_copy_in(&q, arg, sizeof(q)))
		return -CUB_EFAULT;
	q.name[IFNAMSIZ - 1] = '\0';
	if (cmd == SIOCGIFNAME) {
		if (!cubi_netdev_if(q.u.ivalue, &i))
			return -CUB_ENODEV;
		cub_memset(q.name, 0, IFNAMSIZ);
		cub_strlcpy(q.name, i.name, IFNAMSIZ);
	} else if (!cubi_netdev_if(cubi_netdev_if_named(q.name), &i)) {
		return -CUB_ENODEV;
	} else if ((r = fill(cmd, &q, &i)) < 0) {
		return r;
	}
	return cubi_copy_out(arg, &q, sizeof(q));
}

/* SIOCGIFCONF: one ifreq per IPv4 address (one per interface), as many
 * as fit (Linux's inet_gifconf); a NULL buffer: the length all need. */
static long ifconf(uintptr_t arg)
{
	struct ifconf_user c;
	struct cubi_ifinfo i;
	int32_t n = 0;

	if (cubi_copy_in(&c, arg, sizeof(c)))
		return -CUB_EFAULT;
	for (int k = 1; k <= CUBI_IF_MAX; k++) {
		struct ifreq_user q = { .name = { 0 } };

		if (!cubi_netdev_if(k, &i))
			continue;
		if (c.buf && c.len - n < (int32_t)sizeof(q))
			break;
		cub_strlcpy(q.name, i.name, IFNAMSIZ);
		(void)fill(SIOCGIFADDR, &q, &i);
		if (c.buf && cubi_copy_out(c.buf + (uint64_t)n, &q, sizeof(q)))
			return -CUB_EFAULT;
		n += (int32_t)sizeof(q);
	}
	c.len = n;
	return cubi_copy_out(arg, &c, sizeof(c));
}

/* The setting ones Linux has (SIOCSIFFLAGS .. SIOCSIFHWBROADCAST). */
static bool is_set(unsigned cmd)
{
	switch (cmd) {
	case 0x8914: case 0x8916: case 0x8918: case 0x891a: case 0x891c:
	case 0x891e: case 0x8920: case 0x8922: case 0x8923: case 0x8924:
	case 0x8930: case 0x8937: case 0x8938: case 0x8943:
		return true;
	}
	return false;
}

long cubi_sock_ioctl(struct cubi_file *f, unsigned cmd, uintptr_t arg)
{
	struct ifreq_user q;

	switch (cmd) {
	case SIOCOUTQ:
		return outq(f, arg);
	case SIOCGIFCONF:
		return ifconf(arg);
	case SIOCGIFNAME: case SIOCGIFINDEX: case SIOCGIFFLAGS:
	case SIOCGIFADDR: case SIOCGIFNETMASK: case SIOCGIFMTU:
	case SIOCGIFHWADDR:
		return ifreq(cmd, arg);
	}
	if (!is_set(cmd))
		return -CUB_ENOTTY;
	return cubi_copy_in(&q, arg, sizeof(q)) ? -CUB_EFAULT : -CUB_EPERM;
}
