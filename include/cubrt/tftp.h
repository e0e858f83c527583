/*
 * cubrt/tftp.h - a TFTP client (RFC 1350): reads and writes, octet or
 * netascii mode, with RFC 2347 option negotiation (blksize RFC 2348,
 * timeout and tsize RFC 2349, windowsize RFC 7440) when the caller asks
 * for it.
 * Part of the network API: <cubrt/net.h> has the interface, its
 * counters and parameters, the locking rule and the contexts every call
 * here follows, and includes this header.
 *
 * A transfer is lock-step unless a window is agreed: the request goes
 * to the server's port 69 from an ephemeral endpoint; the server answers
 * from a port of its own (its transfer ID), which its first reply fixes;
 * a packet from another port is answered with ERROR 5 (unknown transfer
 * ID) and otherwise ignored. What is unacknowledged (the request, a
 * read's last ACK, a write's window of DATA) goes out again every
 * CUB_TFTP_RETRY_NS (or the negotiated timeout) without news,
 * CUB_TFTP_TRIES sends in all. A block shorter than the block size ends
 * the file, so a file of a whole number of blocks ends with an empty
 * one. Block numbers are 16 bits and wrap after 65535 to 0, as common
 * servers do (RFC 1350 is silent), so files of any length pass.
 *
 * With a window of W blocks (RFC 7440) the sender sends W DATA before
 * it waits; the receiver acknowledges the last block of each window (or
 * the file's last block), and on a gap (a later block before the next
 * one) or a quiet retransmission interval the last block it has in
 * order: the sender then starts its next window after the block
 * acknowledged. A server that refuses options with ERROR 8 (RFC 2347)
 * is asked once more without them, from a new port (so that an ERROR 8
 * answering a duplicate of the first request cannot refuse the second).
 *
 * netascii (RFC 1350, RFC 764's NVT ASCII): on the wire a line ends
 * CR LF and a lone CR is CR NUL; the caller's buffer has LF and CR. A
 * write converts LF -> CR LF and CR -> CR NUL; a read converts back
 * (CR LF -> LF, CR NUL -> CR; a CR before any other byte, or at the end
 * of the file, is kept as it is), across block boundaries.
 */
#ifndef CUBRT_TFTP_H
#define CUBRT_TFTP_H

#include <cubrt/net.h>

#define CUB_TFTP_PORT 69
#define CUB_TFTP_NAME_MAX 255		/* longest file name asked for */
#define CUB_TFTP_TRIES 5		/* sends of one request, ACK or DATA */
#define CUB_TFTP_RETRY_NS (500ull * 1000 * 1000)	/* between them */
#define CUB_TFTP_BLOCK 512		/* RFC 1350's block size */
#define CUB_TFTP_BLKSIZE_MIN 8		/* RFC 2348's range */
#define CUB_TFTP_BLKSIZE_MAX 65464
#define CUB_TFTP_WINDOW_MAX 65535	/* RFC 7440's range: 1.. */
/* The largest block whose DATA fits one Ethernet frame unfragmented:
 * 1500 - 20 (IPv4) - 8 (UDP) - 4 (TFTP header). */
#define CUB_TFTP_BLKSIZE_FRAME (CUB_UDP_FRAME_PAYLOAD - 4)

/*
 * What a transfer asks the server (RFC 2347 options in the request);
 * a 0 / false field is not asked. NULL opts: no options at all, the
 * request is RFC 1350's alone.
 */
struct cub_tftp_opts {
	/* blksize (RFC 2348), 8..65464: the server may lower it (never
	 * raise). Above CUB_TFTP_BLKSIZE_FRAME it is asked as
	 * CUB_TFTP_BLKSIZE_FRAME, so that no DATA needs IP fragmentation,
	 * unless fragment is set: then it is asked as given, and the
	 * stack fragments and reassembles each DATA (ip4_frag.c). A
	 * block over 512 bytes takes a packet buffer of 4 + blksize bytes
	 * from the heap for the transfer. */
	uint16_t blksize;
	bool fragment;
	/* timeout (RFC 2349), 1..255 s: the retransmission interval of
	 * both sides when the server agrees (it must echo the value),
	 * instead of CUB_TFTP_RETRY_NS. */
	uint8_t timeout_s;
	/* tsize (RFC 2349): a read asks the file's size before its data
	 * (in octet mode a size over cap fails at once); a write tells the
	 * server the size on the wire (len, or in netascii len plus one
	 * byte per LF and CR). */
	bool tsize;
	/* windowsize (RFC 7440), 1..65535 blocks sent before an ACK; 0 or
	 * 1: lock-step, not asked. The server may lower it (never raise);
	 * one that leaves it out of its OACK, or ignores the options,
	 * gets lock-step. A read asks at most what its endpoint's receive
	 * queue holds: CUB_UDP_QUEUE_LEN blocks, fewer when that many of
	 * the block size asked exceed CUB_UDP_RCVBUF (a larger window
	 * would lose its tail at the queue and wait out a retransmission
	 * interval each time); info.windowsize says what was used. */
	uint32_t windowsize;
	/* netascii mode instead of octet (a mode, not an option: it is
	 * kept when the server refuses the options). */
	bool netascii;
};

/* What a transfer agreed with the server (filled as far as it got,
 * on failure too). */
