/*
 * test_string.c - unit tests for the freestanding string helpers
 * (src/core/string.c): every function, at every small alignment and
 * length including zero, overlapping moves in both directions, the
 * truncation of cub_strlcpy and the whole contract of cub_parse_long.
 * Byte-wise reference models (or the host libc) are the oracles; canary
 * bytes around every destination catch writes out of bounds.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cubrt/string.h>

#define CANARY 0xa5
#define MAXLEN 72
#define MAXOFF 16

/* 16-byte aligned so that offset 0 takes the word-copy paths. */
static _Alignas(16) unsigned char src_buf[MAXOFF + MAXLEN + MAXOFF];
static _Alignas(16) unsigned char dst_buf[MAXOFF + MAXLEN + MAXOFF];

static void fill_pattern(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed * 31 + i * 7 + 1);
}

static void assert_canaries(const unsigned char *p, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		assert_int_equal(p[i], CANARY);
}

static void test_memcpy(void **state)
{
	(void)state;
	for (size_t so = 0; so < MAXOFF; so++) {
		for (size_t doff = 0; doff < MAXOFF; doff++) {
			for (size_t n = 0; n <= MAXLEN; n++) {
				void *r;

				fill_pattern(src_buf, sizeof(src_buf), (unsigned)(so + n));
				memset(dst_buf, CANARY, sizeof(dst_buf));
				r = cub_memcpy(dst_buf + doff, src_buf + so, n);
				assert_ptr_equal(r, dst_buf + doff);
				if (n)
					assert_memory_equal(dst_buf + doff, src_buf + so, n);
				assert_canaries(dst_buf, 0, doff);
				assert_canaries(dst_buf, doff + n, sizeof(dst_buf));
			}
		}
	}
}

/* memmove within one buffer against a model that copies through a temp. */
static void check_move(size_t doff, size_t soff, size_t n)
{
	unsigned char buf[MAXOFF * 3 + MAXLEN];
	unsigned char want[sizeof(buf)], tmp[MAXLEN];
	void *r;

	fill_pattern(buf, sizeof(buf), (unsigned)(doff * 3 + soff + n));
	memcpy(want, buf, sizeof(buf));
	memcpy(tmp, want + soff, n);
	memcpy(want + doff, tmp, n);
	r = cub_memmove(buf + doff, buf + soff, n);
	assert_ptr_equal(r, buf + doff);
	assert_memory_equal(buf, want, sizeof(buf));
}

static void test_memmove_overlap(void **state)
{
	(void)state;
	/* Every pair of offsets in [0, 3*MAXOFF): forward, backward, equal. */
	for (size_t d = 0; d < 3 * MAXOFF; d++)
		for (size_t s = 0; s < 3 * MAXOFF; s++)
			for (size_t n = 0; n <= MAXLEN; n += (n < 20 ? 1 : 13))
				check_move(d, s, n);
}

static void test_memmove_disjoint(void **state)
{
	(void)state;
	for (size_t so = 0; so < MAXOFF; so++) {
		for (size_t n = 0; n <= MAXLEN; n++) {
			fill_pattern(src_buf, sizeof(src_buf), (unsigned)n);
			memset(dst_buf, CANARY, sizeof(dst_buf));
			assert_ptr_equal(cub_memmove(dst_buf + 3, src_buf + so, n),
					 dst_buf + 3);
			if (n)
				assert_memory_equal(dst_buf + 3, src_buf + so, n);
			assert_canaries(dst_buf, 0, 3);
			assert_canaries(dst_buf, 3 + n, sizeof(dst_buf));
		}
	}
	/* Zero length: pointers need not be valid for reading. */
	assert_ptr_equal(cub_memmove(dst_buf, NULL, 0), dst_buf);
}

static void test_memset(void **state)
{
	static const int values[] = { 0, 0x5a, 0xff, -1, 0x1ab, INT_MIN };

	(void)state;
	for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
		unsigned char want = (unsigned char)values[v];

		for (size_t off = 0; off < MAXOFF; off++) {
			for (size_t n = 0; n <= MAXLEN; n++) {
				memset(dst_buf, CANARY, sizeof(dst_buf));
				assert_ptr_equal(cub_memset(dst_buf + off, values[v], n),
						 dst_buf + off);
				for (size_t i = 0; i < n; i++)
					assert_int_equal(dst_buf[off + i], want);
				assert_canaries(dst_buf, 0, off);
				assert_canaries(dst_buf, off + n, sizeof(dst_buf));
			}
		}
	}
}

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

