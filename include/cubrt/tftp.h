/*
 * cubrt/tftp.h - a TFTP client (RFC 1350): reads.
 * Part of the network API: <cubrt/net.h> has the interface, its
 * counters and parameters, the locking rule and the contexts every call
 * here follows, and includes this header.
 */
#ifndef CUBRT_TFTP_H
#define CUBRT_TFTP_H

#include <cubrt/net.h>

#define CUB_TFTP_NAME_MAX 255		/* longest file name asked for */
#define CUB_TFTP_TRIES 5		/* sends of one request or ACK */
#define CUB_TFTP_RETRY_NS (500ull * 1000 * 1000)	/* between them */

/*
 * Fetches file `name` from the TFTP server at server:69 (RFC 1350, octet
 * mode) into buf, lock-step, retransmitting a lost request or ACK every
 * CUB_TFTP_RETRY_NS up to CUB_TFTP_TRIES times. Returns the file's
 * length; -CUB_ENOENT / -CUB_EACCES when the server says the file is
 * missing / not readable, -CUB_EIO for its other errors; -CUB_ENOSPC
 * when the file is longer than cap (the server is told); -CUB_ETIMEDOUT
 * when the server stops answering or timeout_ns passes (UINT64_MAX:
 * no limit but the tries); -CUB_EINVAL (NULL nif, server 0, a name
 * empty or longer than CUB_TFTP_NAME_MAX, NULL buf with cap > 0); the
 * errors of cub_udp_open and cub_udp_sendto (e.g. -CUB_EHOSTUNREACH).
 * Contexts: task (blocks).
 */
long cub_tftp_get(struct cub_netif *nif, cub_ip4_t server, const char *name,
		  void *buf, size_t cap, uint64_t timeout_ns);

#endif
