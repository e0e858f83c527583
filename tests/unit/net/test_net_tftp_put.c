/*
 * test_net_tftp_put.c - cub_tftp_put against the fake TFTP server of
 * tftp_fake.h (writes stored where the test can check them).
 *
 * Proves: files of 0, 511, 512, 513 and 100 KiB + 7 bytes arrive byte
 * exact, in len / 512 + 1 DATA (an empty last one after a whole number
 * of blocks); the WRQ's format (no options); a lost DATA is resent after
 * the retry time, a lost ACK makes the client resend a DATA the server
 * then ACKs again without storing it twice; the server's own resent ACKs
 * are not answered by the client (no Sorcerer's Apprentice); a foreign
 * port's ERROR gets ERROR 5 and does not end the write; the server's
 * ERRORs 1, 2, 3, 6, 8 and others each map to their code, at the
 * request or mid-transfer; a silent server ends -CUB_ETIMEDOUT after
 * CUB_TFTP_TRIES sends of the WRQ or of a DATA; the timeout argument;
 * block numbers wrap past 65535 (blksize 8, 600000 bytes: 75001 DATA);
 * bad arguments send nothing.
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

#define BIG (100 * 1024 + 7)
static uint8_t src[BIG];		/* what is written: fgen(name) */
static uint8_t dst[BIG + 1024];		/* where the server stores it */

#define wfile(name, len) fwfile(name, len, src, dst, sizeof(dst))

/* Writes f's len bytes; when it succeeds checks what the server has. */
static long put(struct ffile *f)
{
	long r = cub_tftp_put(A, IP_B, f->name, src, f->len, UINT64_MAX);

	if (r >= 0) {
		assert_int_equal(r, (long)f->len);
		fwait(f);
		assert_true(f->complete);
		assert_int_equal(f->written, f->len);
		assert_true(fcheck(f->name, dst, f->len));
		assert_int_equal(dst[f->len], 0x5a);	/* nothing beyond */
	}
	return r;
}

/* ------------------------------------------------------------------ tests */

static void *sizes_main(void *arg)
{
	static const size_t len[] = { 0, 511, 512, 513, BIG };
	static const char *const name[] = { "zero", "b511", "b512", "b513", "big" };

	(void)arg;
	fstart();
	for (size_t i = 0; i < sizeof(len) / sizeof(len[0]); i++) {
		struct ffile *f = wfile(name[i], len[i]);
		size_t nl = strlen(name[i]);

		assert_int_equal(put(f), (long)len[i]);
		assert_int_equal(f->reqs, 1);
		assert_int_equal(f->data_rx, len[i] / 512 + 1);
		assert_int_equal(f->acks_sent, len[i] / 512 + 1);
		assert_int_equal(f->dup_data, 0);
		assert_int_equal(f->max_payload, len[i] < 512 ? len[i] : 512);
		assert_int_equal(f->client_error, -1);
		/* The WRQ: opcode 2, name, 0, "octet", 0 - nothing else. */
		assert_int_equal(f->req_len, 2 + nl + 1 + 6);
		assert_int_equal(t_get16(f->req), WRQ);
		assert_memory_equal(f->req + 2, name[i], nl + 1);
		assert_memory_equal(f->req + 2 + nl + 1, "octet", 6);
		assert_true(f->client_port >= CUB_UDP_EPHEMERAL_MIN);
	}
	/* An empty file needs no buffer. */
	{
		struct ffile *f = wfile("nullbuf", 0);

		assert_int_equal(cub_tftp_put(A, IP_B, "nullbuf", NULL, 0, UINT64_MAX), 0);
		fwait(f);
		assert_true(f->complete);
		assert_int_equal(f->data_rx, 1);
	}
	fstop();
	return NULL;
}

static void test_put_sizes(void **state)
{
	(void)state;
	run(sizes_main);
}

