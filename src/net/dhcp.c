/*
 * dhcp.c - a DHCP client (RFC 2131, options RFC 2132): leases an address
 * for an interface and configures it, as a boot loader or a unikernel
 * does at start-up.
 *
 * The exchange: DISCOVER (broadcast from 0.0.0.0:68 to
 * 255.255.255.255:67), the first valid OFFER, REQUEST for it (broadcast,
 * naming the server), then ACK - configure, done - or NAK - start over.
 * Each message goes out again when no answer came within the retry time,
 * which doubles from CUB_DHCP_RETRY_NS up to 8x, until the caller's
 * timeout. Everything received is checked before it is believed: the
 * reply opcode, Ethernet hardware type and length, our transaction ID
 * and MAC, the magic cookie, every option's length within the packet, a
 * message type, a server ID, a usable offered address; anything else is
 * ignored (counted in cub_dhcp_lease.ignored).
 *
 * While it runs the interface's dhcp flag makes the stack take IPv4 sent
 * to any address (an offer may go to the address offered) and send
 * broadcasts from 0.0.0.0 while unconfigured (ip4.c, netif.c). Port 68
 * is bound for the run, so two clients on one interface cannot mix:
 * the second gets -CUB_EADDRINUSE.
 *
 * After the ACK and before the address is configured dhcp_check.c
 * probes it by ARP; an address in use is declined and the exchange
 * starts over. Once the interface has had many conflicts, each new
 * exchange first waits for the rate limit's turn (dhcp_check.c). Once configured, the address is announced and defended
 * (arp_defend.c, RFC 5227 2.3 and 2.4).
 *
 * The lease records when it was asked for and its renewal (T1, option
 * 58) and rebinding (T2, option 59) times; dhcp_keep.c keeps it alive.
 *
 * Limits: a reply with option 52 (overload) is ignored, as one with a
 * known option of a wrong length; options 33/121 (routes) are ignored.
 */
#include <cubrt/arch.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "dhcp_impl.h"

#define BOOTREQUEST 1
#define BOOTREPLY 2
#define HDR 236				/* the fixed BOOTP part */
#define COOKIE 0x63825363u
#define MSG_MAX CUBI_DHCP_MSG_MAX
#define OPT_PAD 0
#define OPT_MASK 1
#define OPT_ROUTER 3
#define OPT_DNS 6
#define OPT_REQ_ADDR 50
#define OPT_LEASE 51
#define OPT_OVERLOAD 52
#define OPT_TYPE 53
#define OPT_SERVER 54
#define OPT_PARAMS 55
#define OPT_T1 58
#define OPT_T2 59
#define OPT_END 255
#define DISCOVER CUBI_DHCP_DISCOVER
#define OFFER CUBI_DHCP_OFFER
#define REQUEST CUBI_DHCP_REQUEST
#define ACK CUBI_DHCP_ACK
#define NAK CUBI_DHCP_NAK
#define DECLINE CUBI_DHCP_DECLINE
#define RELEASE CUBI_DHCP_RELEASE
#define INFINITE 0xffffffffu

/* Writes the BOOTP header and the cookie of a request from ciaddr (0:
 * none yet, so the reply must be broadcast); returns where the options
 * start. */
static size_t header(const struct cubi_dhcp_client *c, uint8_t *m, cub_ip4_t ciaddr)
{
	cub_memset(m, 0, MSG_MAX);
	m[0] = BOOTREQUEST;
	m[1] = 1;			/* Ethernet */
	m[2] = 6;
	put32(m + 4, c->xid);
	put16(m + 10, ciaddr ? 0 : 0x8000);
	put32(m + 12, ciaddr);
	cub_memcpy(m + 28, c->nif->mac, 6);
	put32(m + HDR, COOKIE);
	return HDR + 4;
}

/* Appends the end to the message in m (options up to at) and sends it
 * to dst:67. */
static int end_send(struct cubi_dhcp_client *c, uint8_t *m, size_t at, cub_ip4_t dst)
{
	int rc;

	m[at++] = OPT_END;
	at = at < 300 ? 300 : at;	/* BOOTP's minimum, which some relays need */
	rc = cub_udp_sendto(c->u, dst, 67, m, at);
	return rc < 0 ? rc : 0;
}

