/*
 * test_net_tftp_win.c - RFC 7440 windowsize and RFC 2347's retry
 * without options of cub_tftp_get_opts and cub_tftp_put_opts against
 * the fake TFTP server of tftp_fake.h.
 *
 * Proves: a window of 8 moves a 31-block file (and one of 17, its last
 * block empty) both ways byte exact with one ACK per window; a block
 * lost in the middle of a window is answered at once by the ACK of the
 * last block in order and the window starts again after it (a read and
 * a write); a window's lost last block is recovered after the
 * retransmission interval, and a lost ACK of a window's end makes the
 * writer resend the window, which the server ACKs again without storing
 * it twice; a server that leaves windowsize out of its OACK, or ignores
 * the options, gets lock-step, and a lowered window is used; a raised
 * or zero windowsize in the OACK is refused with ERROR 8 and
 * -CUB_EPROTO; windowsize over 65535 is -CUB_EINVAL with nothing sent,
 * and 0 or 1 is not asked; a server's ERROR 8 to a request with options
 * makes the client ask once more without them (reads and writes; info
 * says so), a second ERROR 8 is -CUB_EPROTO, and an ERROR 8 to a request
 * without options is -CUB_EPROTO at once; a read asks no larger window
 * than its receive queue holds (64 asked as 16, 16 blocks of 16384
 * bytes as 7), so a server resending its window every 50 ms sends each
 * of 61 blocks once and the read takes less than one retransmission
 * interval (1.5 s before), while a write asks its 64.
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

static uint8_t buf[32768];		/* a read's buffer */
static uint8_t src[32768];		/* a write's source */
static uint8_t dst[32768];		/* ...and where the server stores it */

#define wfile(name, len) fwfile(name, len, src, dst, sizeof(dst))

static long get(struct ffile *f, const struct cub_tftp_opts *o, struct cub_tftp_info *info)
{
	return fget(f, buf, sizeof(buf), sizeof(buf) - 1, o, info);
}

static long put(struct ffile *f, const struct cub_tftp_opts *o, struct cub_tftp_info *info)
{
	return fput(f, src, o, info);
}

#define LEN31 (30 * 512 + 100)		/* 31 blocks: windows 8, 8, 8, 7 */
#define LEN17 (16 * 512)		/* 17 blocks, the last empty */

/* ------------------------------------------------------------------ tests */

static void *window_main(void *arg)
{
	static const char rreq[] = "\0\1w31\0octet\0windowsize\0" "8";
	struct cub_tftp_opts o = { .windowsize = 8 };
	struct cub_tftp_info info;
	struct ffile *f;

	(void)arg;
	fstart();
	f = ffile("w31", LEN31);
	assert_int_equal(get(f, &o, &info), LEN31);
	assert_int_equal(f->req_len, sizeof(rreq));
	assert_memory_equal(f->req, rreq, sizeof(rreq));
	assert_true(info.oack);
	assert_int_equal(info.windowsize, 8);
	assert_int_equal(f->data_sent, 31);
	assert_int_equal(f->acks, 1 + 4);	/* ACK 0, ACK 8, 16, 24, 31 */
	assert_int_equal(f->dup_acks, 0);
	assert_int_equal(info.sends, 1 + 1 + 4);
	f = ffile("w17", LEN17);
	assert_int_equal(get(f, &o, &info), LEN17);
	assert_int_equal(f->data_sent, 17);
	assert_int_equal(f->acks, 1 + 3);	/* ACK 0, 8, 16, 17 */

	f = wfile("p31", LEN31);
	assert_int_equal(put(f, &o, &info), LEN31);
	assert_int_equal(f->ask_window, 8);
	assert_int_equal(info.windowsize, 8);
	assert_int_equal(f->data_rx, 31);
	assert_int_equal(f->acks_sent, 4);	/* ACK 8, 16, 24, 31 */
	assert_int_equal(f->dup_data, 0);
	assert_int_equal(info.sends, 1 + 31);
	f = wfile("p17", LEN17);
	assert_int_equal(put(f, &o, &info), LEN17);
	assert_int_equal(f->data_rx, 17);
	assert_int_equal(f->acks_sent, 3);
	fstop();
	return NULL;
}

static void test_win_transfer(void **state)
{
	(void)state;
	run(window_main);
}