/* DATA 3 lost: after CUB_TFTP_RETRY_NS the client sends it again, once.
 * ACK 5 lost: the client resends DATA 5, the server ACKs the duplicate
 * without storing it again. */
static void *lost_main(void *arg)
{
	struct stall_meter m;
	struct ffile *f;
	uint64_t t0, dt;

	(void)arg;
	fstart();
	f = wfile("lostdata", 6 * 512 + 10);
	f->drop_data = 3;
	stall_start(&m);
	t0 = cub_time_now();
	assert_int_equal(put(f), (long)f->len);
	dt = cub_time_now() - t0;
	assert_int_equal(f->data_rx, 7 + 1);	/* DATA 3 twice */
	assert_int_equal(f->acks_sent, 7);
	assert_int_equal(f->dup_data, 0);
	assert_true(dt >= CUB_TFTP_RETRY_NS - 5 * MS);
	assert_true(dt < CUB_TFTP_RETRY_NS + 400 * MS + stall_late(&m, t0, t0 + dt));

	f = wfile("lostack", 7 * 512 + 20);
	f->lose_ack = 5;
	assert_int_equal(put(f), (long)f->len);
	assert_int_equal(f->data_rx, 8 + 1);	/* DATA 5 twice */
	assert_int_equal(f->dup_data, 1);	/* ...the second not stored */
	assert_int_equal(f->acks_sent, 8);	/* ACK 1-8, 5 after the resend */
	stall_stop(&m);
	fstop();
	return NULL;
}

static void test_put_lost_packets(void **state)
{
	(void)state;
	run(lost_main);
}

/* Every ACK arrives twice: the client ignores the second (answering it
 * with DATA would send every later block twice, RFC 1123 4.2.3.1's
 * Sorcerer's Apprentice). And while DATA 3 is lost the server resends
 * ACK 2 every 100 ms: the client resends DATA 3 once, on its own
 * timeout, not on those. */
static void *apprentice_main(void *arg)
{
	struct stall_meter m;
	struct ffile *f;
	uint64_t t0, dt;

	(void)arg;
	fstart();
	f = wfile("twice", 20 * 512 + 3);
	f->twice = true;
	assert_int_equal(put(f), (long)f->len);
	assert_int_equal(f->acks_sent, 2 * 21);
	assert_int_equal(f->data_rx, 21);
	assert_int_equal(f->dup_data, 0);

	f = wfile("apprentice", 5 * 512 + 3);
	f->drop_data = 3;
	f->retry_ns = 100 * MS;
	stall_start(&m);
	t0 = cub_time_now();
	assert_int_equal(cub_tftp_put(A, IP_B, f->name, src, f->len, UINT64_MAX),
			 (long)f->len);
	dt = cub_time_now() - t0;
	assert_true(dt >= CUB_TFTP_RETRY_NS - 5 * MS);
	assert_true(dt < CUB_TFTP_RETRY_NS + 400 * MS + stall_late(&m, t0, t0 + dt));
	stall_stop(&m);
	fwait(f);		/* after its dally: 8 timeouts of 100 ms */
	assert_true(fcheck(f->name, dst, f->len));
	assert_true(f->acks_sent >= 6 + 3);	/* ACK 2 resent meanwhile */
	assert_int_equal(f->data_rx, 6 + 1);
	assert_int_equal(f->dup_data, 0);
	fstop();
	return NULL;
}

static void test_put_no_apprentice(void **state)
{
	(void)state;
	run(apprentice_main);
}

/* An ERROR 3 from another port after DATA 2: ERROR 5 to that port, and
 * the write goes on to the end. */
static void *foreign_main(void *arg)
{
	struct ffile *f;

	(void)arg;
	fstart();
	f = wfile("foreign", 5 * 512 + 1);
	f->foreign_at = 2;
	assert_int_equal(put(f), (long)f->len);
	assert_int_equal(f->foreign_reply, 5);
	assert_int_equal(f->data_rx, 6);
	fstop();
	return NULL;
}