static void test_memcmp(void **state)
{
	unsigned char a[MAXLEN], b[MAXLEN];

	(void)state;
	fill_pattern(a, sizeof(a), 9);
	memcpy(b, a, sizeof(b));
	assert_int_equal(cub_memcmp(a, b, sizeof(a)), 0);
	assert_int_equal(cub_memcmp(a, b, 0), 0);
	assert_int_equal(cub_memcmp(NULL, NULL, 0), 0);
	/* A difference at each position is found and ordered correctly. */
	for (size_t i = 0; i < sizeof(a); i++) {
		unsigned char keep = a[i];

		a[i] = 0x40;
		b[i] = 0xc0;	/* also checks unsigned comparison */
		assert_true(cub_memcmp(a, b, sizeof(a)) < 0);
		assert_true(cub_memcmp(b, a, sizeof(a)) > 0);
		assert_int_equal(cub_memcmp(a, b, i), 0);	/* stops before */
		a[i] = b[i] = keep;
	}
	/* Bytes compare as unsigned char. */
	assert_true(cub_memcmp("\x80", "\x7f", 1) > 0);
	assert_true(cub_memcmp("\x00", "\xff", 1) < 0);
	assert_int_equal(sign(cub_memcmp("ab\xff", "ab\x01", 3)),
			 sign(memcmp("ab\xff", "ab\x01", 3)));
}

static void test_strlen(void **state)
{
	static const char unterminated[4] = { 'a', 'b', 'c', 'd' };
	char s[MAXLEN + MAXOFF + 1];

	(void)state;
	assert_int_equal(cub_strlen(""), 0);
	assert_int_equal(cub_strlen("a"), 1);
	assert_int_equal(cub_strlen("hello\0world"), 5);
	for (size_t off = 0; off < MAXOFF; off++) {
		for (size_t n = 0; n < MAXLEN; n++) {
			memset(s, 'x', sizeof(s));
			s[off + n] = '\0';
			assert_int_equal(cub_strlen(s + off), n);
			assert_int_equal(cub_strnlen(s + off, n + 5), n);
			assert_int_equal(cub_strnlen(s + off, n), n);
			if (n)
				assert_int_equal(cub_strnlen(s + off, n - 1), n - 1);
		}
	}
	assert_int_equal(cub_strnlen("abc", 0), 0);
	assert_int_equal(cub_strnlen(NULL, 0), 0);
	assert_int_equal(cub_strnlen("abc", SIZE_MAX), 3);
	/* The bound is respected: an unterminated array is never overrun. */
	assert_int_equal(cub_strnlen(unterminated, sizeof(unterminated)), 4);
	assert_int_equal(cub_strnlen(unterminated, 2), 2);
}

static void test_strcmp(void **state)
{
	static const char *const words[] = {
		"", "a", "b", "ab", "abc", "abd", "abcd", "B", "\x80", "\xff",
		"a\x80", "a\x7f", "zzz",
	};
	const size_t nw = sizeof(words) / sizeof(words[0]);

	(void)state;
	for (size_t i = 0; i < nw; i++) {
		for (size_t j = 0; j < nw; j++) {
			const char *x = words[i], *y = words[j];

			assert_int_equal(sign(cub_strcmp(x, y)), sign(strcmp(x, y)));
			for (size_t n = 0; n < 6; n++)
				assert_int_equal(sign(cub_strncmp(x, y, n)),
						 sign(strncmp(x, y, n)));
			assert_int_equal(sign(cub_strncmp(x, y, SIZE_MAX)),
					 sign(strcmp(x, y)));
		}
	}
	assert_true(cub_strcmp("\x80", "a") > 0);	/* unsigned chars */
	assert_int_equal(cub_strncmp("abcX", "abcY", 3), 0);
	assert_int_equal(cub_strncmp("abc", "abd", 0), 0);
	assert_int_equal(cub_strncmp(NULL, NULL, 0), 0);
	/* Nothing after the terminator is compared. */
	assert_int_equal(cub_strncmp("ab\0x", "ab\0y", 4), 0);
	assert_int_equal(cub_strcmp("ab\0x", "ab\0y"), 0);
}

static void test_strchr(void **state)
{
	static const char s[] = "hello, w\xe9rld";

	(void)state;
	assert_ptr_equal(cub_strchr(s, 'h'), s);
	assert_ptr_equal(cub_strchr(s, 'l'), s + 2);	/* first one */
	assert_ptr_equal(cub_strchr(s, 'd'), s + 11);
	assert_ptr_equal(cub_strchr(s, 'z'), NULL);
	assert_ptr_equal(cub_strchr(s, '\0'), s + 12);	/* the terminator */
	assert_ptr_equal(cub_strchr("", '\0'), cub_strchr("", 0));
	assert_non_null(cub_strchr("", '\0'));
	assert_null(cub_strchr("", 'a'));
	/* c is converted to char, as in C: high bytes and int wrap-around. */
	assert_ptr_equal(cub_strchr(s, 0xe9), s + 8);
	assert_ptr_equal(cub_strchr(s, (char)0xe9), s + 8);
	assert_ptr_equal(cub_strchr(s, 0x100 + 'w'), s + 7);
	assert_ptr_equal(cub_strchr(s, 0x100), s + 12);
}

