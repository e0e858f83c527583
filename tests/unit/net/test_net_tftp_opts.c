/*
 * test_net_tftp_opts.c - RFC 2347 option negotiation (RFC 2348 blksize,
 * RFC 2349 timeout and tsize) of cub_tftp_get_opts and
 * cub_tftp_put_opts against the fake TFTP server of tftp_fake.h.
 *
 * Proves: the request's options byte for byte (a read's tsize 0, a
 * write's the length); an OACK echoing them is taken (blocks of the
 * agreed size, info filled) both ways; a lowered blksize is used; a
 * raised one, an option not asked, a value not a number or empty, a
 * string without its NUL, another timeout, a blksize under 8 or an
 * unknown option are refused with ERROR 8 and -CUB_EPROTO; names
 * compare without case; an empty OACK means the defaults; options left
 * out take their defaults; a server that ignores options (DATA 1 / ACK
 * 0) is taken at 512-byte blocks; a read's tsize over cap fails
 * -CUB_ENOSPC before any data, with ERROR 8 and the size reported; the
 * server's ERROR 8 is -CUB_EPROTO; a lost ACK 0 is sent again when the
 * OACK comes again; a blksize over one frame is asked as 1468 unless
 * fragment is set, and with it 4000-byte blocks pass fragmented; the
 * agreed timeout is the retransmission interval; options all 0 send
 * none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <cubrt/mem.h>
#include <cubrt/net.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>

#include "tftp_fake.h"
#include "../stall.h"

#define LEN 5000
static uint8_t buf[16384];		/* a read's buffer */
static uint8_t src[16384];		/* a write's source */
static uint8_t dst[16384];		/* ...and where the server stores it */

static struct ffile *rfile(const char *name, size_t len)
{
	return ffile(name, len);
}

#define wfile(name, len) fwfile(name, len, src, dst, sizeof(dst))

static long get(struct ffile *f, size_t cap, const struct cub_tftp_opts *o,
		struct cub_tftp_info *info)
{
	return fget(f, buf, sizeof(buf), cap, o, info);
}

static long put(struct ffile *f, const struct cub_tftp_opts *o, struct cub_tftp_info *info)
{
	return fput(f, src, o, info);
}

/* ------------------------------------------------------------------ tests */

/* Every option asked and echoed, both ways; the request's bytes. */
static void *accept_main(void *arg)
{
	static const char rreq[] = "\0\1oread\0octet\0blksize\0" "1468\0timeout\0"
				   "2\0tsize\0" "0";
	struct cub_tftp_opts o = { .blksize = 1468, .timeout_s = 2, .tsize = true };
	struct cub_tftp_info info;
	struct ffile *f;

	(void)arg;
	fstart();
	f = rfile("oread", LEN);
	assert_int_equal(get(f, sizeof(buf), &o, &info), LEN);
	assert_int_equal(f->req_len, sizeof(rreq));
	assert_memory_equal(f->req, rreq, sizeof(rreq));
	assert_true(info.oack);
	assert_int_equal(info.blksize, 1468);
	assert_int_equal(info.timeout_s, 2);
	assert_true(info.tsize_known);
	assert_int_equal(info.tsize, LEN);
	assert_int_equal(info.sends, 1 + 1 + 4);	/* RRQ, ACK 0, ACK 1-4 */
	assert_int_equal(f->oacks_sent, 1);
	assert_int_equal(f->ack0s, 1);
	assert_int_equal(f->data_sent, LEN / 1468 + 1);

	f = wfile("owrite", LEN);
	assert_int_equal(put(f, &o, &info), LEN);
	assert_int_equal(t_get16(f->req), WRQ);
	assert_true(f->octet);
	assert_int_equal(f->ask_blksize, 1468);
	assert_int_equal(f->ask_timeout, 2);
	assert_int_equal(f->ask_tsize, LEN);	/* a write tells its length */
	assert_true(info.oack);
	assert_int_equal(info.blksize, 1468);
	assert_int_equal(info.tsize, LEN);
	assert_int_equal(f->max_payload, 1468);
	assert_int_equal(f->data_rx, LEN / 1468 + 1);
	assert_int_equal(info.sends, 1 + 4);	/* WRQ, DATA 1-4 */

	/* Options all 0: none asked, the request is RFC 1350's. */
	o = (struct cub_tftp_opts){ 0 };
	f = rfile("none", 600);
	assert_int_equal(get(f, sizeof(buf), &o, &info), 600);
	assert_int_equal(f->req_len, 2 + 5 + 6);
	assert_false(info.oack);
	assert_int_equal(info.blksize, 512);
	fstop();
	return NULL;
}