/* Appends the parameter request list and the end to the message in m
 * (options up to at) and sends it to dst:67. */
static int finish_send(struct cubi_dhcp_client *c, uint8_t *m, size_t at, cub_ip4_t dst)
{
	static const uint8_t params[] = { OPT_MASK, OPT_ROUTER, OPT_DNS, OPT_LEASE,
					  OPT_T1, OPT_T2 };

	m[at++] = OPT_PARAMS, m[at++] = sizeof(params);
	cub_memcpy(m + at, params, sizeof(params));
	at += sizeof(params);
	return end_send(c, m, at, dst);
}

/* Sends a DISCOVER, or a REQUEST for offer o (SELECTING). */
static int send_msg(struct cubi_dhcp_client *c, unsigned type, const struct cubi_dhcp_reply *o)
{
	uint8_t m[MSG_MAX];
	size_t at = header(c, m, 0);

	m[at++] = OPT_TYPE, m[at++] = 1, m[at++] = (uint8_t)type;
	if (type == REQUEST) {
		m[at++] = OPT_REQ_ADDR, m[at++] = 4, put32(m + at, o->yiaddr), at += 4;
		m[at++] = OPT_SERVER, m[at++] = 4, put32(m + at, o->server), at += 4;
	}
	return finish_send(c, m, at, CUB_IP4_BROADCAST);
}

int cubi_dhcp_send_keep(struct cubi_dhcp_client *c, const struct cubi_dhcp_keep_msg *k)
{
	uint8_t m[MSG_MAX];
	size_t at = header(c, m, k->ciaddr);

	m[at++] = OPT_TYPE, m[at++] = 1, m[at++] = REQUEST;
	return finish_send(c, m, at, k->to);
}

int cubi_dhcp_send_decline(struct cubi_dhcp_client *c, cub_ip4_t addr, cub_ip4_t server)
{
	uint8_t m[MSG_MAX];
	size_t at = header(c, m, 0);

	put16(m + 10, 0);		/* no reply comes: no broadcast flag */
	m[at++] = OPT_TYPE, m[at++] = 1, m[at++] = DECLINE;
	m[at++] = OPT_REQ_ADDR, m[at++] = 4, put32(m + at, addr), at += 4;
	m[at++] = OPT_SERVER, m[at++] = 4, put32(m + at, server), at += 4;
	return end_send(c, m, at, CUB_IP4_BROADCAST);
}

int cubi_dhcp_send_release(struct cubi_dhcp_client *c, cub_ip4_t addr, cub_ip4_t server)
{
	uint8_t m[MSG_MAX];
	size_t at = header(c, m, addr);

	m[at++] = OPT_TYPE, m[at++] = 1, m[at++] = RELEASE;
	m[at++] = OPT_SERVER, m[at++] = 4, put32(m + at, server), at += 4;
	return end_send(c, m, at, server);
}

/* Option 6's servers (len / 4 of them at v) into r: the first
 * CUB_DHCP_DNS_MAX that are not 0, in order; a later option 6 (split,
 * RFC 3396) adds to them. */
static void dns_servers(struct cubi_dhcp_reply *r, const uint8_t *v, unsigned len)
{
	for (unsigned i = 0; i + 4 <= len && r->dns_count < CUB_DHCP_DNS_MAX; i += 4)
		if (get32(v + i))
			r->dns[r->dns_count++] = get32(v + i);
}

/* One option (code, its len bytes at v) into r: false when the reply
 * is malformed for us - a known option of a length it may not have
 * (RFC 2132: type 1 byte; mask, lease, T1, T2, server ID 4; routers and
 * DNS servers a nonzero multiple of 4), which read anyway would, say,
 * configure the class's prefix for a 3-byte mask, or option 52
 * (overload, RFC 2131 4.1: options in sname or file), which is not
 * read, so the options it moved would be missed the same way. */