static void test_put_foreign_port(void **state)
{
	(void)state;
	run(foreign_main);
}

/* The server's ERRORs at the request, and one after DATA 2. */
static void *errors_main(void *arg)
{
	static const struct {
		const char *name;
		int code, want;
	} e[] = {
		{ "e_notfound", 1, -CUB_ENOENT }, { "e_access", 2, -CUB_EACCES },
		{ "e_full", 3, -CUB_ENOSPC }, { "e_exists", 6, -CUB_EEXIST },
		{ "e_options", 8, -CUB_EPROTO }, { "e_undef", 0, -CUB_EIO },
		{ "e_illegal", 4, -CUB_EIO }, { "e_tid", 5, -CUB_EIO },
		{ "e_user", 7, -CUB_EIO }, { "e_odd", 99, -CUB_EIO },
	};
	struct ffile *f;

	(void)arg;
	fstart();
	for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
		f = wfile(e[i].name, 100);
		f->error = e[i].code;
		assert_int_equal(put(f), e[i].want);
		fwait(f);
		assert_int_equal(f->data_rx, 0);
	}
	f = wfile("midway", 4 * 512);
	f->error_after = 2;
	f->mid_error = 3;
	assert_int_equal(put(f), -CUB_ENOSPC);
	fwait(f);
	assert_int_equal(f->data_rx, 2);
	fstop();
	return NULL;
}

static void test_put_errors(void **state)
{
	(void)state;
	run(errors_main);
}

/* A silent server: CUB_TFTP_TRIES WRQs, then -CUB_ETIMEDOUT. A server
 * silent after ACK 2: CUB_TFTP_TRIES sends of DATA 3. Both at once; the
 * timeout argument cuts it short. */
static struct ffile *mute;
static uint8_t mute_src[5 * 512];

static void *put_mute(void *arg)
{
	(void)arg;
	assert_int_equal(cub_tftp_put(A, IP_B, "mute", mute_src, sizeof(mute_src),
				      UINT64_MAX), -CUB_ETIMEDOUT);
	return NULL;
}

static void *silent_main(void *arg)
{
	static uint8_t mute_dst[5 * 512];
	struct stall_meter m;
	struct ffile *f;
	struct cub_coro *c;
	uint64_t t0, dt;

	(void)arg;
	fstart();
	f = wfile("silent", 100);
	f->silent = true;
	mute = ffile("mute", sizeof(mute_src));
	mute->store = mute_dst;
	mute->store_cap = sizeof(mute_dst);
	mute->stop_after = 2;
	stall_start(&m);
	assert_int_equal(cub_coro_spawn(&c, put_mute, NULL, NULL), 0);
	t0 = cub_time_now();
	assert_int_equal(cub_tftp_put(A, IP_B, "silent", src, 100, UINT64_MAX),
			 -CUB_ETIMEDOUT);
	dt = cub_time_now() - t0;
	assert_true(dt >= CUB_TFTP_TRIES * CUB_TFTP_RETRY_NS - 5 * MS);
	assert_true(dt < CUB_TFTP_TRIES * CUB_TFTP_RETRY_NS + 400 * MS +
			     stall_late(&m, t0, t0 + dt));
	assert_int_equal(f->reqs, CUB_TFTP_TRIES);
	cub_coro_join(c, NULL);
	fwait(mute);
	assert_int_equal(mute->reqs, 1);
	assert_int_equal(mute->data_rx, 2 + CUB_TFTP_TRIES);
	assert_int_equal(mute->stop_data, CUB_TFTP_TRIES);	/* DATA 3 */

	/* The timeout argument ends it before the first resend. */
	f->reqs = 0;
	t0 = cub_time_now();
	assert_int_equal(cub_tftp_put(A, IP_B, "silent", src, 100, 100 * MS),
			 -CUB_ETIMEDOUT);
	dt = cub_time_now() - t0;
	assert_true(dt >= 100 * MS);
	assert_true(dt < 400 * MS + stall_late(&m, t0, t0 + dt));
	stall_stop(&m);
	wire_settle(&W);
	assert_int_equal(f->reqs, 1);
	fstop();
	return NULL;
}