static void test_opts_accept(void **state)
{
	(void)state;
	run(accept_main);
}

/* The server lowers blksize to 1024: used both ways (a 1024-byte block
 * does not end the file); 2048 bytes end with an empty block. Options
 * left out (blksize, timeout) take their defaults. */
static void *lowered_main(void *arg)
{
	struct cub_tftp_opts o = { .blksize = 1468 };
	struct cub_tftp_opts all = { .blksize = 1468, .timeout_s = 3, .tsize = true };
	struct cub_tftp_info info;
	struct ffile *f;

	(void)arg;
	fstart();
	f = rfile("lowread", LEN);
	f->oack_blksize = 1024;
	assert_int_equal(get(f, sizeof(buf), &o, &info), LEN);
	assert_int_equal(info.blksize, 1024);
	assert_int_equal(f->data_sent, LEN / 1024 + 1);
	f = rfile("low2048", 2048);
	f->oack_blksize = 1024;
	assert_int_equal(get(f, sizeof(buf), &o, &info), 2048);
	assert_int_equal(f->data_sent, 3);
	f = wfile("lowwrite", LEN);
	f->oack_blksize = 1024;
	assert_int_equal(put(f, &o, &info), LEN);
	assert_int_equal(info.blksize, 1024);
	assert_int_equal(f->max_payload, 1024);
	assert_int_equal(f->data_rx, LEN / 1024 + 1);

	f = rfile("omitted", LEN);
	f->oack_blksize = -1;
	f->omit_timeout = true;
	assert_int_equal(get(f, sizeof(buf), &all, &info), LEN);
	assert_true(info.oack);
	assert_int_equal(info.blksize, 512);
	assert_int_equal(info.timeout_s, 0);
	assert_true(info.tsize_known);
	assert_int_equal(f->data_sent, LEN / 512 + 1);
	fstop();
	return NULL;
}

static void test_opts_lowered(void **state)
{
	(void)state;
	run(lowered_main);
}

/* An RFC 1350 server ignores the options: DATA 1 / ACK 0 at once, and
 * 512-byte blocks. */
static void *fallback_main(void *arg)
{
	struct cub_tftp_opts o = { .blksize = 1468, .timeout_s = 1, .tsize = true };
	struct cub_tftp_info info;
	struct ffile *f;

	(void)arg;
	fstart();
	f = rfile("oldread", LEN);
	f->ignore_opts = true;
	assert_int_equal(get(f, sizeof(buf), &o, &info), LEN);
	assert_false(info.oack);
	assert_int_equal(info.blksize, 512);
	assert_false(info.tsize_known);
	assert_int_equal(f->data_sent, LEN / 512 + 1);
	assert_int_equal(f->ack0s, 0);
	f = wfile("oldwrite", LEN);
	f->ignore_opts = true;
	assert_int_equal(put(f, &o, &info), LEN);
	assert_false(info.oack);
	assert_int_equal(info.blksize, 512);
	assert_int_equal(f->max_payload, 512);
	assert_int_equal(f->data_rx, LEN / 512 + 1);
	fstop();
	return NULL;
}

static void test_opts_fallback(void **state)
{
	(void)state;
	run(fallback_main);
}

/* OACKs the client must refuse (ERROR 8, -CUB_EPROTO), both ways, and
 * two it must take. */