static bool option(struct cubi_dhcp_reply *r, unsigned code, const uint8_t *v, unsigned len)
{
	bool four = code == OPT_MASK || code == OPT_LEASE || code == OPT_T1 ||
		    code == OPT_T2 || code == OPT_SERVER;

	if (code == OPT_OVERLOAD || (code == OPT_TYPE && len != 1) || (four && len != 4) ||
	    ((code == OPT_ROUTER || code == OPT_DNS) && (len == 0 || len % 4)))
		return false;
	if (code == OPT_TYPE)
		r->type = v[0];
	else if (code == OPT_MASK)
		r->mask = get32(v), r->has_mask = true;
	else if (code == OPT_ROUTER)
		r->router = get32(v);		/* the first router */
	else if (code == OPT_DNS)
		dns_servers(r, v, len);
	else if (code == OPT_LEASE)
		r->lease_s = get32(v);
	else if (code == OPT_T1)
		r->renew_s = get32(v);
	else if (code == OPT_T2)
		r->rebind_s = get32(v);
	else if (code == OPT_SERVER)
		r->server = get32(v);
	return true;
}

/* Parses the n-byte reply in c->pkt: true when it is a well-formed
 * reply to our transaction, *r filled. */
static bool parse(const struct cubi_dhcp_client *c, size_t n, struct cubi_dhcp_reply *r)
{
	const uint8_t *m = c->pkt;
	size_t at = HDR + 4;

	cub_memset(r, 0, sizeof(*r));
	if (n < HDR + 4 || m[0] != BOOTREPLY || m[1] != 1 || m[2] != 6 ||
	    get32(m + 4) != c->xid || cub_memcmp(m + 28, c->nif->mac, 6) != 0 ||
	    get32(m + HDR) != COOKIE)
		return false;
	r->yiaddr = get32(m + 16);
	while (at < n && m[at] != OPT_END) {
		if (m[at] == OPT_PAD) {
			at++;
			continue;
		}
		if (at + 2 > n || at + 2 + m[at + 1] > n ||	/* past the end */
		    !option(r, m[at], m + at + 2, m[at + 1]))
			return false;
		at += 2 + (size_t)m[at + 1];
	}
	return at < n && r->type != 0 && r->server != 0;
}

/* A contiguous mask's prefix length, or 0 for a mask with holes. */
static unsigned prefix_len(cub_ip4_t mask)
{
	unsigned n = 0;

	while (n < 32 && (mask & (0x80000000u >> n)))
		n++;
	return mask == (n == 32 ? 0xffffffffu : ~(0xffffffffu >> n)) ? n : 0;
}

/* The prefix length of the address reply r offers: its mask option's
 * (0 for a mask with holes), or without one the address's class (RFC
 * 2131 leaves it to the client). */
static unsigned reply_prefix(const struct cubi_dhcp_reply *r)
{
	unsigned top = r->yiaddr >> 24;

	if (r->has_mask)
		return prefix_len(r->mask);
	return top < 128 ? 8 : top < 192 ? 16 : 24;
}

/* Whether the interface can take the address r offers: unicast, with a
 * valid mask, and neither its subnet's network address nor its
 * broadcast (host part all zeros or all ones; /31 and /32 have none);
 * and for a time: RFC 2131's table 3 makes the lease time option a MUST
 * in an OFFER and an ACK, so a reply without one (or with a lease of 0
 * s, over before it starts) is malformed, not an infinite lease
 * (0xffffffff says that). */
static bool usable(const struct cubi_dhcp_reply *r)
{
	cub_ip4_t a = r->yiaddr, hostmask;
	unsigned plen = reply_prefix(r);

	if (!a || !r->lease_s || (a >> 24) == 0 || a == CUB_IP4_BROADCAST || ip4_is_multicast(a) || !plen)
		return false;
	hostmask = plen == 32 ? 0 : 0xffffffffu >> plen;
	return plen >= 31 || ((a & hostmask) != 0 && (a & hostmask) != hostmask);
}