static void test_put_silent(void **state)
{
	(void)state;
	run(silent_main);
}

/* Blocks of 8 bytes (an OACK agreeing) and 600000 bytes: 75001 DATA,
 * the numbers wrapping past 65535 to 0 (the fake server checks each
 * number mod 2^16 and stores by its count). */
#define WRAP_LEN 600000ul
static uint8_t wsrc[WRAP_LEN], wdst[WRAP_LEN + 64];

static void *wrap_main(void *arg)
{
	struct cub_tftp_opts o = { .blksize = 8 };
	struct cub_tftp_info info;
	struct ffile *f;

	(void)arg;
	fstart();
	f = ffile("wrap", WRAP_LEN);
	for (size_t i = 0; i < WRAP_LEN; i++)
		wsrc[i] = fgen("wrap", i);
	memset(wdst, 0x5a, sizeof(wdst));
	f->store = wdst;
	f->store_cap = sizeof(wdst);
	assert_int_equal(cub_tftp_put_opts(A, IP_B, "wrap", wsrc, WRAP_LEN, UINT64_MAX,
					   &o, &info), (long)WRAP_LEN);
	fwait(f);
	assert_true(info.oack);
	assert_int_equal(info.blksize, 8);
	assert_true(f->complete);
	assert_int_equal(f->written, WRAP_LEN);
	assert_true(fcheck("wrap", wdst, WRAP_LEN));
	assert_int_equal(wdst[WRAP_LEN], 0x5a);
	assert_true(f->data_rx >= WRAP_LEN / 8 + 1);	/* > 65536: wrapped */
	fstop();
	return NULL;
}

static void test_put_wrap(void **state)
{
	(void)state;
	run(wrap_main);
}

static void *args_main(void *arg)
{
	static char toolong[CUB_TFTP_NAME_MAX + 2];
	struct cub_tftp_opts small = { .blksize = 7 }, big = { .blksize = 65465 };

	(void)arg;
	fstart();
	memset(toolong, 'x', CUB_TFTP_NAME_MAX + 1);
	assert_int_equal(cub_tftp_put(NULL, IP_B, "f", src, 1, 0), -CUB_EINVAL);
	assert_int_equal(cub_tftp_put(A, 0, "f", src, 1, 0), -CUB_EINVAL);
	assert_int_equal(cub_tftp_put(A, IP_B, NULL, src, 1, 0), -CUB_EINVAL);
	assert_int_equal(cub_tftp_put(A, IP_B, "", src, 1, 0), -CUB_EINVAL);
	assert_int_equal(cub_tftp_put(A, IP_B, toolong, src, 1, 0), -CUB_EINVAL);
	assert_int_equal(cub_tftp_put(A, IP_B, "f", NULL, 1, 0), -CUB_EINVAL);
	assert_int_equal(cub_tftp_put_opts(A, IP_B, "f", src, 1, 0, &small, NULL),
			 -CUB_EINVAL);
	assert_int_equal(cub_tftp_put_opts(A, IP_B, "f", src, 1, 0, &big, NULL),
			 -CUB_EINVAL);
	wire_settle(&W);
	assert_int_equal(if_stats(A).tx_frames, 0);	/* nothing sent */
	fstop();
	return NULL;
}

static void test_put_args(void **state)
{
	(void)state;
	run(args_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_sizes),
		cmocka_unit_test(test_put_lost_packets),
		cmocka_unit_test(test_put_no_apprentice),
		cmocka_unit_test(test_put_foreign_port),
		cmocka_unit_test(test_put_errors),
		cmocka_unit_test(test_put_silent),
		cmocka_unit_test(test_put_wrap),
		cmocka_unit_test(test_put_args),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
