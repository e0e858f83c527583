/*
 * socket_rtnl.c - rtnetlink's side of a NETLINK_ROUTE socket (socket.h is
 * the interface; socket_netlink.c carries the messages): the replies the
 * kernel would send to what a program sends to port id 0, for the
 * machine's interfaces (their facts: netdev.c's cubi_netdev_if, shared
 * with the SIOCGIF* ioctls), as Linux describes them:
 *  - link 1, "lo", ARPHRD_LOOPBACK, IFF_UP|IFF_LOOPBACK|IFF_RUNNING|
 *    IFF_LOWER_UP, MTU 65536, txqueuelen 1000, operstate UNKNOWN,
 *    address and broadcast 00:00:00:00:00:00;
 *  - while the network card is up, link 2, "eth0", ARPHRD_ETHER,
 *    IFF_UP|IFF_BROADCAST|IFF_RUNNING|IFF_MULTICAST|IFF_LOWER_UP, MTU
 *    1500, operstate UP, the card's MAC and ff:ff:ff:ff:ff:ff;
 *  - an address per link: 127.0.0.1/8 on link 1 (AF_INET, scope host,
 *    IFA_F_PERMANENT, label "lo"); the card's on link 2 (scope
 *    universe, its broadcast, label "eth0", IFA_F_PERMANENT when static,
 *    no flags when leased). There is no IPv6 (socket(AF_INET6) fails),
 *    so an RTM_GETADDR dump for AF_INET6 is empty and one for any other
 *    family (AF_UNSPEC: all of them) has the IPv4 addresses only.
 *
 * The requests are read as Linux's netlink_rcv_skb and rtnetlink_rcv_msg
 * read them: one send may hold several messages, one after another at
 * NLMSG_ALIGN'ed offsets; a message shorter than its header or longer
 * than what is left ends the batch silently. A message without
 * NLM_F_REQUEST, a control message (type below NLMSG_MIN_TYPE) and one
 * too short for its rtgenmsg do nothing (an ack if NLM_F_ACK). Then:
 *  - RTM_GETLINK or RTM_GETADDR with NLM_F_DUMP (either bit of it): one
 *    datagram holding the dump's messages (NLM_F_MULTI), then one holding
 *    NLMSG_DONE (NLM_F_MULTI, an int 0), as Linux's netlink_dump delivers
 *    a dump this small; a dump is never acked (NLM_F_ACK ignored);
 *  - RTM_GETLINK without it (rtnl_getlink): by ifi_index, else by
 *    IFLA_IFNAME: one RTM_NEWLINK (no NLM_F_MULTI), -ENODEV for another
 *    link, -EINVAL when the request has no ifinfomsg or names no link;
 *  - anything else: -EOPNOTSUPP (Linux's answer for what it has no
 *    handler for; changes, which Linux lets CAP_NET_ADMIN make, too).
 * An error is an NLMSG_ERROR datagram: the negative errno and a copy of
 * the request (its nlmsg_len bytes, padded to 4); an ack (error 0) has
 * the request's header only and NLM_F_CAPPED, as Linux sends them
 * without NETLINK_CAP_ACK. Every reply echoes nlmsg_seq and carries the
 * requester's port id in nlmsg_pid.
 *
 * Layout: the Linux UAPI's (linux/netlink.h, rtnetlink.h, if_link.h,
 * if_addr.h): a 16-byte nlmsghdr, the family header (ifinfomsg 16 bytes,
 * ifaddrmsg 8), then attributes, each a 4-byte rtattr header and its
 * value, rta_len unpadded, the next one at RTA_ALIGN; nlmsg_len includes
 * the padding of the last attribute, as nlmsg_end makes it.
 *
 * Invariants: none kept; every reply is a fresh datagram of the kernel
 * (addr 0) on the caller's list. Locking: none (the request is the
 * caller's copy; this allocates, interrupts enabled).
 */
#include <cubrt/heap.h>
#include <cubrt/list.h>
#include <cubrt/string.h>

#include "netdev.h"
#include "socket.h"
#include "socket_msg.h"

