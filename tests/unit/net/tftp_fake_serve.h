/*
 * tftp_fake_serve.h - the transfers of tftp_fake.h's server (included
 * by it, not on its own): a read's windows of DATA and a write's
 * windows of ACKs, with the misbehaviour a file asks for. Block counts
 * here are 64-bit and 1-based; the wire's numbers are them mod 2^16.
 */
#ifndef TFTP_FAKE_SERVE_H
#define TFTP_FAKE_SERVE_H

/* How many of its own timeouts in a row the server resends after. */
static inline unsigned max_timeouts(const struct ffile *f)
{
	return f->max_timeouts ? f->max_timeouts : 8;
}

/* From another port of B: an ERROR 3 (a write) or DATA blk + 1 of 0xee
 * bytes that must not land in the file (a read), and keeps the ERROR
 * code that comes back. */
static void foreign(struct xfer *x, uint64_t blk)
{
	struct cub_udp o;
	uint8_t p[64];
	int r;

	assert_int_equal(cub_udp_open(&o, B, 0), 0);
	if (x->write) {
		send_err(&o, x->client, x->port, 3);
	} else {
		t_put16(p, DATA);
		t_put16(p + 2, (unsigned)((blk + 1) & 0xffff));
		memset(p + 4, 0xee, 16);
		assert_int_equal(cub_udp_sendto(&o, x->client, x->port, p, 20), 20);
	}
	r = cub_udp_recvfrom(&o, p, sizeof(p), NULL, NULL, 1000 * MS);
	if (r >= 4 && t_get16(p) == ERR)
		x->f->foreign_reply = t_get16(p + 2);
	assert_int_equal(cub_udp_close(&o), 0);
}

static void send_ack(struct cub_udp *u, struct xfer *x, unsigned blk)
{
	uint8_t a[4];

	t_put16(a, ACKOP);
	t_put16(a + 2, blk & 0xffff);
	for (int i = 0; i <= x->f->twice; i++) {
		assert_int_equal(cub_udp_sendto(u, x->client, x->port, a, 4), 4);
		x->f->acks_sent++;
	}
}

/* Takes DATA n (the one expected, 1-based count n): stores it. 1 when
 * it was the last. */
static int store(struct xfer *x, uint64_t n, int r)
{
	struct ffile *f = x->f;
	size_t len = (size_t)r - 4, off = (size_t)(n - 1) * x->blksize;

	assert_true(len <= x->blksize);
	assert_true(off + len <= f->store_cap);
	memcpy(f->store + off, x->pkt + 4, len);
	f->written += len;
	if (len > f->max_payload)
		f->max_payload = len;
	return len < x->blksize;
}

/* A write's DATA n (expected) taken: 1 when the transfer ends here. */
static int write_block(struct cub_udp *u, struct xfer *x, uint64_t n, int r,
		       uint64_t *acked)
{
	struct ffile *f = x->f;

	f->complete = store(x, n, r);
	if (f->foreign_at == n)
		foreign(x, n);
	if (f->error_after == n) {
		send_err(u, x->client, x->port, (unsigned)f->mid_error);
		return 1;
	}
	if (f->complete || n - *acked >= x->window) {
		*acked = n;
		if (f->lose_ack == n)
			f->lose_ack = 0;	/* lost on the way */
		else
			send_ack(u, x, (unsigned)n);
	}
	return f->complete && !f->retry_ns;	/* no dally unless asked */
}

/* A write; the first answer (ACK 0 or an OACK) is in first. DATA n
 * expected is stored; a later one (a gap) gets the ACK of the last in
 * order once; the last in order again (our ACK was lost) its ACK again;
 * an older one is counted and ignored, or with reack_old answered like
 * a gap. */
static void serve_write(struct cub_udp *u, struct xfer *x, const uint8_t *first,
			size_t first_len)
{
	struct ffile *f = x->f;
	uint64_t n = 1, acked = 0;	/* the DATA expected; the last ACKed */
	unsigned timeouts = 0;
	bool gap = false;

	assert_int_equal(cub_udp_sendto(u, x->client, x->port, first, first_len),
			 (int)first_len);
	for (;;) {
		int r = from_client(u, x);
		unsigned d;

		if (r == -1 && f->retry_ns && ++timeouts <= max_timeouts(f)) {
			/* our own timeout: the last in order again */
			acked = n - 1;
			if (n == 1)
				assert_int_equal(cub_udp_sendto(u, x->client, x->port, first,
								first_len), (int)first_len);
			else
				send_ack(u, x, (unsigned)(n - 1));
			continue;
		}
		if (r < 0)
			return;
		assert_int_equal(t_get16(x->pkt), DATA);
		d = (t_get16(x->pkt + 2) - (unsigned)(n - 1)) & 0xffff;
		f->data_rx++;
		if (f->stop_after && n > f->stop_after) {
			f->stop_data++;	/* until the client gives up */
			x->wait = CUB_TFTP_RETRY_NS + 300 * MS;
			continue;
		}
		if (d != 1) {
			if (d == 0 || d > 0x8000)
				f->dup_data++;
			if (d == 0 && acked == n - 1)
				send_ack(u, x, (unsigned)(n - 1));
			else if (d > 1 && d <= x->window && !gap) {
				gap = true;
				acked = n - 1;
				send_ack(u, x, (unsigned)(n - 1));
			} else if (f->reack_old && (d == 0 || d > 0x8000) && !gap) {
				gap = true;	/* once until the next in order */
				acked = n - 1;
				send_ack(u, x, (unsigned)(n - 1));
			}
			continue;
		}
		if (f->drop_data == n) {
			f->drop_data = 0;	/* lost on the way */
			continue;
		}
		timeouts = 0;
		gap = false;
		if (write_block(u, x, n++, r, &acked))
			return;
	}
}

