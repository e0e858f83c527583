/*
 * test_net_tftp_ascii.c - netascii mode (RFC 1350, RFC 764's NVT
 * ASCII) of cub_tftp_get_opts and cub_tftp_put_opts against the fake
 * TFTP server of tftp_fake.h, which serves and stores the wire's bytes
 * as they are.
 *
 * Proves: the request's mode is "netascii"; a read turns CR LF into LF
 * and CR NUL into CR when the CR ends one block and its LF or NUL
 * starts the next, keeps a lone CR before another byte and a CR that
 * ends the file, with 8-byte blocks and with 512-byte lock-step ones;
 * the converted file fills cap exactly, one byte more than cap is
 * -CUB_ENOSPC with ERROR 3, and a tsize over cap does not refuse (the
 * wire is longer than the file); a write turns LF into CR LF and CR
 * into CR NUL, split across blocks, ends with an empty block when the
 * wire bytes fill the last one, and tells tsize as the wire's length; a
 * text of 6000 random LF, CR, NUL and letters goes out and comes back
 * the same through 8-byte blocks in windows of 4 with a block lost
 * each way; the mode stays netascii when the server refuses the
 * options.
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

static uint8_t buf[16384];
static uint8_t dst[16384];		/* a write's wire bytes, stored */

/* Three blocks of 8: CR | LF across the first boundary, CR NUL, CR |
 * NUL across the second, a lone CR before 'm', CR LF, a CR at the end. */
static const uint8_t wire_in[] = "abcdefg\r" "\nhi\r\0jk\r" "\0l\rm\r\n\r";
static const char text_in[] = "abcdefg\nhi\rjk\rl\rm\n\r";
#define WIRE_IN (sizeof(wire_in) - 1)
#define TEXT_IN (sizeof(text_in) - 1)

static struct ffile *afile(const char *name, const uint8_t *content, size_t len)
{
	struct ffile *f = ffile(name, len);

	f->content = content;
	memset(dst, 0x5a, sizeof(dst));
	f->store = dst;
	f->store_cap = sizeof(dst);
	return f;
}

static long get(struct ffile *f, size_t cap, const struct cub_tftp_opts *o)
{
	long r;

	memset(buf, 0x5a, sizeof(buf));
	r = cub_tftp_get_opts(A, IP_B, f->name, buf, cap, UINT64_MAX, o, NULL);
	fwait(f);
	return r;
}

static void *read_main(void *arg)
{
	struct cub_tftp_opts o8 = { .blksize = 8, .netascii = true, .tsize = true };
	struct cub_tftp_opts plain = { .netascii = true };
	struct cub_tftp_info info;
	struct ffile *f;

	(void)arg;
	fstart();
	f = afile("r8", wire_in, WIRE_IN);
	assert_int_equal(get(f, sizeof(buf), &o8), (long)TEXT_IN);
	assert_string_equal(f->mode, "netascii");
	assert_int_equal(f->data_sent, 3);
	assert_memory_equal(buf, text_in, TEXT_IN);
	assert_int_equal(buf[TEXT_IN], 0x5a);
	/* Lock-step 512-byte blocks, no options: the same. */
	f = afile("r512", wire_in, WIRE_IN);
	assert_int_equal(get(f, sizeof(buf), &plain), (long)TEXT_IN);
	assert_int_equal(f->ask_blksize, -1);
	assert_memory_equal(buf, text_in, TEXT_IN);
	/* Exactly cap (the tsize of 23 over it does not refuse); one
	 * byte less: -CUB_ENOSPC, the server told. */
	f = afile("rcap", wire_in, WIRE_IN);
	assert_int_equal(cub_tftp_get_opts(A, IP_B, f->name, buf, TEXT_IN, UINT64_MAX,
					   &o8, &info), (long)TEXT_IN);
	fwait(f);
	assert_int_equal(info.tsize, WIRE_IN);
	assert_memory_equal(buf, text_in, TEXT_IN);
	f = afile("rshort", wire_in, WIRE_IN);
	assert_int_equal(get(f, TEXT_IN - 1, &o8), -CUB_ENOSPC);
	assert_int_equal(f->client_error, 3);
	fstop();
	return NULL;
}