#define ALIGN4(n) (((n) + 3u) & ~(size_t)3)
#define HDRLEN 16u		/* NLMSG_HDRLEN */
#define NLMSG_ERROR 2
#define NLMSG_DONE 3
#define NLMSG_MIN_TYPE 0x10
#define NLM_F_REQUEST 0x1
#define NLM_F_MULTI 0x2
#define NLM_F_ACK 0x4
#define NLM_F_CAPPED 0x100
#define NLM_F_DUMP 0x300	/* NLM_F_ROOT | NLM_F_MATCH */
#define RTM_NEWLINK 16
#define RTM_GETLINK 18
#define RTM_NEWADDR 20
#define RTM_GETADDR 22
#define AF_INET6 10
#define IFLA_ADDRESS 1
#define IFLA_BROADCAST 2
#define IFLA_IFNAME 3
#define IFLA_MTU 4
#define IFLA_TXQLEN 13
#define IFLA_OPERSTATE 16
#define IFLA_LINKMODE 17
#define IFLA_GROUP 27
#define IFLA_PROMISCUITY 30
#define IFLA_NUM_TX_QUEUES 31
#define IFLA_NUM_RX_QUEUES 32
#define IFLA_CARRIER 33
#define IFA_ADDRESS 1
#define IFA_LOCAL 2
#define IFA_LABEL 3
#define IFA_BROADCAST 4
#define IFA_CACHEINFO 6
#define IFA_FLAGS 8
#define IFA_F_PERMANENT 0x80
#define RT_SCOPE_HOST 254
#define IF_OPER_UNKNOWN 0
#define IF_OPER_UP 6
#define MSG_ROOM 512		/* a link or address message fits */
#define CUB_ENODEV 19

struct nlhdr {			/* struct nlmsghdr */
	uint32_t len;
	uint16_t type, flags;
	uint32_t seq, pid;
};

/* What every reply to one request shares. */
struct req {
	const struct nlhdr *h;	/* the request (h->len bytes, checked) */
	uint32_t pid;		/* the requester's port id */
	struct cub_list *out;
};

/* A new empty kernel datagram with room for n bytes, or NULL. */
static struct cubi_dgram *dgram_new(size_t n)
{
	struct cubi_dgram *d = cub_malloc(sizeof(*d) + n);

	if (d)
		*d = (struct cubi_dgram){ .len = 0 };
	return d;
}

/* Appends n bytes of v (NULL: zeros) and the padding to 4 to d. */
static void put(struct cubi_dgram *d, const void *v, size_t n)
{
	cub_memset(d->data + d->len, 0, ALIGN4(n));
	if (v)
		cub_memcpy(d->data + d->len, v, n);
	d->len += ALIGN4(n);
}

/* Starts a message in d: the offset of its header (msg_end fills len). */
static size_t msg_begin(struct cubi_dgram *d, const struct req *q, uint16_t type,
			uint16_t flags)
{
	struct nlhdr h = { 0, type, flags, q->h->seq, q->pid };
	size_t at = d->len;

	put(d, &h, sizeof(h));
	return at;
}

static void msg_end(struct cubi_dgram *d, size_t at)
{
	uint32_t len = (uint32_t)(d->len - at);

	cub_memcpy(d->data + at, &len, sizeof(len));
}

/* Appends attribute type with n bytes of v (struct rtattr). */
static void attr(struct cubi_dgram *d, uint16_t type, const void *v, size_t n)
{
	uint16_t rta[2] = { (uint16_t)(4 + n), type };

	put(d, rta, sizeof(rta));
	put(d, v, n);
}

static void attr32(struct cubi_dgram *d, uint16_t type, uint32_t v)
{
	attr(d, type, &v, sizeof(v));
}

static void attr8(struct cubi_dgram *d, uint16_t type, uint8_t v)
{
	attr(d, type, &v, sizeof(v));
}

/* ------------------------------------------------------------ messages */

/* The RTM_NEWLINK of interface i, in the order Linux's rtnl_fill_ifinfo
 * puts the attributes it has. */
