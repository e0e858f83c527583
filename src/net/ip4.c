/*
 * ip4.c - IPv4 (RFC 791, RFC 1122 3.2.1): header validation, delivery to
 * ICMP, UDP and TCP, and the header of what we send.
 *
 * Accepted: version 4, IHL >= 5 within the frame, total length between
 * the header's length and the frame's payload (Ethernet padding after it
 * is ignored), a correct header checksum, TTL > 0, a unicast source, and
 * a destination that is the interface's address, 255.255.255.255 or the
 * subnet's broadcast (any address while unconfigured with a DHCP client
 * running: offers may be sent to the offered address). Options are
 * skipped. A fragment (MF set or a nonzero offset) goes to ip4_frag.c,
 * which hands the whole datagram back to cubi_ip4_deliver once it is
 * complete. We send with TTL 64 and no options; a datagram that fits the
 * 1500-byte MTU carries DF, a larger one (UDP, ICMP echo) leaves in
 * fragments (ip4_frag.c, cubi_ip4_send). TCP segments carry DF (path MTU
 * discovery, tcp_pmtu.c) except on a connection whose path reported an
 * MTU below the floor, which lets routers fragment (cubi_ip4_output_df).
 *
 * Counting: every frame counts ip_rx and ends in one terminal counter;
 * a reassembled datagram counts ip_reassembled and then its protocol's
 * (net.h: ip_rx + ip_reassembled = the terminal sum).
 */
#include "net_impl.h"

static bool ip4_header_ok(const uint8_t *ip, size_t n, size_t *ihl,
			  size_t *tot)
{
	if (n < IP4_HLEN || (ip[0] >> 4) != 4)
		return false;
	*ihl = (size_t)(ip[0] & 0xf) * 4;
	if (*ihl < IP4_HLEN || *ihl > n)
		return false;
	*tot = get16(ip + 2);
	return *tot >= *ihl && *tot <= n;
}

static bool ip4_for_us(const struct cub_netif *nif, cub_ip4_t dst,
		       bool *bcast)
{
	*bcast = dst == CUB_IP4_BROADCAST ||
		 (nif->addr && nif->mask != 0xffffffffu &&
		  dst == cubi_net_bcast(nif));
	/* Unconfigured while a DHCP client runs: an offer may come to the
	 * address it offers (RFC 2131 4.1), sent to our MAC. */
	if (!nif->addr && nif->dhcp)
		return true;
	return *bcast || (nif->addr && dst == nif->addr);
}

/* Contexts: task, nif->lock held. */
void cubi_ip4_deliver(struct cub_netif *nif, const struct cubi_ip4_pkt *p)
{
	uint8_t proto = p->ip[9];

	if (proto == IP4_PROTO_ICMP)
		cubi_icmp_input(nif, p);
	else if (proto == IP4_PROTO_UDP)
		cubi_udp_input(nif, p);
	else if (proto == IP4_PROTO_TCP)
		cubi_tcp_input(nif, p);
	else
		nif->st.ip_unknown_proto++;
}

/* Contexts: task, nif->lock held. */
void cubi_ip4_input(struct cub_netif *nif, const uint8_t *frame, size_t len)
{
	struct cub_netif_stats *st = &nif->st;
	const uint8_t *ip = frame + CUB_ETH_HLEN;
	struct cubi_ip4_pkt p;
	size_t ihl, tot;

	st->ip_rx++;
	if (nif->reasm_busy)
		cubi_ip4_reasm_expire(nif);
	if (!ip4_header_ok(ip, len - CUB_ETH_HLEN, &ihl, &tot)) {
		st->ip_bad_header++;
		return;
	}
	if (cubi_cksum_fold(cubi_cksum_add(0, ip, ihl)) != 0) {
		st->ip_bad_cksum++;
		return;
	}
	p.src = get32(ip + 12);
	p.dst = get32(ip + 16);
	if (ip[8] == 0 || p.src == CUB_IP4_BROADCAST ||
	    ip4_is_multicast(p.src)) {
		st->ip_bad_header++;
		return;
	}
	if (!ip4_for_us(nif, p.dst, &p.bcast)) {
		st->ip_not_ours++;
		return;
	}
	p.frame = frame;
	p.ip = ip;
	p.ihl = ihl;
	p.l4 = ip + ihl;
	p.l4len = tot - ihl;
	if (get16(ip + 6) & (IP4_FLAG_MF | IP4_OFFSET_MASK))
		cubi_ip4_frag_input(nif, &p);
	else
		cubi_ip4_deliver(nif, &p);
}

/* Contexts: task, nif->lock held. */
void cubi_ip4_header(struct cub_netif *nif, uint8_t *ip, size_t l4len,
		     uint16_t id, uint16_t frag, cub_ip4_t dst, uint8_t proto)
{
	ip[0] = 0x45;			/* version 4, IHL 5 */
	ip[1] = 0;
	put16(ip + 2, (uint16_t)(IP4_HLEN + l4len));
	put16(ip + 4, id);
	put16(ip + 6, frag);
	ip[8] = IP4_TTL;
	ip[9] = proto;
	put16(ip + 10, 0);
	put32(ip + 12, nif->addr);
	put32(ip + 16, dst);
	put16(ip + 10, cubi_cksum_fold(cubi_cksum_add(0, ip, IP4_HLEN)));
}

/* Contexts: task, nif->lock held. */
int cubi_ip4_output_df(struct cub_netif *nif, uint8_t *frame, size_t l4len,
		       const uint8_t dst_mac[6], cub_ip4_t dst, uint8_t proto,
		       bool df)
{
	cubi_ip4_header(nif, frame + CUB_ETH_HLEN, l4len, nif->ip_id++,
			df ? IP4_FLAG_DF : 0, dst, proto);
	return cubi_eth_output(nif, frame, NET_L4_OFF + l4len, dst_mac,
			       ETH_TYPE_IP4);
}

/* Contexts: task, nif->lock held. */
int cubi_ip4_output(struct cub_netif *nif, uint8_t *frame, size_t l4len,
		    const uint8_t dst_mac[6], cub_ip4_t dst, uint8_t proto)
{
	return cubi_ip4_output_df(nif, frame, l4len, dst_mac, dst, proto,
				  true);
}