static void test_ascii_read(void **state)
{
	(void)state;
	run(read_main);
}

static void *write_main(void *arg)
{
	static const char text[] = "abcdefg\nh\rij\r";
	static const uint8_t wire[] = "abcdefg\r" "\nh\r\0ij\r\0";
	struct cub_tftp_opts o8 = { .blksize = 8, .netascii = true, .tsize = true };
	struct ffile *f;

	(void)arg;
	fstart();
	f = afile("w8", NULL, sizeof(text) - 1);
	assert_int_equal(cub_tftp_put_opts(A, IP_B, f->name, text, sizeof(text) - 1,
					   UINT64_MAX, &o8, NULL), (long)sizeof(text) - 1);
	fwait(f);
	assert_string_equal(f->mode, "netascii");
	assert_int_equal(f->ask_tsize, sizeof(wire) - 1);	/* the wire's */
	assert_true(f->complete);
	assert_int_equal(f->written, sizeof(wire) - 1);
	assert_memory_equal(dst, wire, sizeof(wire) - 1);
	assert_int_equal(f->data_rx, 3);	/* 8, 8, then empty */
	assert_int_equal(f->max_payload, 8);
	fstop();
	return NULL;
}

static void test_ascii_write(void **state)
{
	(void)state;
	run(write_main);
}

/* 6000 random bytes of LF, CR, NUL and letters out and back, 8-byte
 * blocks, windows of 4, DATA 7 lost each way. */
static void *round_main(void *arg)
{
	static uint8_t text[6000];
	static uint8_t wire[sizeof(dst)];
	static const uint8_t alpha[] = { '\n', '\r', '\0', 'a', 'b' };
	struct cub_tftp_opts o = { .blksize = 8, .windowsize = 4, .netascii = true };
	uint64_t rng = 88172645463325252ull;
	struct ffile *f;
	size_t n, lf = 0, cr = 0;

	(void)arg;
	fstart();
	for (size_t i = 0; i < sizeof(text); i++) {
		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		text[i] = alpha[rng % sizeof(alpha)];
		lf += text[i] == '\n';
		cr += text[i] == '\r';
	}
	f = afile("wround", NULL, sizeof(text));
	f->drop_data = 7;
	assert_int_equal(cub_tftp_put_opts(A, IP_B, f->name, text, sizeof(text), UINT64_MAX,
					   &o, NULL), (long)sizeof(text));
	fwait(f);
	n = f->written;
	assert_int_equal(n, sizeof(text) + lf + cr);
	for (size_t i = 0; i < n; i++)	/* no bare LF; CR then LF or NUL */
		if (dst[i] == '\r')
			assert_true(i + 1 < n && (dst[i + 1] == '\n' || dst[i + 1] == '\0'));
		else if (dst[i] == '\n')
			assert_true(i > 0 && dst[i - 1] == '\r');
	memcpy(wire, dst, n);
	f = afile("rround", wire, n);
	f->lose_data = 7;
	assert_int_equal(get(f, sizeof(buf), &o), (long)sizeof(text));
	assert_memory_equal(buf, text, sizeof(text));
	fstop();
	return NULL;
}

static void test_ascii_round_trip(void **state)
{
	(void)state;
	run(round_main);
}

/* A server refusing the options: asked again in netascii. */
static void *refused_main(void *arg)
{
	struct cub_tftp_opts o = { .blksize = 8, .netascii = true };
	struct ffile *f;

	(void)arg;
	fstart();
	f = afile("refused", wire_in, WIRE_IN);
	f->refuse_opts = true;
	assert_int_equal(get(f, sizeof(buf), &o), (long)TEXT_IN);
	assert_int_equal(f->reqs, 2);
	assert_string_equal(f->mode, "netascii");
	assert_int_equal(f->ask_blksize, -1);
	assert_memory_equal(buf, text_in, TEXT_IN);
	fstop();
	return NULL;
}

static void test_ascii_refused(void **state)
{
	(void)state;
	run(refused_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ascii_read),
		cmocka_unit_test(test_ascii_write),
		cmocka_unit_test(test_ascii_round_trip),
		cmocka_unit_test(test_ascii_refused),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