#define RAW(s) (const uint8_t *)(s), sizeof(s) - 1
static void *refuse_main(void *arg)
{
	static const struct {
		const uint8_t *raw;
		size_t len;
		int want;
		uint16_t blksize;
	} c[] = {
		{ RAW("\0\6blksize\0" "2048\0"), -CUB_EPROTO, 0 },	/* raised */
		{ RAW("\0\6blksize\0" "7\0"), -CUB_EPROTO, 0 },	/* under 8 */
		{ RAW("\0\6tsize\0" "12a\0"), -CUB_EPROTO, 0 },	/* not a number */
		{ RAW("\0\6tsize\0\0"), -CUB_EPROTO, 0 },		/* empty */
		{ RAW("\0\6tsize\0" "12"), -CUB_EPROTO, 0 },		/* no NUL */
		{ RAW("\0\6tsize"), -CUB_EPROTO, 0 },		/* no value */
		{ RAW("\0\6timeout\0" "4\0"), -CUB_EPROTO, 0 },	/* not as asked */
		{ RAW("\0\6windowsize\0" "4\0"), -CUB_EPROTO, 0 },	/* unknown */
		{ RAW("\0\6BlkSize\0" "1000\0"), LEN, 1000 },	/* any case */
		{ RAW("\0\6"), LEN, 512 },				/* empty */
	};
	static const char *const names[][2] = {
		{ "r0", "w0" }, { "r1", "w1" }, { "r2", "w2" }, { "r3", "w3" },
		{ "r4", "w4" }, { "r5", "w5" }, { "r6", "w6" }, { "r7", "w7" },
		{ "r8", "w8" }, { "r9", "w9" },
	};
	struct cub_tftp_opts o = { .blksize = 1024, .timeout_s = 3, .tsize = true };
	struct cub_tftp_opts ts = { .tsize = true };
	struct cub_tftp_info info;
	struct ffile *f;

	(void)arg;
	fstart();
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		f = rfile(names[i][0], LEN);
		f->raw_oack = c[i].raw;
		f->raw_len = c[i].len;
		f->oack_blksize = c[i].blksize;
		assert_int_equal(get(f, sizeof(buf), &o, &info), c[i].want);
		assert_true(info.oack);
		if (c[i].want < 0) {
			assert_int_equal(f->client_error, 8);
			assert_int_equal(f->data_sent, 0);
		} else {
			assert_int_equal(info.blksize, c[i].blksize);
		}
		f = wfile(names[i][1], LEN);
		f->raw_oack = c[i].raw;
		f->raw_len = c[i].len;
		f->oack_blksize = c[i].blksize;
		assert_int_equal(put(f, &o, &info), c[i].want);
		if (c[i].want < 0) {
			assert_int_equal(f->client_error, 8);
			assert_int_equal(f->data_rx, 0);
		} else {
			assert_int_equal(f->max_payload, c[i].blksize);
		}
	}
	/* An option not asked (only tsize was). */
	f = rfile("notasked", LEN);
	f->raw_oack = (const uint8_t *)"\0\6blksize\0" "512";
	f->raw_len = 14;
	assert_int_equal(get(f, sizeof(buf), &ts, &info), -CUB_EPROTO);
	assert_int_equal(f->client_error, 8);
	/* The server refuses the options with its ERROR 8. */
	f = rfile("refused", LEN);
	f->error = 8;
	assert_int_equal(get(f, sizeof(buf), &o, &info), -CUB_EPROTO);
	fstop();
	return NULL;
}

static void test_opts_refuse(void **state)
{
	(void)state;
	run(refuse_main);
}

/* tsize over cap: -CUB_ENOSPC before any data, ERROR 8, the size told.
 * At cap exactly the file comes. */
static void *tsize_main(void *arg)
{
	struct cub_tftp_opts o = { .tsize = true };
	struct cub_tftp_info info;
	struct ffile *f;

	(void)arg;
	fstart();
	f = rfile("toobig", LEN);
	assert_int_equal(get(f, LEN - 1, &o, &info), -CUB_ENOSPC);
	assert_true(info.tsize_known);
	assert_int_equal(info.tsize, LEN);
	assert_int_equal(f->client_error, 8);
	assert_int_equal(f->data_sent, 0);
	f = rfile("fits", LEN);
	assert_int_equal(get(f, LEN, &o, &info), LEN);
	assert_int_equal(info.tsize, LEN);
	assert_int_equal(info.blksize, 512);
	fstop();
	return NULL;
}

static void test_opts_tsize(void **state)
{
	(void)state;
	run(tsize_main);
}

/* ACK 0 lost: the server sends its OACK again after 100 ms, the client
 * ACKs 0 again, the read goes on. */
static void *lost_ack0_main(void *arg)
{
	struct cub_tftp_opts o = { .blksize = 1000 };
	struct cub_tftp_info info;
	struct ffile *f;

	(void)arg;
	fstart();
	f = rfile("lostack0", LEN);
	f->lose_ack0 = 1;
	f->retry_ns = 100 * MS;
	assert_int_equal(get(f, sizeof(buf), &o, &info), LEN);
	assert_int_equal(f->oacks_sent, 2);
	assert_int_equal(f->ack0s, 2);
	assert_int_equal(info.blksize, 1000);
	fstop();
	return NULL;
}

