/*
 * tcpnet.h - what the files of the TCP sockets on the network card share
 * (internal to them; netdev.h has what the rest of the shim calls):
 *   socket_tcpnet.c       the links between a socket and the stack's
 *                         connection or listener, the pumps' word and
 *                         notify, detach, and the exit's flush;
 *   socket_tcpnet_open.c  connection set-up: connect (the pump's
 *                         cub_tcp_connect, the caller's wait) and the
 *                         listener (its pump, accepted connections);
 *   socket_tcpnet_pump.c  data transfer: the connection pump that moves
 *                         bytes, FIN and resets between the socket's
 *                         rings and the stack, and its end.
 * socket_tcpnet.c's header comment has the design, its invariants and
 * locking rules.
 */
#ifndef CUBRT_SHIM_TCPNET_H
#define CUBRT_SHIM_TCPNET_H

#include <cubrt/list.h>
#include <cubrt/net.h>

#include "socket.h"

#define CUBI_TCPNET_RX_CHUNK (16u * 1024)	/* one cub_tcp_recv's bytes at most */

/* A socket's link to the stack: a connection's (with its stand-in peer
 * `out` and receive buffer) or a listener's. */
struct cubi_tcpnet {
	struct cub_list link;		/* connection: in conns (irq off) */
	struct cub_tcp *c;		/* the stack's handle (the pump's) */
	struct cubi_sock *sock;		/* attached socket, or NULL (irq off) */
	struct cubi_sock *out;		/* connection: the stand-in peer */
	struct cubi_file bell;		/* listener: the word its pump sleeps on */
	bool abort;			/* detached: reset, do not close */
	uint32_t dst;			/* connect: the destination */
	uint16_t dport;
	uint16_t mss;			/* TCP_MAXSEG given to the stack: at
					 * connect, or a listener's (its pump
					 * follows the socket's) */
	int ka[4];			/* keep-alive given to the stack: on,
					 * idle s, interval s, count (the
					 * pump's; all 0: off, as it starts) */
	unsigned char buf[];		/* connection: CUBI_TCPNET_RX_CHUNK bytes */
};

/* socket_tcpnet.c */
/* What TCP_MAXSEG reads for a connection with info: its MSS less the
 * timestamp option when agreed (Linux's mss_cache: 1448 on a 1500-byte
 * path with timestamps). */
uint16_t cubi_tcpnet_mss(const struct cub_tcp_info *info);
/* The word tn's pump sleeps on (out's file, or a listener's bell). */
struct cubi_file *cubi_tcpnet_word(struct cubi_tcpnet *tn);
/* cub_tcp_set_notify's callback (arg: the link): bumps its word. */
void cubi_tcpnet_notify(void *arg);
/* A new link (interrupts enabled): conn, a connection's with its
 * stand-in peer and receive buffer (on the live list), else a
 * listener's. NULL: no memory. */
struct cubi_tcpnet *cubi_tcpnet_new(bool conn);
/* Frees tn and its stand-in peer (interrupts enabled; nothing refers to
 * them any more). */
void cubi_tcpnet_free(struct cubi_tcpnet *tn);
/* Starts fn(tn) in a pump coroutine: 0 or -CUB_ENOMEM. */
long cubi_tcpnet_spawn(void *(*fn)(void *), struct cubi_tcpnet *tn, const char *name);

/* socket_tcpnet_open.c */
/* The pump's connect: 0 once the socket is connected, else -1 (the
 * outcome is on the socket; the pump leaves). Interrupts enabled. */
int cubi_tcpnet_open(struct cubi_tcpnet *tn);

/* socket_tcpnet_pump.c */
/* The connection died (irq off): err (0: just gone) pending on its
 * socket; the socket lets go of the link. */
void cubi_tcpnet_dead(struct cubi_tcpnet *tn, long err);
/* A connection's pump coroutine (arg: the link); it frees the link when
 * it leaves. */
void *cubi_tcpnet_pump(void *arg);

#endif