/* Contexts: task. */
int cubi_dhcp_await(struct cubi_dhcp_client *c, unsigned want, uint64_t deadline,
		    struct cubi_dhcp_reply *r)
{
	for (;;) {
		uint64_t now = cub_time_now();
		int n;

		if (now >= deadline)
			return -CUB_ETIMEDOUT;
		n = cub_udp_recvfrom(c->u, c->pkt, sizeof(c->pkt), NULL, NULL, deadline - now);
		if (n < 0)
			return n;
		if (n <= (int)sizeof(c->pkt) && parse(c, (size_t)n, r) && r->type < 32 &&
		    (want & (1u << r->type)) && (r->type == NAK || usable(r)))
			return (int)r->type;
		c->ignored++;
	}
}

/* Selecting: a DISCOVER, again after each retry time without an OFFER:
 * 0 and *offer, or -ETIMEDOUT / a send or receive error. */
static int discover(struct cubi_dhcp_client *c, uint64_t deadline, struct cubi_dhcp_reply *offer)
{
	uint64_t wait = CUB_DHCP_RETRY_NS;

	for (;;) {
		int rc = send_msg(c, DISCOVER, NULL);

		if (rc)
			return rc;
		rc = cubi_dhcp_await(c, 1u << OFFER, CUB_MIN(deadline, cub_time_now() + wait),
				     offer);
		if (rc != -CUB_ETIMEDOUT)
			return rc < 0 ? rc : 0;
		if (cub_time_now() >= deadline)
			return -CUB_ETIMEDOUT;
		wait = CUB_MIN(wait * 2, 8 * CUB_DHCP_RETRY_NS);
	}
}

/* Requesting offer o: 0, *ack and *asked (when the answered REQUEST
 * went out), 1 after a NAK, or -ETIMEDOUT / an error. An ACK for
 * another address or from another server is ignored. */
static int request(struct cubi_dhcp_client *c, uint64_t deadline, const struct cubi_dhcp_reply *o,
		   struct cubi_dhcp_reply *ack, uint64_t *asked)
{
	uint64_t wait = CUB_DHCP_RETRY_NS;

	for (;;) {
		int rc = send_msg(c, REQUEST, o);
		uint64_t until;

		*asked = cub_time_now();
		until = CUB_MIN(deadline, *asked + wait);
		if (rc)
			return rc;
		while ((rc = cubi_dhcp_await(c, 1u << ACK | 1u << NAK, until, ack)) >= 0) {
			if (rc == NAK && ack->server == o->server)
				return 1;
			if (rc == ACK && ack->server == o->server && ack->yiaddr == o->yiaddr)
				return 0;
			c->ignored++;	/* not about our request */
		}
		if (rc != -CUB_ETIMEDOUT || cub_time_now() >= deadline)
			return rc;
		wait = CUB_MIN(wait * 2, 8 * CUB_DHCP_RETRY_NS);
	}
}

/* T1 and T2 of lease l: the server's when 0 < T1 < T2 < lease (T2 alone
 * when below the lease), else 1/2 and 7/8 of it (RFC 2131 4.4.5). */
static void lease_times(const struct cubi_dhcp_reply *a, struct cub_dhcp_lease *l)
{
	uint32_t t = l->lease_s;

	l->rebind_s = t == INFINITE ? INFINITE : (uint32_t)((uint64_t)t * 7 / 8);
	l->renew_s = t == INFINITE ? INFINITE : t / 2;
	if (t == INFINITE)
		return;
	if (a->rebind_s && a->rebind_s < t)
		l->rebind_s = a->rebind_s;
	if (a->renew_s && a->renew_s < l->rebind_s)
		l->renew_s = a->renew_s;
	else if (l->renew_s >= l->rebind_s)
		l->renew_s = l->rebind_s / 2;
}

void cubi_dhcp_lease_of(const struct cubi_dhcp_reply *a, uint64_t asked,
			struct cub_dhcp_lease *l)
{
	unsigned plen = reply_prefix(a);
	cub_ip4_t mask = plen == 32 ? 0xffffffffu : ~(0xffffffffu >> plen);
	cub_ip4_t gw = a->router;

