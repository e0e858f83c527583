/*
 * socket.h - the sockets' private interface between socket.c (socket
 * objects, ports, connections: socket, socketpair, bind, listen, connect,
 * accept, shutdown, names) and socket_io.c (the data: receive rings,
 * read/write/poll ops, send/recv calls, options). socket.c's header
 * comment states the semantics and invariants.
 *
 * Locking: every field of a socket, the port table and the accept queues
 * are protected by the fd layer's critical section (interrupts disabled,
 * fd.c); functions marked "irq off" expect it held, the others take it.
 */
#ifndef CUBRT_SHIM_SOCKET_H
#define CUBRT_SHIM_SOCKET_H

#include <cubrt/list.h>

#include "shim_impl.h"

#define CUBI_AF_UNIX 1
#define CUBI_AF_INET 2
#define CUBI_SOCK_STREAM 1
#define CUBI_IPPROTO_TCP 6
#define CUBI_SOL_SOCKET 1
#define CUBI_SOCK_RING (64u * 1024)	/* receive ring per socket */
#define CUBI_SIN_SIZE 16u		/* sizeof(struct sockaddr_in) */
#define CUBI_ADDR_MAX 128		/* sizeof(struct sockaddr_storage) */

enum cubi_sock_state { CUBI_SOCK_UNCONNECTED, CUBI_SOCK_LISTENING, CUBI_SOCK_CONNECTED };

/* Options recorded for getsockopt (socket_io.c); they change nothing. */
enum { CUBI_OPT_REUSEADDR, CUBI_OPT_BROADCAST, CUBI_OPT_KEEPALIVE,
       CUBI_OPT_REUSEPORT, CUBI_OPT_NODELAY, CUBI_OPT_KEEPIDLE,
       CUBI_OPT_KEEPINTVL, CUBI_OPT_KEEPCNT, CUBI_OPT_N };

struct cubi_sock {
	struct cubi_file file;
	int domain;		/* CUBI_AF_INET or CUBI_AF_UNIX */
	enum cubi_sock_state state;
	bool in_table;		/* holds its port: on socket.c's `bound` */
	bool rd_shut, wr_shut;	/* shutdown(SHUT_RD / SHUT_WR) of this end */
	int err;		/* pending error (ECONNRESET): read, SO_ERROR */
	struct cubi_sock *peer;	/* connected: the other end while it exists */
	struct cubi_sock *listener;	/* queued, not accepted: whose queue */
	struct cub_list link;	/* on `bound` (in_table) */
	struct cub_list qlink;	/* on listener->queue */
	struct cub_list queue;	/* listening: not yet accepted, oldest first */
	unsigned qlen, backlog;
	uint32_t addr, peer_addr;	/* IPv4 addresses, host order */
	uint16_t port, peer_port;	/* 0: none */
	int opt[CUBI_OPT_N];
	int linger[2];		/* SO_LINGER: l_onoff (0/1), l_linger */
	size_t head, len;	/* receive ring: len bytes from head */
	unsigned char ring[CUBI_SOCK_RING];
};

/* socket.c */
/* The socket at fd (irq off), or NULL and *err = -EBADF or -ENOTSOCK. */
struct cubi_sock *cubi_sock_at(uint64_t fd, long *err);
/* The domain of the socket at fd, or -EBADF/-ENOTSOCK (a snapshot). */
long cubi_sock_domain(uint64_t fd);
/* s's readiness, and its peer's, may have changed (irq off). */
void cubi_sock_changed(struct cubi_sock *s);
/* Linux's move_addr_to_kernel: len 0..128 (else -EINVAL), readable
 * (-EFAULT); buf is zero-filled past len. */
long cubi_sock_addr_in(uintptr_t u, int len, uint8_t buf[CUBI_ADDR_MAX]);
/* Checks an (addr, *addrlen) pair a call will fill: *addrlen readable
 * (-EFAULT) and >= 0 (-EINVAL), room for a sockaddr_in (-EFAULT). */
long cubi_sock_addr_out_ok(uintptr_t uaddr, uintptr_t ulen);

/* socket_io.c: the read, write and poll ops (irq off). */
long cubi_sock_read(struct cubi_file *f, void *buf, size_t n);
long cubi_sock_write(struct cubi_file *f, const void *buf, size_t n);
uint32_t cubi_sock_poll(struct cubi_file *f);

#endif
