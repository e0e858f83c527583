/*
 * eth.c - the Ethernet layer: demultiplexes received frames to ARP and
 * IPv4 and frames what the stack sends.
 *
 * Invariants: every frame given to cub_netif_input is counted in
 * rx_frames and ends in exactly one terminal counter (see
 * struct cub_netif_stats); a frame is processed entirely under nif->lock,
 * so the counters' sums hold whenever the lock is free.
 */
#include <cubrt/string.h>

#include "net_impl.h"

/* Contexts: task. Locks: takes nif->lock. */
void cub_netif_input(struct cub_netif *nif, const void *frame, size_t len)
{
	const uint8_t *f = frame;
	struct cub_netif_stats *st;
	uint16_t type;

	if (!nif || !frame)
		return;
	cub_mutex_lock(&nif->lock);
	st = &nif->st;
	st->rx_frames++;
	st->rx_bytes += len;
	if (len < CUB_ETH_HLEN) {
		st->rx_short++;
		goto out;
	}
	if (len > CUB_ETH_FRAME_MAX) {
		st->rx_too_long++;
		goto out;
	}
	if (cub_memcmp(f + ETH_OFF_DST, nif->mac, 6) &&
	    cub_memcmp(f + ETH_OFF_DST, cubi_eth_bcast, 6)) {
		st->rx_not_ours++;
		goto out;
	}
	type = get16(f + ETH_OFF_TYPE);
	if (type == ETH_TYPE_ARP)
		cubi_arp_input(nif, f, len);
	else if (type == ETH_TYPE_IP4)
		cubi_ip4_input(nif, f, len);
	else
		st->rx_unknown_type++;
out:
	cub_mutex_unlock(&nif->lock);
}

/* Contexts: task, nif->lock held. */
int cubi_eth_output(struct cub_netif *nif, uint8_t *frame, size_t len,
		    const uint8_t dst[6], uint16_t type)
{
	int r;

	cub_memcpy(frame + ETH_OFF_DST, dst, 6);
	cub_memcpy(frame + ETH_OFF_SRC, nif->mac, 6);
	put16(frame + ETH_OFF_TYPE, type);
	r = nif->ops->send(nif, frame, len);
	if (r < 0) {
		nif->st.tx_errors++;
		return r;
	}
	nif->st.tx_frames++;
	nif->st.tx_bytes += len;
	return 0;
}
