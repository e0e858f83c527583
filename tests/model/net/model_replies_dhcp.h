/*
 * model_replies_dhcp.h - cub_net_dhcp against the hostile server of
 * model_replies.c. A starts unconfigured; the server (B, 10.0.0.2)
 * answers a DISCOVER with an OFFER and a REQUEST with an ACK, broadcast
 * to 255.255.255.255:68, of 10.0.0.15 with the options message type,
 * server ID 10.0.0.2, lease 3600 s, mask /24, router 10.0.0.2 and DNS
 * servers 10.0.0.3 and 10.0.0.4, then END. The conflict check and the
 * announcements are off (nobody holds the address).
 *
 * Value bytes: yiaddr and every option's code, length and value but the
 * message type's (a reply without a mask, router or DNS option is well
 * formed and says something else: the class's prefix, no gateway; a
 * router option's length flipped from 4 to 20 swallowed the DNS option
 * that followed, well formed again: seed 238). Lengths change only by
 * the structural mutations below, whose results the check knows.
 * Structural mutations: an option's length (edge values), option 52
 * (overload) with the mask, router and DNS options moved into `file` or
 * `sname`, the END option missing, an option duplicated (the same
 * value), the mask, lease or server ID option 3 or 5 bytes long, the
 * message type or server ID option removed, another message type, op,
 * htype, hlen, cookie, xid, chaddr.
 *
 * Right: 0 with the lease of the template (address, /24, gateway,
 * server, 3600 s; DNS servers 10.0.0.3 first, 1 to 3 of them, each of
 * the two: a duplicated option 6 is RFC 3396's concatenation), or
 * -CUB_ETIMEDOUT.
 */
#ifndef MODEL_REPLIES_DHCP_H
#define MODEL_REPLIES_DHCP_H

#include <cubrt/dhcp.h>

#define DHCP_ADDR CUB_IP4(10, 0, 0, 15)
#define DHCP_DNS1 CUB_IP4(10, 0, 0, 3)
#define DHCP_DNS2 CUB_IP4(10, 0, 0, 4)

static struct cub_dhcp_lease dhcp_lease;
static size_t dhcp_opt[8];		/* the options' offsets, in order */
static size_t dhcp_end;			/* END's offset */

/* Puts option code with len bytes of v at *at, its value protected. */
static void dhcp_put(struct reply *r, size_t *at, unsigned i, uint8_t code, const void *v,
		     uint8_t len, bool value)
{
	dhcp_opt[i] = *at;
	r->m[*at] = code;
	r->m[*at + 1] = len;
	memcpy(r->m + *at + 2, v, len);
	if (value)
		memset(r->prot + *at, 1, 2 + (size_t)len);
	*at += 2 + (size_t)len;
}

static bool dhcp_answer(unsigned ep, const uint8_t *q, size_t n, struct reply *r)
{
	uint8_t v[8], type = 0, *m = r->m;
	size_t at = 240;

	(void)ep;
	while (at + 2 < n && q[at] != 255) {	/* the request's type */
		if (q[at] == 53)
			type = q[at + 2];
		at += q[at] ? 2 + (size_t)q[at + 1] : 1;
	}
	if (n < 240 || q[0] != 1 || (type != 1 && type != 3))
		return false;
	memset(m, 0, 240);
	m[0] = 2, m[1] = 1, m[2] = 6;
	memcpy(m + 4, q + 4, 4);		/* xid */
	memcpy(m + 10, q + 10, 2);		/* flags */
	t_put32(m + 16, DHCP_ADDR);
	memset(r->prot + 16, 1, 4);
	memcpy(m + 28, q + 28, 16);		/* chaddr */
	t_put32(m + 236, 0x63825363u);
	at = 240;
	v[0] = type == 1 ? 2 : 5;
	dhcp_put(r, &at, 0, 53, v, 1, false);
	t_put32(v, IP_B);
	dhcp_put(r, &at, 1, 54, v, 4, true);
	t_put32(v, 3600);
	dhcp_put(r, &at, 2, 51, v, 4, true);
	t_put32(v, 0xffffff00u);
	dhcp_put(r, &at, 3, 1, v, 4, true);
	t_put32(v, IP_B);
	dhcp_put(r, &at, 4, 3, v, 4, true);
	t_put32(v, DHCP_DNS1), t_put32(v + 4, DHCP_DNS2);
	dhcp_put(r, &at, 5, 6, v, 8, true);
	dhcp_end = at;
	m[at++] = 255;
	r->n = at;
	r->dst = CUB_IP4_BROADCAST;
	r->dport = 68;
	return true;
}

/* Options 1, 3 and 6 (contiguous, from dhcp_opt[3] to END) moved into
 * file (overload 1) or sname (2), option 52 in their place. */
static const char *dhcp_overload(struct reply *r)
{
	size_t from = dhcp_opt[3], len = dhcp_end - from, to = rnd(2) ? 108 : 44;
	uint8_t *m = r->m;

	memmove(m + to, m + from, len);
	memmove(r->prot + to, r->prot + from, len);
	m[to + len] = 255;
	m[from] = 52, m[from + 1] = 1, m[from + 2] = to == 108 ? 1 : 2;
	m[from + 3] = 255;
	r->n = from + 4;
	return to == 108 ? "overload file" : "overload sname";
}