struct cub_tftp_info {
	uint16_t blksize;	/* the block size used: 512 unless an OACK
				 * set it */
	uint8_t timeout_s;	/* the agreed timeout (0: none, the
				 * retransmission interval is
				 * CUB_TFTP_RETRY_NS) */
	bool oack;		/* the server answered the options with an
				 * OACK (false: it ignored them, RFC 2347's
				 * fallback to RFC 1350) */
	bool tsize_known;	/* the OACK carried tsize: */
	uint64_t tsize;		/* ...its value (a read: the file's size) */
	uint16_t windowsize;	/* the window used: 1 unless an OACK set it */
	bool refused;		/* the server refused the options with
				 * ERROR 8 and the request went again
				 * without them (the fields above are then
				 * RFC 1350's) */
	unsigned sends;		/* packets sent, retransmissions included */
};

/*
 * Fetches file `name` from the TFTP server at server:69 (RFC 1350, octet
 * mode, 512-byte blocks, no options) into buf: cub_tftp_get_opts with
 * NULL opts and info.
 */
long cub_tftp_get(struct cub_netif *nif, cub_ip4_t server, const char *name,
		  void *buf, size_t cap, uint64_t timeout_ns);

/*
 * Fetches file `name` from the TFTP server at server:69 into buf (at
 * most cap bytes), in the mode of opts (netascii converted, see above)
 * and asking for its options (NULL: octet, none). The server's OACK is
 * acknowledged with ACK 0; a server that ignores the options and sends
 * DATA 1 is taken at 512-byte blocks, lock-step; one that refuses them
 * with ERROR 8 is asked once more without them. Returns the file's
 * length (in netascii the converted bytes'), with *info (may be NULL);
 * -CUB_ENOENT / -CUB_EACCES
 * when the server says the file is missing / not readable, -CUB_EIO for
 * its other errors; -CUB_ENOSPC when the file is longer than cap (the
 * server is told with ERROR 3), or an octet read's OACK tsize says so before any
 * data (ERROR 8, RFC 2347's refusal of an OACK; info->tsize has the
 * size); -CUB_EPROTO when the OACK is
 * malformed, raises blksize or windowsize, changes the timeout or
 * names an option not asked (the server is told, ERROR 8), or the
 * server answers ERROR 8 to the request without options (the first or
 * the retry); -CUB_ETIMEDOUT when the server stops
 * answering or timeout_ns passes (UINT64_MAX: no limit but the tries);
 * -CUB_EINVAL (NULL nif, server 0, a name empty or longer than
 * CUB_TFTP_NAME_MAX, NULL buf with cap > 0, opts' blksize outside
 * 8..65464 when not 0, windowsize over 65535); -CUB_ENOMEM (a large block's buffer); the errors
 * of cub_udp_open and cub_udp_sendto (e.g. -CUB_EHOSTUNREACH).
 * Contexts: task (blocks).
 */
long cub_tftp_get_opts(struct cub_netif *nif, cub_ip4_t server, const char *name,
		       void *buf, size_t cap, uint64_t timeout_ns,
		       const struct cub_tftp_opts *opts, struct cub_tftp_info *info);

/*
 * Stores len bytes of buf as file `name` on the TFTP server at server:69
 * (RFC 1350 write request, octet mode, 512-byte blocks, no options):
 * cub_tftp_put_opts with NULL opts and info.
 */
long cub_tftp_put(struct cub_netif *nif, cub_ip4_t server, const char *name,
		  const void *buf, size_t len, uint64_t timeout_ns);

/*
 * Stores len bytes of buf as file `name` on the TFTP server at
 * server:69, in the mode of opts and asking for its options (NULL:
 * octet, none; tsize tells the server the wire's length). The server's
 * ACK 0 or OACK starts the data; each window of DATA (one block
 * unless a window was agreed) goes out when the ACK of the block
 * before it came, and again every retransmission interval until an ACK
 * of one of its blocks comes (a duplicate ACK is ignored, never
 * answered with a resend: RFC 1123 4.2.3.1); ACK of the last, short
 * (possibly empty) block ends it. A server that ignores the options
 * and answers ACK 0 is taken at 512-byte blocks, lock-step; one that
 * refuses them with ERROR 8 is asked once more without them. Returns len, with *info (may be
 * NULL); the server's errors: -CUB_ENOENT (1, not found), -CUB_EACCES
 * (2, access violation), -CUB_ENOSPC (3, disk full), -CUB_EEXIST (6,
 * file exists), -CUB_EPROTO (8, options refused again or without
 * any), -CUB_EIO (the others); -CUB_EPROTO for a bad OACK (as cub_tftp_get_opts; the
 * server is told); -CUB_ETIMEDOUT; -CUB_EINVAL (NULL nif, server 0, a
 * bad name, NULL buf with len > 0, len over INT64_MAX, a bad
 * blksize or windowsize); -CUB_ENOMEM; the
 * errors of cub_udp_open and cub_udp_sendto. Contexts: task (blocks).
 */
long cub_tftp_put_opts(struct cub_netif *nif, cub_ip4_t server, const char *name,
		       const void *buf, size_t len, uint64_t timeout_ns,
		       const struct cub_tftp_opts *opts, struct cub_tftp_info *info);

#endif