static void put_link(struct cubi_dgram *d, const struct req *q, uint16_t flags,
		     const struct cubi_ifinfo *i)
{
	struct {
		uint8_t family, pad;
		uint16_t type;
		int32_t index;
		uint32_t flags, change;
	} ifi = { 0, 0, i->type, i->index, i->flags, 0 };
	size_t at = msg_begin(d, q, RTM_NEWLINK, flags);

	put(d, &ifi, sizeof(ifi));
	attr(d, IFLA_IFNAME, i->name, cub_strlen(i->name) + 1);
	attr32(d, IFLA_TXQLEN, 1000);
	attr8(d, IFLA_OPERSTATE, i->index == CUBI_LO_INDEX ? IF_OPER_UNKNOWN : IF_OPER_UP);
	attr8(d, IFLA_LINKMODE, 0);
	attr32(d, IFLA_MTU, i->mtu);
	attr32(d, IFLA_GROUP, 0);
	attr32(d, IFLA_PROMISCUITY, 0);
	attr32(d, IFLA_NUM_TX_QUEUES, 1);
	attr32(d, IFLA_NUM_RX_QUEUES, 1);
	attr8(d, IFLA_CARRIER, 1);
	attr(d, IFLA_ADDRESS, i->mac, sizeof(i->mac));
	attr(d, IFLA_BROADCAST, i->brd, sizeof(i->brd));
	msg_end(d, at);
}

/* a (host order) as the 4 bytes of an attribute. */
static void ip4_bytes(uint32_t a, uint8_t b[4])
{
	for (int k = 0; k < 4; k++)
		b[k] = (uint8_t)(a >> (24 - 8 * k));
}

/* The RTM_NEWADDR of interface i's address (inet_fill_ifaddr's order;
 * a broadcast for all but the loopback, as Linux's ifconfig-made ones). */
static void put_addr(struct cubi_dgram *d, const struct req *q, const struct cubi_ifinfo *i)
{
	static const uint32_t cache[4] = { 0xffffffffu, 0xffffffffu, 0, 0 };
	uint32_t fl = i->permanent ? IFA_F_PERMANENT : 0;
	struct {
		uint8_t family, prefixlen, flags, scope;
		uint32_t index;
	} ifa = { CUBI_AF_INET, (uint8_t)i->prefix, (uint8_t)fl, i->scope, (uint32_t)i->index };
	size_t at = msg_begin(d, q, RTM_NEWADDR, NLM_F_MULTI);
	uint8_t a[4], brd[4];

	ip4_bytes(i->addr, a);
	ip4_bytes(i->addr | (i->prefix < 32 ? ~0u >> i->prefix : 0), brd);
	put(d, &ifa, sizeof(ifa));
	attr(d, IFA_ADDRESS, a, sizeof(a));
	attr(d, IFA_LOCAL, a, sizeof(a));
	if (i->index != CUBI_LO_INDEX)
		attr(d, IFA_BROADCAST, brd, sizeof(brd));
	attr(d, IFA_LABEL, i->name, cub_strlen(i->name) + 1);
	attr32(d, IFA_FLAGS, fl);
	attr(d, IFA_CACHEINFO, cache, sizeof(cache));	/* forever; since boot */
	msg_end(d, at);
}

/* ------------------------------------------------------------- replies */

/* NLMSG_ERROR with err (0: an ack, the request's header only). */
static long reply_error(const struct req *q, int err)
{
	size_t copy = err ? q->h->len : HDRLEN;
	struct cubi_dgram *d = dgram_new(HDRLEN + 4 + ALIGN4(copy));
	size_t at;

	if (!d)
		return -CUB_ENOMEM;
	at = msg_begin(d, q, NLMSG_ERROR, err ? 0 : NLM_F_CAPPED);
	put(d, &err, sizeof(err));
	put(d, q->h, copy);
	msg_end(d, at);
	cub_list_push_back(q->out, &d->link);
	return 0;
}