static const char *dhcp_structural(struct reply *r)
{
	uint8_t *m = r->m;
	size_t o = dhcp_opt[rnd(6)];

	if (r->n < dhcp_end + 1)
		return "none (cut)";
	switch (rnd(11)) {
	case 0:
	case 1:
		m[o + 1] = (uint8_t[]){ 0, 1, 2, 3, 5, 7, 254, 255 }[rnd(8)];
		return "option length";
	case 2:
		return dhcp_overload(r);
	case 3:
		r->n = dhcp_end;
		return "no END";
	case 4:
		/* memmove: a length mutated before may reach past END */
		memmove(m + dhcp_end, m + o, 2 + (size_t)m[o + 1]);
		memmove(r->prot + dhcp_end, r->prot + o, 2 + (size_t)m[o + 1]);
		r->n = dhcp_end + 2 + m[o + 1];
		m[r->n++] = 255;
		return "duplicated option";
	case 5: {
		/* mask, lease or server ID of 3 or 5 bytes: a byte dropped
		 * or added, what follows moved */
		size_t w = dhcp_opt[1 + rnd(3)], rest = r->n - (w + 6);

		/* what follows moves, its protection with it (a flip of a
		 * code that made this option unknown made the reply well
		 * formed without a lease option: seed 212) */
		if (rnd(2)) {
			m[w + 1] = 3;
			memmove(m + w + 5, m + w + 6, rest);
			memmove(r->prot + w + 5, r->prot + w + 6, rest);
			r->n--;
		} else {
			m[w + 1] = 5;
			memmove(m + w + 7, m + w + 6, rest);
			memmove(r->prot + w + 7, r->prot + w + 6, rest);
			m[w + 6] = 0;
			r->prot[w + 6] = 1;
			r->n++;
		}
		memcpy(r->orig, m, r->n);
		return "option of the wrong length";
	}
	case 6:
		m[dhcp_opt[rnd(2)]] = 0xfe;		/* type or server ID gone */
		return "type or server ID removed";
	case 7:
		m[dhcp_opt[0] + 2] = (uint8_t)rnd(10);
		return "message type";
	case 8:
		m[rnd(3)] ^= (uint8_t)(1 + rnd(255));
		return "op, htype or hlen";
	case 9:
		m[236 + rnd(4)] ^= (uint8_t)(1 + rnd(255));
		return "cookie";
	default:
		m[rnd(2) ? 4 + rnd(4) : 28 + rnd(6)] ^= (uint8_t)(1 + rnd(255));
		return "xid or chaddr";
	}
}

static void dhcp_setup(void)
{
	struct cub_dhcp_params p;

	memset(&dhcp_lease, 0, sizeof(dhcp_lease));
	assert_int_equal(cub_netif_configure(A, 0, 0, 0), 0);
	assert_int_equal(cub_dhcp_set_params(A, NULL), 0);
	assert_int_equal(cub_dhcp_get_params(A, &p), 0);
	p.probe_num = 0;
	p.probe_wait_ns = p.probe_min_ns = p.probe_max_ns = p.announce_wait_ns = 0;
	p.announce_num = 0;
	p.announce_interval_ns = p.defend_interval_ns = 0;
	assert_int_equal(cub_dhcp_set_params(A, &p), 0);
}

static long dhcp_call(uint64_t timeout_ns)
{
	return cub_net_dhcp(A, timeout_ns, &dhcp_lease);
}

static void dhcp_teardown(void)
{
	assert_int_equal(cub_netif_configure(A, 0, 0, 0), 0);
}

static const char *dhcp_check(long r)
{
	const struct cub_dhcp_lease *l = &dhcp_lease;

	if (r == -CUB_ETIMEDOUT)
		return NULL;
	if (r != 0)
		return "an error not documented";
	if (verbose)
		printf("  lease %08x/%u gw %08x server %08x %u s, %u DNS %08x\n", l->addr,
		       l->prefix_len, l->gateway, l->server, l->lease_s, l->dns_count, l->dns);
	if (l->addr != DHCP_ADDR || l->prefix_len != 24 || l->gateway != IP_B ||
	    l->server != IP_B || l->lease_s != 3600)
		return "a lease other than the server's";
	if (l->dns_count < 1 || l->dns_count > 3 || l->dns != DHCP_DNS1)
		return "DNS servers other than the server's";
	for (unsigned i = 0; i < l->dns_count; i++)
		if (l->dns_all[i] != DHCP_DNS1 && l->dns_all[i] != DHCP_DNS2)
			return "a DNS server the server did not name";
	return NULL;
}

static const struct client dhcp_client = {
	.name = "dhcp", .port = 67, .setup = dhcp_setup, .answer = dhcp_answer,
	.structural = dhcp_structural, .call = dhcp_call, .check = dhcp_check,
	.teardown = dhcp_teardown,
};

#endif