/* DATA 5 of the window 1-8 lost: the gap's ACK 4 at once, then 5-12. */
static void *lost_mid_main(void *arg)
{
	struct cub_tftp_opts o = { .windowsize = 8 };
	struct stall_meter m;
	struct ffile *f;
	uint64_t t0, dt;

	(void)arg;
	fstart();
	stall_start(&m);
	f = ffile("rmid", 20 * 512 + 10);	/* 21 blocks */
	f->lose_data = 5;
	t0 = cub_time_now();
	assert_int_equal(get(f, &o, NULL), (long)f->len);
	dt = cub_time_now() - t0;
	assert_true(dt < CUB_TFTP_RETRY_NS / 2 + stall_late(&m, t0, t0 + dt));
	assert_int_equal(f->data_sent, 21 + 4);	/* 5-8 twice */
	assert_int_equal(f->acks, 1 + 1 + 3);	/* ACK 0, 4, 12, 20, 21 */
	assert_int_equal(f->dup_acks, 0);

	f = wfile("wmid", 20 * 512 + 10);
	f->drop_data = 5;
	t0 = cub_time_now();
	assert_int_equal(put(f, &o, NULL), (long)f->len);
	dt = cub_time_now() - t0;
	assert_true(dt < CUB_TFTP_RETRY_NS / 2 + stall_late(&m, t0, t0 + dt));
	assert_int_equal(f->data_rx, 21 + 4);	/* 5-8 twice */
	assert_int_equal(f->acks_sent, 4);	/* ACK 4, 12, 20, 21 */
	assert_int_equal(f->dup_data, 0);
	stall_stop(&m);
	fstop();
	return NULL;
}

static void test_win_lost_mid(void **state)
{
	(void)state;
	run(lost_mid_main);
}

/* A window's last block lost: no gap to see, so after the retry time
 * the reader ACKs 7 and the server goes on from 8. The ACK of a
 * window's end lost: the writer resends the window, the server ACKs it
 * again and stores nothing twice. */
static void *lost_end_main(void *arg)
{
	struct cub_tftp_opts o = { .windowsize = 8 };
	struct ffile *f;
	uint64_t t0, dt;

	(void)arg;
	fstart();
	f = ffile("rend", 12 * 512);		/* 13 blocks */
	f->lose_data = 8;
	t0 = cub_time_now();
	assert_int_equal(get(f, &o, NULL), (long)f->len);
	dt = cub_time_now() - t0;
	assert_true(dt >= CUB_TFTP_RETRY_NS - 5 * MS);
	assert_int_equal(f->data_sent, 13 + 1);
	assert_int_equal(f->acks, 1 + 1 + 1);	/* ACK 0, 7 (timeout), 13 */

	f = wfile("wend", 12 * 512);
	f->lose_ack = 8;
	t0 = cub_time_now();
	assert_int_equal(put(f, &o, NULL), (long)f->len);
	dt = cub_time_now() - t0;
	assert_true(dt >= CUB_TFTP_RETRY_NS - 5 * MS);
	assert_int_equal(f->data_rx, 13 + 8);	/* 1-8 twice */
	assert_int_equal(f->dup_data, 8);	/* ...not stored again */
	assert_int_equal(f->acks_sent, 2);	/* ACK 8 (after the resend), 13 */
	fstop();
	return NULL;
}

static void test_win_lost_end(void **state)
{
	(void)state;
	run(lost_end_main);
}

/* The server leaves windowsize out, ignores the options, or lowers it. */
static void *fallback_main(void *arg)
{
	struct cub_tftp_opts o = { .blksize = 1024, .windowsize = 8 };
	struct cub_tftp_info info;
	struct ffile *f;

	(void)arg;
	fstart();
	f = ffile("rleft", 9 * 1024 + 1);	/* 10 blocks of 1024 */
	f->oack_window = -1;
	assert_int_equal(get(f, &o, &info), (long)f->len);
	assert_true(info.oack);
	assert_int_equal(info.blksize, 1024);
	assert_int_equal(info.windowsize, 1);
	assert_int_equal(f->acks, 1 + 10);	/* lock-step */
	f = wfile("wleft", 9 * 1024 + 1);
	f->oack_window = -1;
	assert_int_equal(put(f, &o, &info), (long)f->len);
	assert_int_equal(info.windowsize, 1);
	assert_int_equal(f->acks_sent, 10);

	f = ffile("rignored", 3 * 512 + 1);
	f->ignore_opts = true;
	assert_int_equal(get(f, &o, &info), (long)f->len);
	assert_false(info.oack);
	assert_int_equal(info.windowsize, 1);
	assert_int_equal(f->acks, 4);
	f = wfile("wignored", 3 * 512 + 1);
	f->ignore_opts = true;
	assert_int_equal(put(f, &o, &info), (long)f->len);
	assert_int_equal(info.windowsize, 1);
	assert_int_equal(f->acks_sent, 4);

	f = ffile("rlow", 9 * 1024 + 1);
	f->oack_window = 3;
	assert_int_equal(get(f, &o, &info), (long)f->len);
	assert_int_equal(info.windowsize, 3);
	assert_int_equal(f->acks, 1 + 4);	/* ACK 0, 3, 6, 9, 10 */
	f = wfile("wlow", 9 * 1024 + 1);
	f->oack_window = 3;
	assert_int_equal(put(f, &o, &info), (long)f->len);
	assert_int_equal(f->acks_sent, 4);
	fstop();
	return NULL;
}