/* A dump: its messages (none for an empty one), then NLMSG_DONE. */
static long reply_dump(const struct req *q, bool link, int family)
{
	struct cubi_dgram *d = NULL;
	int zero = 0;
	size_t at;

	if (link || family != AF_INET6) {
		struct cubi_ifinfo i;

		if (!(d = dgram_new(MSG_ROOM * CUBI_IF_MAX)))
			return -CUB_ENOMEM;
		for (int k = 1; k <= CUBI_IF_MAX; k++) {
			if (!cubi_netdev_if(k, &i))
				continue;
			if (link)
				put_link(d, q, NLM_F_MULTI, &i);
			else
				put_addr(d, q, &i);
		}
		cub_list_push_back(q->out, &d->link);
	}
	if (!(d = dgram_new(MSG_ROOM)))
		return -CUB_ENOMEM;
	at = msg_begin(d, q, NLMSG_DONE, NLM_F_MULTI);
	put(d, &zero, sizeof(zero));
	msg_end(d, at);
	cub_list_push_back(q->out, &d->link);
	return 0;
}

/* The link rtnl_getlink names: its index, 0 (none), or -EINVAL. */
static int link_named(const struct nlhdr *h)
{
	struct cubi_ifinfo i;
	const unsigned char *p = (const unsigned char *)h + HDRLEN;
	size_t off = 16, n = h->len - HDRLEN;	/* after the ifinfomsg */
	int32_t index;

	if (n < off)
		return -CUB_EINVAL;
	cub_memcpy(&index, p + 4, sizeof(index));
	if (index > 0)
		return cubi_netdev_if(index, &i) ? index : 0;
	while (off + 4 <= n) {
		uint16_t rta[2];

		cub_memcpy(rta, p + off, sizeof(rta));
		if (rta[0] < 4 || rta[0] > n - off)
			break;
		if (rta[1] == IFLA_IFNAME) {
			char name[16] = { 0 };

			cub_memcpy(name, p + off + 4, CUB_MIN(rta[0] - 4u, sizeof(name) - 1));
			return cubi_netdev_if_named(name);
		}
		off += ALIGN4(rta[0]);
	}
	return -CUB_EINVAL;
}

/* rtnetlink_rcv_msg: 0 (the reply made), a dump's 1 (no ack), or the
 * negative errno to answer with. */
static long rtnl_msg(const struct req *q)
{
	const struct nlhdr *h = q->h;
	struct cubi_dgram *d;
	struct cubi_ifinfo i;
	int family, which;
	long rc;

	if (h->len < HDRLEN + 1)
		return 0;			/* no rtgenmsg: ignored */
	family = ((const uint8_t *)h)[HDRLEN];	/* rtgen_family */
	if ((h->type == RTM_GETLINK || h->type == RTM_GETADDR) && (h->flags & NLM_F_DUMP)) {
		rc = reply_dump(q, h->type == RTM_GETLINK, family);
		return rc ? rc : 1;
	}
	if (h->type != RTM_GETLINK)
		return -CUB_EOPNOTSUPP;
	which = link_named(h);
	if (which <= 0)
		return which ? which : -CUB_ENODEV;
	if (!(d = dgram_new(MSG_ROOM)))
		return -CUB_ENOMEM;
	(void)cubi_netdev_if(which, &i);
	put_link(d, q, 0, &i);
	cub_list_push_back(q->out, &d->link);
	return 0;
}

long cubi_rtnl_answer(const unsigned char *req, size_t n, uint32_t pid, struct cub_list *out)
{
	size_t off = 0;

	while (n - off >= HDRLEN) {
		struct nlhdr h;
		struct req q = { (const struct nlhdr *)(req + off), pid, out };
		long rc = 0;

		cub_memcpy(&h, req + off, sizeof(h));
		if (h.len < HDRLEN || h.len > n - off)
			break;
		if ((h.flags & NLM_F_REQUEST) && h.type >= NLMSG_MIN_TYPE)
			rc = rtnl_msg(&q);
		if (rc == -CUB_ENOMEM)
			return rc;
		if ((rc < 0 || (rc == 0 && (h.flags & NLM_F_ACK))) &&
		    reply_error(&q, (int)rc))
			return -CUB_ENOMEM;
		off += CUB_MIN(ALIGN4(h.len), n - off);
	}
	return 0;
}