	if (gw && (((gw ^ a->yiaddr) & mask) || gw == a->yiaddr || gw == (a->yiaddr | ~mask)))
		gw = 0;			/* a router off the subnet is not used */
	*l = (struct cub_dhcp_lease){ .addr = a->yiaddr, .prefix_len = plen, .gateway = gw,
				      .dns = a->dns[0], .dns_count = a->dns_count,
				      .server = a->server,
				      .lease_s = a->lease_s,	/* not 0: usable() */
				      .acquired_ns = asked };
	cub_memcpy(l->dns_all, a->dns, sizeof(l->dns_all));
	lease_times(a, l);
}

void cubi_dhcp_set_running(struct cub_netif *nif, bool on)
{
	cub_mutex_lock(&nif->lock);
	nif->dhcp = on;
	cub_mutex_unlock(&nif->lock);
}

void cubi_dhcp_new_xid(struct cubi_dhcp_client *c)
{
	uint64_t r = 0;

	if (!cub_arch_random(&r))
		r = cub_time_now() ^ (uint64_t)c->nif->mac[5] << 40 ^
		    (uint64_t)c->nif->mac[4] << 32;
	c->xid = (uint32_t)(r ^ r >> 32);
}

/* DISCOVER ... ACK, a NAK starting over with a new transaction ID: 0,
 * *ack and *asked (as request), or an error. */
static int exchange(struct cubi_dhcp_client *c, uint64_t deadline, struct cubi_dhcp_reply *ack,
		    uint64_t *asked)
{
	struct cubi_dhcp_reply offer;
	int rc;

	for (;;) {
		rc = discover(c, deadline, &offer);
		if (!rc)
			rc = request(c, deadline, &offer, ack, asked);
		if (rc != 1)
			return rc;
		c->xid++;		/* a NAK: a new transaction */
	}
}

/* Contexts: task. Locks: takes nif->lock through the UDP calls. */
int cubi_dhcp_lease_new(struct cubi_dhcp_client *c, uint64_t deadline, struct cub_dhcp_lease *l)
{
	struct cub_dhcp_params p;
	struct cubi_dhcp_reply ack;
	struct cub_dhcp_lease nl;
	uint64_t asked = 0;
	unsigned declined = 0;
	int rc;

	cubi_dhcp_params_of(c->nif, &p);	/* one run, one set of tunables */
	cubi_dhcp_set_running(c->nif, true);
	for (;;) {
		rc = cubi_dhcp_rate_wait(c, &p, deadline);	/* RFC 5227 2.1.1 */
		if (!rc)
			rc = exchange(c, deadline, &ack, &asked);
		if (!rc)
			rc = cubi_dhcp_check(c, &p, &ack, deadline, &declined);
		if (rc != 1)
			break;
		c->xid++;		/* declined: a new transaction */
	}
	if (!rc) {
		cubi_dhcp_lease_of(&ack, asked, &nl);
		rc = cub_netif_configure(c->nif, nl.addr, nl.prefix_len, nl.gateway);
		nl.declined = declined;
		if (!rc) {
			*l = nl;
			cubi_dhcp_bound(c->nif);
			/* RFC 5227 2.3, 2.4: announced without waiting, then
			 * defended (a failed spawn loses only the later
			 * announcements, as a lost frame would). */
			(void)cubi_arp_announce(c->nif, nl.addr, p.announce_num,
						p.announce_interval_ns, p.defend_interval_ns);
		}
	}
	cubi_dhcp_set_running(c->nif, false);
	return rc;
}

/* Contexts: task. Locks: takes nif->lock through the UDP calls. */
int cub_net_dhcp(struct cub_netif *nif, uint64_t timeout_ns, struct cub_dhcp_lease *lease)
{
	struct cub_udp u;
	struct cubi_dhcp_client c = { .nif = nif, .u = &u };
	int rc;

	if (!nif || !lease)
		return -CUB_EINVAL;
	if ((rc = cub_udp_open(&u, nif, 68)))
		return rc;
	cubi_dhcp_new_xid(&c);
	rc = cubi_dhcp_lease_new(&c, cubi_deadline(cub_time_now(), timeout_ns), lease);
	cub_udp_close(&u);
	lease->ignored = c.ignored;
	return rc;
}