static void test_win_fallback(void **state)
{
	(void)state;
	run(fallback_main);
}

/* A raised or zero windowsize in the OACK: ERROR 8, -CUB_EPROTO. */
static void *bad_oack_main(void *arg)
{
	static const uint8_t zero[] = "\0\6windowsize\0" "0";
	struct cub_tftp_opts o = { .windowsize = 8 };
	struct ffile *f;

	(void)arg;
	fstart();
	f = ffile("raised", 5000);
	f->oack_window = 9;
	assert_int_equal(get(f, &o, NULL), -CUB_EPROTO);
	assert_int_equal(f->client_error, 8);
	assert_int_equal(f->data_sent, 0);
	f = wfile("wraised", 5000);
	f->oack_window = 9;
	assert_int_equal(put(f, &o, NULL), -CUB_EPROTO);
	assert_int_equal(f->client_error, 8);
	assert_int_equal(f->data_rx, 0);
	f = ffile("zero", 5000);
	f->raw_oack = zero;
	f->raw_len = sizeof(zero);
	assert_int_equal(get(f, &o, NULL), -CUB_EPROTO);
	assert_int_equal(f->client_error, 8);
	fstop();
	return NULL;
}

static void test_win_bad_oack(void **state)
{
	(void)state;
	run(bad_oack_main);
}

static void *args_main(void *arg)
{
	struct cub_tftp_opts big = { .windowsize = 65536 }, huge = { .windowsize = UINT32_MAX };
	struct cub_tftp_opts one = { .windowsize = 1 };
	struct ffile *f;

	(void)arg;
	fstart();
	assert_int_equal(cub_tftp_get_opts(A, IP_B, "f", buf, 1, 0, &big, NULL), -CUB_EINVAL);
	assert_int_equal(cub_tftp_get_opts(A, IP_B, "f", buf, 1, 0, &huge, NULL), -CUB_EINVAL);
	assert_int_equal(cub_tftp_put_opts(A, IP_B, "f", src, 1, 0, &big, NULL), -CUB_EINVAL);
	assert_int_equal(cub_tftp_put_opts(A, IP_B, "f", src, 1, 0, &huge, NULL), -CUB_EINVAL);
	wire_settle(&W);
	assert_int_equal(if_stats(A).tx_frames, 0);	/* nothing sent */
	/* 1 is lock-step: not asked, the request is RFC 1350's. */
	f = ffile("one", 700);
	assert_int_equal(get(f, &one, NULL), 700);
	assert_int_equal(f->req_len, 2 + 4 + 6);
	assert_int_equal(f->ask_window, -1);
	fstop();
	return NULL;
}

static void test_win_args(void **state)
{
	(void)state;
	run(args_main);
}

/* A read asks no larger window than its endpoint's receive queue
 * holds: the blocks past it would be lost at the endpoint with no gap
 * to show it, and each window would wait out the retransmission
 * interval (model_tftp measured 3.0 s for 109 blocks in windows of 64).
 * A write asks what it was given (the server's queue is the server's). */
