/*
 * netdev.h - the shim's network: the card a Linux program's AF_INET
 * sockets reach beside the loopback (docs/shim.md, "The network").
 *
 * netcfg.c reads the program's CUBRT_NET and CUBRT_NTP variables
 * (portable, host-tested); netdev.c brings the card up when the program
 * starts (arch NIC 0 through src/net: attach, DHCP or a static address),
 * sets the clock from an SNTP server when asked, writes /etc/resolv.conf and
 * describes the machine's interfaces to rtnetlink and the SIOCGIF*
 * ioctls; socket_inet.c joins UDP sockets to the stack's endpoints.
 *
 * Invariants: cubi_netdev is filled by cubi_netdev_up before the
 * program's first instruction: nif is non-NULL iff the card came up
 * (and never changes after). A DHCP lease is kept by a cub_dhcp_keeper
 * whose callback (netdev.c lease_changed) rewrites addr, prefix, gateway
 * and dns together with interrupts off; addr is 0 while the lease is
 * lost and a new one is sought. Single fields are read without a lock.
 */
#ifndef CUBRT_SHIM_NETDEV_H
#define CUBRT_SHIM_NETDEV_H

#include <cubrt/net.h>
#include <cubrt/sntp.h>

#include "shim_impl.h"

/* What CUBRT_NET asks for (netcfg.c). */
enum cubi_netcfg_mode { CUBI_NET_DHCP, CUBI_NET_OFF, CUBI_NET_STATIC };

struct cubi_netcfg {
	enum cubi_netcfg_mode mode;
	cub_ip4_t addr, gateway, dns;	/* CUBI_NET_STATIC; 0: none */
	unsigned prefix;
};

#define CUBI_NETCFG_VAR "CUBRT_NET"
#define CUBI_NET_DHCP_NS (5ull * 1000 * 1000 * 1000)	/* DHCP's time */

/*
 * Parses a CUBRT_NET value: "dhcp" (also NULL or ""), "off", or
 * "ADDR/PREFIX[,GATEWAY[,DNS]]" in dotted quads, PREFIX 1..32 (the
 * gateway and DNS may be empty: "10.0.2.15/24,,10.0.2.3"). 0 and *c, or
 * -CUB_EINVAL (anything else; *c is then CUBI_NET_OFF). Whether the
 * addresses make sense together is cub_netif_configure's to say.
 * Contexts: any.
 */
int cubi_netcfg_parse(const char *v, struct cubi_netcfg *c);

/* The value of CUBRT_NET in envp (NULL-terminated), or NULL. */
const char *cubi_netcfg_find(char *const envp[]);
/* The value of the variable name in envp (the first one), or NULL. */
const char *cubi_env_find(char *const envp[], const char *name);

#define CUBI_NTPCFG_VAR "CUBRT_NTP"
#define CUBI_NTP_NS (5ull * 1000 * 1000 * 1000)	/* SNTP's time */

/*
 * Parses a CUBRT_NTP value "ADDR[:PORT][,ADDR[:PORT]]...": 1 to
 * CUB_SNTP_KEEPER_SERVERS servers into list (that many entries), each a
 * dotted quad other than 0.0.0.0 and PORT 1..65535 (none: 123). 0 with
 * *n the count, or -CUB_EINVAL with *n 0. Contexts: any.
 */
int cubi_ntpcfg_parse(const char *v, struct cub_sntp_server *list, unsigned *n);

/* Formats a as a dotted quad into buf (16 bytes); returns buf. */
char *cubi_ip4_str(cub_ip4_t a, char buf[16]);

/* The network as the program sees it (netdev.c; see Invariants). */
struct cubi_netdev {
	struct cub_netif *nif;		/* NULL: no network */
	uint8_t mac[6];
	cub_ip4_t addr, gateway, dns;
	unsigned prefix;
	bool dhcp;			/* leased (else static) */
};
extern struct cubi_netdev cubi_netdev;

/*
 * Brings the network up for a program with environment envp, once: when
 * arch NIC 0 exists and CUBRT_NET does not say "off", attaches it and
 * configures it (DHCP by default), writes /etc/resolv.conf when a DNS
 * server is known and the file does not exist, and prints one console
 * line with the result or the error. Without a card it does nothing at
 * all. Contexts: task (blocks while DHCP runs), before the program runs.
 */
void cubi_netdev_up(char *const envp[]);

/*
 * Sets the wall clock from the SNTP server CUBRT_NTP names in envp, once
 * the network is up (after cubi_netdev_up), with one console line:
 *     time: set from 10.0.2.2:123, offset +86400.123 s, stratum 2
 *     time: ntp failed: <error>; clock unchanged
 *     time: CUBRT_NTP=<value>: not ADDR[:PORT]; clock unchanged
 * Without the variable nothing is printed and nothing waits. Then,
 * unless there was no network or the server refused, an SNTP keeper
 * keeps the clock by that server (first poll CUB_SNTP_POLL_MIN_NS
 * later; its steps move what waits for a wall time and print
 *     time: ntp stepped the clock +3.250 s
 * ). Contexts: task (blocks up to CUBI_NTP_NS), before the program runs.
 */