static void test_opts_lost_ack0(void **state)
{
	(void)state;
	run(lost_ack0_main);
}

/* blksize 4000: asked as 1468 (one frame) unless fragment; with it,
 * 4000-byte blocks go both ways in IP fragments. */
static void *frag_main(void *arg)
{
	struct cub_tftp_opts one = { .blksize = 4000 };
	struct cub_tftp_opts frag = { .blksize = 4000, .fragment = true };
	struct cub_tftp_info info;
	struct ffile *f;

	(void)arg;
	fstart();
	f = rfile("capped", 9000);
	assert_int_equal(get(f, sizeof(buf), &one, &info), 9000);
	assert_int_equal(f->ask_blksize, CUB_TFTP_BLKSIZE_FRAME);
	assert_int_equal(info.blksize, 1468);
	assert_int_equal(if_stats(A).ip_fragments, 0);	/* one frame each */
	f = rfile("fragread", 9000);
	assert_int_equal(get(f, sizeof(buf), &frag, &info), 9000);
	assert_int_equal(f->ask_blksize, 4000);
	assert_int_equal(info.blksize, 4000);
	assert_int_equal(f->data_sent, 3);
	/* DATA 1 and 2 (4004 + 8 bytes of UDP): 3 fragments each. */
	assert_int_equal(if_stats(A).ip_fragments, 2 * 3);
	f = wfile("fragwrite", 9000);
	assert_int_equal(put(f, &frag, &info), 9000);
	assert_int_equal(f->max_payload, 4000);
	assert_int_equal(f->data_rx, 3);
	assert_int_equal(if_stats(B).ip_fragments, 2 * 3);
	fstop();
	return NULL;
}

static void test_opts_fragment(void **state)
{
	(void)state;
	run(frag_main);
}

/* The agreed timeout (1 s) is the retransmission interval: a lost DATA
 * of a write is resent after 1 s, not CUB_TFTP_RETRY_NS. */
static void *timeout_main(void *arg)
{
	struct cub_tftp_opts o = { .timeout_s = 1 };
	struct cub_tftp_info info;
	struct stall_meter m;
	struct ffile *f;
	uint64_t t0, dt;

	(void)arg;
	fstart();
	f = wfile("slowretry", 3 * 512 + 1);
	f->drop_data = 2;
	stall_start(&m);
	t0 = cub_time_now();
	assert_int_equal(put(f, &o, &info), 3 * 512 + 1);
	dt = cub_time_now() - t0;
	assert_int_equal(info.timeout_s, 1);
	assert_int_equal(f->data_rx, 4 + 1);
	assert_true(dt >= 1000 * MS - 5 * MS);
	assert_true(dt < 1000 * MS + 400 * MS + stall_late(&m, t0, t0 + dt));
	stall_stop(&m);
	fstop();
	return NULL;
}

static void test_opts_timeout(void **state)
{
	(void)state;
	run(timeout_main);
}

static void *args_main(void *arg)
{
	struct cub_tftp_opts small = { .blksize = 7 }, big = { .blksize = 65465 };

	(void)arg;
	fstart();
	assert_int_equal(cub_tftp_get_opts(A, IP_B, "f", buf, 1, 0, &small, NULL),
			 -CUB_EINVAL);
	assert_int_equal(cub_tftp_get_opts(A, IP_B, "f", buf, 1, 0, &big, NULL),
			 -CUB_EINVAL);
	assert_int_equal(cub_tftp_get_opts(NULL, IP_B, "f", buf, 1, 0, NULL, NULL),
			 -CUB_EINVAL);
	wire_settle(&W);
	assert_int_equal(if_stats(A).tx_frames, 0);	/* nothing sent */
	fstop();
	return NULL;
}

static void test_opts_args(void **state)
{
	(void)state;
	run(args_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opts_accept),
		cmocka_unit_test(test_opts_lowered),
		cmocka_unit_test(test_opts_fallback),
		cmocka_unit_test(test_opts_refuse),
		cmocka_unit_test(test_opts_tsize),
		cmocka_unit_test(test_opts_lost_ack0),
		cmocka_unit_test(test_opts_fragment),
		cmocka_unit_test(test_opts_timeout),
		cmocka_unit_test(test_opts_args),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