static void test_strlcpy(void **state)
{
	char d[16];

	(void)state;
	/* Fits: copied whole, returns the source length. */
	memset(d, CANARY, sizeof(d));
	assert_int_equal(cub_strlcpy(d, "hello", sizeof(d)), 5);
	assert_string_equal(d, "hello");
	assert_int_equal((unsigned char)d[6], CANARY);
	/* Exact fit: n == strlen + 1. */
	assert_int_equal(cub_strlcpy(d, "hello", 6), 5);
	assert_string_equal(d, "hello");
	/* Truncated: n - 1 bytes and a terminator; the result says so. */
	memset(d, CANARY, sizeof(d));
	assert_int_equal(cub_strlcpy(d, "hello world", 5), 11);
	assert_string_equal(d, "hell");
	assert_int_equal((unsigned char)d[5], CANARY);
	/* n == 1: just the terminator. */
	memset(d, CANARY, sizeof(d));
	assert_int_equal(cub_strlcpy(d, "abc", 1), 3);
	assert_int_equal(d[0], '\0');
	assert_int_equal((unsigned char)d[1], CANARY);
	/* n == 0: dst untouched (may even be NULL). */
	memset(d, CANARY, sizeof(d));
	assert_int_equal(cub_strlcpy(d, "abc", 0), 3);
	assert_int_equal((unsigned char)d[0], CANARY);
	assert_int_equal(cub_strlcpy(NULL, "abcdef", 0), 6);
	/* Empty source. */
	assert_int_equal(cub_strlcpy(d, "", sizeof(d)), 0);
	assert_string_equal(d, "");
	/* Every truncation length. */
	for (size_t n = 1; n <= sizeof(d); n++) {
		const char *src = "0123456789abcdefXYZ";

		memset(d, CANARY, sizeof(d));
		assert_int_equal(cub_strlcpy(d, src, n), strlen(src));
		assert_int_equal(strlen(d), n - 1);
		assert_int_equal(strncmp(d, src, n - 1), 0);
	}
}

struct parse_case {
	const char *in;
	int ret;
	long value;
};

static void test_parse_long(void **state)
{
	static const struct parse_case ok[] = {
		{ "0", 0, 0 }, { "-0", 0, 0 }, { "+0", 0, 0 },
		{ "7", 0, 7 }, { "+7", 0, 7 }, { "-7", 0, -7 },
		{ "000123", 0, 123 }, { "1234567890", 0, 1234567890 },
		{ "0x0", 0, 0 }, { "0x1f", 0, 31 }, { "0X1F", 0, 31 },
		{ "0xDeadBeef", 0, 0xdeadbeefL }, { "-0x10", 0, -16 },
		{ "+0x10", 0, 16 }, { "0x000000000000000001", 0, 1 },
		{ "9223372036854775807", 0, LONG_MAX },
		{ "-9223372036854775807", 0, -LONG_MAX },
		{ "-9223372036854775808", 0, LONG_MIN },
		{ "0x7fffffffffffffff", 0, LONG_MAX },
		{ "-0x8000000000000000", 0, LONG_MIN },
	};
	static const char *const invalid[] = {
		"", "-", "+", "0x", "-0x", "+-1", "--1", "-+1", " 1", "1 ",
		"12a", "1.5", "0x1g", "0x-1", "x10", "0b101", "1e3", "\t1",
		"abc", "0xx1", "1-",
	};
	static const char *const range[] = {
		"9223372036854775808", "-9223372036854775809",
		"99999999999999999999999999", "-99999999999999999999999999",
		"0x8000000000000000", "-0x8000000000000001",
		"0xffffffffffffffff", "0x10000000000000000",
		"18446744073709551616",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		long v = 12345;

		assert_int_equal(cub_parse_long(ok[i].in, &v), ok[i].ret);
		assert_int_equal(v, ok[i].value);
	}
	/* On error the output is left alone. */
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		long v = 12345;

		assert_int_equal(cub_parse_long(invalid[i], &v), -CUB_EINVAL);
		assert_int_equal(v, 12345);
	}
	for (size_t i = 0; i < sizeof(range) / sizeof(range[0]); i++) {
		long v = 12345;

		assert_int_equal(cub_parse_long(range[i], &v), -CUB_ERANGE);
		assert_int_equal(v, 12345);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memcpy),
		cmocka_unit_test(test_memmove_overlap),
		cmocka_unit_test(test_memmove_disjoint),
		cmocka_unit_test(test_memset),
		cmocka_unit_test(test_memcmp),
		cmocka_unit_test(test_strlen),
		cmocka_unit_test(test_strcmp),
		cmocka_unit_test(test_strchr),
		cmocka_unit_test(test_strlcpy),
		cmocka_unit_test(test_parse_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