void cubi_netdev_time(char *const envp[]);

/* The keeper cubi_netdev_time started (cub_sntp_keeper_status says
 * whether it runs), for tests. Contexts: any. */
struct cub_sntp_keeper;
struct cub_sntp_keeper *cubi_netdev_ntp_keeper(void);

/* True when addr stays on this machine: 127/8, or the card's address. */
bool cubi_netdev_local(uint32_t addr);

/*
 * The machine's interfaces as rtnetlink (socket_rtnl.c) and the
 * SIOCGIF* ioctls (socket_ioctl.c) report them: index 1 is "lo" (always),
 * index 2 "eth0" (while the card is up). False for any other index.
 */
struct cubi_ifinfo {
	int index;
	const char *name;		/* static */
	uint16_t type;			/* ARPHRD_* */
	uint32_t flags;			/* IFF_*: rtnetlink's; SIOCGIFFLAGS
					 * takes the low 16 bits */
	uint32_t mtu;
	uint8_t mac[6], brd[6];		/* link address and broadcast */
	uint32_t addr;			/* IPv4, host order */
	unsigned prefix;
	uint8_t scope;			/* RT_SCOPE_HOST or _UNIVERSE */
	bool permanent;			/* IFA_F_PERMANENT (not leased) */
};
#define CUBI_IF_MAX 2			/* highest index there can be */
bool cubi_netdev_if(int index, struct cubi_ifinfo *out);
/* The index of the interface named name (a NUL-terminated name), or 0. */
int cubi_netdev_if_named(const char *name);

/* socket_inet.c: UDP sockets on the network. Interrupts enabled; the
 * caller holds a reference to s (an AF_INET SOCK_DGRAM socket). */
struct cubi_sock;
struct cubi_ubuf;
/* Gives s a network endpoint on its port when it holds one on 0.0.0.0 or
 * the card's address, closes one it no longer should have: 0, or the
 * endpoint's open error (-CUB_EADDRINUSE, -CUB_ENOMEM). Nothing without
 * a network. */
long cubi_inet_sync(struct cubi_sock *s);
/* Sends n bytes from u as one datagram from s to dst:port (not local)
 * through the card: n, or -errno. */
long cubi_inet_send(struct cubi_sock *s, const struct cubi_ubuf *u, size_t n, uint32_t dst,
		    uint16_t port);
/* cubi_inet_sync of the socket at fd, if it still is one (the result is
 * dropped: a connect's port stays picked). */
void cubi_inet_sync_fd(uint64_t fd);
/* The socket's free op: closes its endpoint (waits for its pump to let
 * go of it). */
void cubi_inet_release(struct cubi_sock *s);

/* socket_tcpnet.c: TCP stream sockets on the network (its header
 * comment has the design). Contexts: task. */
/* connect of the stream socket at fd to dst:port, not local, through the
 * card: starts the connection in the background (the socket is
 * CUBI_SOCK_CONNECTING until it knows): 0, or -errno with nothing
 * started. Interrupts enabled. */
long cubi_tcpnet_connect(uint64_t fd, uint32_t dst, uint16_t port);
/* A blocking connect's wait for that outcome: 0, its error,
 * -EINPROGRESS (SO_SNDTIMEO ran out) or -EINTR; the connection goes on
 * in the background in the last two cases. Interrupts enabled. */
long cubi_tcpnet_wait(uint64_t fd);
/* listen's network half: the listener at fd, on 0.0.0.0 or the card's
 * address, also listens on the card (nothing to do otherwise, or
 * without a network): 0, -EADDRINUSE (the stack has the port), -ENOMEM.
 * Interrupts enabled. */
long cubi_tcpnet_listen(uint64_t fd);
/* s lets go of its network link (irq off): its last close, a listener's
 * shutdown, the free of a connection never accepted. The pump finishes
 * alone: abort (or unread data, or SO_LINGER 0) resets a connection,
 * else it sends what was written and closes. Nothing without a link. */
void cubi_tcpnet_detach(struct cubi_sock *s, bool abort);
/* At the program's exit: waits until the pumps have handed every byte
 * written to a network connection to the stack and the peers have
 * acknowledged it all (cub_tcp_undelivered), at most timeout_ns, so the
 * machine does not stop with a reply half sent. Contexts: task. */
void cubi_tcpnet_flush(uint64_t timeout_ns);
/* accept took a connection off listener l's queue (irq off): its pump
 * may accept more from the card. */
void cubi_tcpnet_room(struct cubi_sock *l);

#endif
