/*
 * model_tftp_check.h - model_tftp.c's judgement of one iteration (the
 * reference and the checks its header comment lists); included by it
 * after the plan and the link, not on its own.
 */
#ifndef MODEL_TFTP_CHECK_H
#define MODEL_TFTP_CHECK_H

/* Whether result r is one the plan and what the link did allow. */
static bool allowed(const struct plan *p, long r)
{
	long primary = L.oack_first_cut ? -CUB_EPROTO : p->expect;
	bool data = primary == (long)p->host_len || primary == -CUB_ENOSPC;

	if (r == primary)
		return true;
	if (p->error_after && data && r == error_of(p->mid_error, p->put))
		return true;	/* the ERROR mid-way came before the end */
	/* A link that only reorders and duplicates loses nothing, but the
	 * client's receive queue may: a window resent while it still holds
	 * one leaves no room for what follows, and an ERROR (or a write's
	 * last ACK from a server that does not dally) is never sent again
	 * (seed 3000, iteration 203: an ERROR after 16 blocks). */
	/* A late ERROR 8 (to a copy of the request) is not among them: it
	 * goes to the first request's port, which the retry without
	 * options leaves. */
	return r == -CUB_ETIMEDOUT && (p->lossy || L.unrepeated || p->timeout_ns != UINT64_MAX);
}

/* What a completed transfer agreed (struct cub_tftp_info). */
static void check_info(const struct plan *p, const struct cub_tftp_info *in)
{
	bool asks = plan_asks(p);
	bool oack = asks && (p->srv == S_ECHO || p->srv == S_LOWER || p->srv == S_OMIT);

	if (in->oack != oack || in->refused != (asks && p->srv == S_REFUSE))
		FAIL("info: oack %d refused %d", in->oack, in->refused);
	if (in->blksize != p->blk || in->windowsize != p->win)
		FAIL("info: blksize %u windowsize %u, not %zu %zu", in->blksize,
		     in->windowsize, p->blk, p->win);
	if (in->timeout_s != (oack && !p->omit_timeout ? p->o.timeout_s : 0))
		FAIL("info: timeout %u", in->timeout_s);
	if (in->tsize_known != (oack && p->o.tsize && !p->omit_tsize) ||
	    (in->tsize_known && in->tsize != p->wire_len))
		FAIL("info: tsize %d %llu, the wire has %zu", in->tsize_known,
		     (unsigned long long)in->tsize, p->wire_len);
}

/* A read's buffer: the file's bytes (a prefix of them when it failed),
 * then untouched bytes up to cap and past it. */
static void check_read(const struct plan *p, long r, const uint8_t *buf)
{
	size_t k = 0, end = p->cap + GUARD;

	if (r >= 0 && memcmp(buf, p->host, (size_t)r))
		FAIL("the bytes read differ from the file's");
	if (r >= 0)
		k = (size_t)r;
	else
		while (k < p->cap && k < p->host_len && buf[k] == p->host[k])
			k++;
	for (size_t i = k; i < end; i++)
		if (buf[i] != 0x5a)
			FAIL("byte %zu of the buffer (cap %zu, file %zu) written: %#x", i,
			     p->cap, p->host_len, buf[i]);
}

/* A write's bytes as the server stored them. */
static void check_write(const struct plan *p, const struct ffile *f)
{
	if (!f->complete || f->written != p->wire_len)
		FAIL("the server has %zu bytes (complete %d), the wire %zu", f->written,
		     f->complete, p->wire_len);
	if (memcmp(f->store, p->wire, p->wire_len) || f->store[p->wire_len] != 0x5a)
		FAIL("the bytes stored differ from the file's on the wire");
}

/* The longest a transfer may take on the virtual clock: every progress
 * (a block, an OACK, the retry without options) restarts the client's
 * CUB_TFTP_TRIES retransmission intervals. */
static uint64_t time_bound(const struct plan *p)
{
	uint64_t retry = p->o.timeout_s ? p->o.timeout_s * 1000 * MS : CUB_TFTP_RETRY_NS;
	uint64_t slack = 300 * MS * (uint64_t)test_slowness();
	uint64_t blocks = p->wire_len / p->blk + 1;

	if (p->timeout_ns != UINT64_MAX)
		return p->timeout_ns + slack;
	return (blocks + 4) * (CUB_TFTP_TRIES + 1) * CUB_MAX(retry, CUB_TFTP_RETRY_NS) + slack;
}

static void count(const struct plan *p, long r, const struct cub_tftp_info *in,
		  uint64_t dt)
{
	n_ok += r >= 0;
	n_timeout += r == -CUB_ETIMEDOUT;
	n_eproto += r == -CUB_EPROTO;
	n_other += r < 0 && r != -CUB_ETIMEDOUT && r != -CUB_EPROTO;
	n_refused += in->refused;
	n_windows += p->win > 1;
	n_ascii += p->netascii;
	for (int d = 0; d < 2; d++) {
		n_drop += L.d[d].dropped;
		n_cut += L.d[d].truncated;
		n_reorder += L.d[d].reordered;
		n_dup += L.d[d].duplicated;
		n_strays += L.d[d].strays;
	}
	if (getenv("CUBRT_VERBOSE")) {
		plan_print();
		printf("  -> %ld, %u sends, %u ERROR 5, %llu ms\n", r, in->sends, L.err5,
		       (unsigned long long)(dt / MS));
	}
}

static void check(const struct ffile *f, long r, const struct cub_tftp_info *in,
		  const uint8_t *buf, uint64_t dt)
{
	const struct plan *p = &P;
	size_t ask_blk = p->o.blksize > CUB_TFTP_BLKSIZE_FRAME && !p->o.fragment ?
			 CUB_TFTP_BLKSIZE_FRAME : p->o.blksize;

	count(p, r, in, dt);
	if (!allowed(p, r))
		FAIL("the transfer returned %ld (expected %ld; first OACK cut %d, %u ERROR 8, "
		     "ERROR or ACK lost at the client's queue %d)", r, p->expect,
		     L.oack_first_cut, L.err8, L.unrepeated);
	if (L.bad)
		FAIL("the client sent %s", L.bad);
	if (in->sends != L.client_pkts)
		FAIL("info.sends %u, the link carried %u", in->sends, L.client_pkts);
	if (dt > time_bound(p))
		FAIL("the transfer took %llu ms", (unsigned long long)(dt / MS));
	if ((in->blksize != CUB_TFTP_BLOCK && in->blksize > ask_blk) ||
	    (in->windowsize != 1 && in->windowsize > p->ask_win))
		FAIL("info: blksize %u windowsize %u not asked", in->blksize, in->windowsize);
	if (!p->put)
		check_read(p, r, buf);
	if (r < 0)
		return;
	check_info(p, in);
	if (p->put)
		check_write(p, f);
}

#endif