static void *queue_main(void *arg)
{
	struct cub_tftp_opts o = { .windowsize = 64 };
	struct cub_tftp_opts big = { .blksize = 16384, .fragment = true, .windowsize = 16 };
	struct cub_tftp_info info;
	struct ffile *f;
	uint64_t t0, dt, w0;

	(void)arg;
	fstart();
	f = ffile("q61", 60 * 512 + 7);		/* 61 blocks */
	f->retry_ns = 50 * MS;			/* it resends its window, */
	f->max_timeouts = 100;			/* ...patiently */
	w0 = test_waited_ns();
	t0 = cub_time_now();
	assert_int_equal(get(f, &o, &info), (long)f->len);
	dt = cub_time_now() - t0;
	assert_int_equal(f->ask_window, CUB_UDP_QUEUE_LEN);
	assert_int_equal(info.windowsize, CUB_UDP_QUEUE_LEN);
	/* Nothing lost, nothing resent: the server's 50 ms resend can only
	 * have come first when the thread waited that long for a CPU. */
	assert_true(f->data_sent == 61 || test_waited_ns() - w0 >= 50 * MS);
	assert_true(dt < test_bound(CUB_TFTP_RETRY_NS, w0));
	/* 16 blocks of 16384 bytes overfill CUB_UDP_RCVBUF: 7 fit. */
	f = ffile("qbig", 100);
	assert_int_equal(get(f, &big, &info), 100);
	assert_int_equal(f->ask_window, CUB_UDP_RCVBUF / (4 + 16384));
	f = wfile("wq61", 60 * 512 + 7);
	f->retry_ns = 50 * MS;
	assert_int_equal(put(f, &o, &info), (long)f->len);
	assert_int_equal(f->ask_window, 64);
	fstop();
	return NULL;
}

static void test_win_queue(void **state)
{
	(void)state;
	run(queue_main);
}

/* RFC 2347: a server that refuses the options with ERROR 8 is asked
 * again without them, once. */
static void *refused_main(void *arg)
{
	struct cub_tftp_opts o = { .blksize = 1024, .windowsize = 4, .tsize = true };
	struct cub_tftp_info info;
	struct ffile *f;

	(void)arg;
	fstart();
	f = ffile("rrefuse", 3 * 512 + 5);
	f->refuse_opts = true;
	assert_int_equal(get(f, &o, &info), (long)f->len);
	assert_int_equal(f->reqs, 2);
	assert_int_equal(f->req_len, 2 + 8 + 6);	/* the second: plain */
	assert_true(info.refused);
	assert_false(info.oack);
	assert_false(info.tsize_known);
	assert_int_equal(info.blksize, 512);
	assert_int_equal(info.windowsize, 1);
	assert_int_equal(info.sends, 2 + 4);	/* two RRQs, ACK 1-4 */
	assert_int_equal(f->acks, 4);

	f = wfile("wrefuse", 3 * 512 + 5);
	f->refuse_opts = true;
	assert_int_equal(put(f, &o, &info), (long)f->len);
	assert_int_equal(f->reqs, 2);
	assert_int_equal(f->req_len, 2 + 8 + 6);
	assert_true(info.refused);
	assert_int_equal(f->max_payload, 512);
	assert_int_equal(info.sends, 2 + 4);

	/* The request duplicated (by the network or a retry): an ERROR 8
	 * for each copy. The second goes to the first request's port,
	 * closed, and does not refuse the plain request. */
	f = ffile("rrefuse2", 2 * 512 + 9);
	f->refuse_opts = f->refuse_twice = true;
	assert_int_equal(get(f, &o, &info), (long)f->len);
	assert_int_equal(f->reqs, 2);
	assert_true(info.refused);
	f = wfile("wrefuse2", 2 * 512 + 9);
	f->refuse_opts = f->refuse_twice = true;
	assert_int_equal(put(f, &o, &info), (long)f->len);
	assert_int_equal(f->reqs, 2);
	assert_true(info.refused);

	/* Refused every time: -CUB_EPROTO after the second request. */
	f = ffile("always8", 100);
	f->error = 8;
	assert_int_equal(get(f, &o, &info), -CUB_EPROTO);
	assert_int_equal(f->reqs, 2);
	assert_true(info.refused);
	f = wfile("walways8", 100);
	f->error = 8;
	assert_int_equal(put(f, &o, &info), -CUB_EPROTO);
	assert_int_equal(f->reqs, 2);
	/* Without options there is nothing to drop: at once. */
	f = ffile("plain8", 100);
	f->error = 8;
	assert_int_equal(get(f, NULL, &info), -CUB_EPROTO);
	assert_int_equal(f->reqs, 1);
	assert_false(info.refused);
	fstop();
	return NULL;
}

static void test_win_refused(void **state)
{
	(void)state;
	run(refused_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_win_transfer),
		cmocka_unit_test(test_win_lost_mid),
		cmocka_unit_test(test_win_lost_end),
		cmocka_unit_test(test_win_fallback),
		cmocka_unit_test(test_win_bad_oack),
		cmocka_unit_test(test_win_args),
		cmocka_unit_test(test_win_refused),
		cmocka_unit_test(test_win_queue),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