/* DATA n (1-based) of a read into x->last; its length. */
static size_t data_pkt(struct xfer *x, uint64_t n)
{
	size_t off = (size_t)(n - 1) * x->blksize;
	size_t len = CUB_MIN(x->f->len - off, x->blksize);

	t_put16(x->last, DATA);
	t_put16(x->last + 2, (uint32_t)(n & 0xffff));
	for (size_t i = 0; i < len; i++)
		x->last[4 + i] = fbyte(x->f, off + i);
	return 4 + len;
}

/* Sends a read's DATA from..to, as the file says. */
static void send_blocks(struct cub_udp *u, struct xfer *x, uint64_t from, uint64_t to)
{
	struct ffile *f = x->f;

	for (uint64_t n = from; n <= to; n++) {
		size_t len = data_pkt(x, n);

		if (f->lose_data == n)
			f->lose_data = 0;	/* lost on the way */
		else
			assert_int_equal(cub_udp_sendto(u, x->client, x->port, x->last, len),
					 (int)len);
		f->data_sent++;
		if (f->drop_arp_after && n == 1)
			drop_arp = true;
		if (f->foreign_at == n)
			foreign(x, n);
	}
}

/* Waits for ACK 0 of a read's OACK: 1 it came, 0 resend, -1 end. */
static int read_ack0(struct cub_udp *u, struct xfer *x)
{
	for (;;) {
		int r = from_client(u, x);

		if (r == -1)
			return x->f->retry_ns ? 0 : -1;
		if (r < 0)
			return -1;
		assert_int_equal(t_get16(x->pkt), ACKOP);
		x->f->acks++;
		if (t_get16(x->pkt + 2) != 0)
			continue;
		x->f->ack0s++;
		if (x->f->lose_ack0) {
			x->f->lose_ack0 = 0;
			continue;	/* lost: the OACK again */
		}
		return 1;
	}
}

/* Waits for the ACK of a read's window base+1..end: 1 (*base moved to
 * the block it names), 0 a duplicate of base (resend, unless
 * quiet_dup_acks), 2 our own timeout (resend), -1 the end. */
static int read_ack(struct cub_udp *u, struct xfer *x, uint64_t *base, uint64_t end)
{
	struct ffile *f = x->f;

	for (;;) {
		int r = from_client(u, x);
		unsigned d;

		if (r == -1)
			return f->retry_ns ? 2 : -1;
		if (r < 0)
			return -1;
		assert_int_equal(r, 4);
		assert_int_equal(t_get16(x->pkt), ACKOP);
		f->acks++;
		d = (t_get16(x->pkt + 2) - (unsigned)*base) & 0xffff;
		if (d == 0) {
			f->dup_acks++;
			if (f->quiet_dup_acks)
				continue;	/* RFC 1123 4.2.3.1 */
			return 0;
		}
		if (f->stale_ok && d > 0x8000) {
			f->stale_acks++;	/* behind the window: late */
			continue;
		}
		assert_true(d <= end - *base);	/* no ACK of a block not sent */
		if (f->lose_rack == *base + d) {
			f->lose_rack = 0;	/* lost this once */
			continue;
		}
		*base += d;
		return 1;
	}
}

/* After DATA stop_after: count the client's ACKs until it has been
 * quiet for longer than its retry time. */
static void count_acks(struct cub_udp *u, struct xfer *x)
{
	x->wait = CUB_TFTP_RETRY_NS + 300 * MS;
	while (from_client(u, x) >= 4)
		if (t_get16(x->pkt) == ACKOP)
			x->f->stop_acks++;
}

/* A read: an OACK first when one is in oack, then windows of DATA. */
static void serve_read(struct cub_udp *u, struct xfer *x, const uint8_t *oack,
		       size_t oack_len)
{
	struct ffile *f = x->f;
	uint64_t nblocks = f->len / x->blksize + 1, base = 0;
	unsigned tries = 0;
	int r;

	while (oack) {
		assert_int_equal(cub_udp_sendto(u, x->client, x->port, oack, oack_len),
				 (int)oack_len);
		f->oacks_sent++;
		if ((r = read_ack0(u, x)) < 0 || ++tries > max_timeouts(f))
			return;
		if (r == 1)
			break;
	}
	tries = 0;
	while (base < nblocks) {
		uint64_t end = CUB_MIN(base + x->window, nblocks);

		send_blocks(u, x, base + 1, end);
		if (f->stop_after && f->stop_after <= end) {
			count_acks(u, x);
			return;
		}
		r = read_ack(u, x, &base, end);
		if (r < 0 || (r == 2 && ++tries > max_timeouts(f)))
			return;		/* the client is gone */
		if (r == 1)
			tries = 0;
		if (r == 1 && f->error_after && base >= f->error_after) {
			send_err(u, x->client, x->port, (unsigned)f->mid_error);
			return;
		}
	}
}

#endif
