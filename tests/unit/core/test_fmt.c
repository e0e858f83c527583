/*
 * test_fmt.c - unit tests for the printk-style formatter (src/core/fmt.c).
 *
 * Every conversion (%d %i %u %x %X %p %s %c %%), every length modifier
 * (hh h l ll z t), width (digits and '*'), the '-' and '0' flags, the %s
 * precision, the extreme values, snprintf truncation and return values,
 * unknown conversions, and bad widths. Expected strings are spelled out;
 * where cubrt promises C99 behaviour the host libc's snprintf is used as a
 * second oracle.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <cubrt/fmt.h>

#include "host.h"

static char buf[512];

/* Formats into buf; checks the text and that the return value is its length. */
#define EXPECT_FMT(want, ...)                                           \
	do {                                                            \
		int r_ = cub_snprintf(buf, sizeof(buf), __VA_ARGS__);   \
		assert_string_equal(buf, (want));                       \
		assert_int_equal(r_, (int)strlen(want));                \
	} while (0)

/* Same, and the host libc must agree (C99 semantics promised). */
#define EXPECT_C99(want, ...)                                           \
	do {                                                            \
		char libc_[512];                                        \
		EXPECT_FMT(want, __VA_ARGS__);                          \
		snprintf(libc_, sizeof(libc_), __VA_ARGS__);            \
		assert_string_equal(libc_, (want));                     \
	} while (0)

/*
 * No format attribute: lets the tests pass deliberately malformed formats
 * without compiler warnings.
 */
static int fmt_raw(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = cub_vsnprintf(dst, n, fmt, ap);
	va_end(ap);
	return r;
}

#define EXPECT_RAW(want, ...)                                           \
	do {                                                            \
		int r_ = fmt_raw(buf, sizeof(buf), __VA_ARGS__);        \
		assert_string_equal(buf, (want));                       \
		assert_int_equal(r_, (int)strlen(want));                \
	} while (0)

static void test_plain_text(void **state)
{
	(void)state;
	EXPECT_FMT("", "%s", "");
	EXPECT_RAW("", "");
	EXPECT_RAW("hello, world\n", "hello, world\n");
}

static void test_signed(void **state)
{
	(void)state;
	EXPECT_C99("0", "%d", 0);
	EXPECT_C99("42", "%d", 42);
	EXPECT_C99("-42", "%i", -42);
	EXPECT_C99("2147483647", "%d", INT_MAX);
	EXPECT_C99("-2147483648", "%d", INT_MIN);
	EXPECT_C99("-2147483648", "%i", INT_MIN);
	EXPECT_C99("-9223372036854775808", "%ld", LONG_MIN);
	EXPECT_C99("9223372036854775807", "%li", LONG_MAX);
	EXPECT_C99("-9223372036854775808", "%lld", LLONG_MIN);
	EXPECT_C99("9223372036854775807", "%lli", LLONG_MAX);
	EXPECT_C99("1 -2 3", "%d %i %d", 1, -2, 3);
}

static void test_unsigned(void **state)
{
	(void)state;
	EXPECT_C99("0", "%u", 0u);
	EXPECT_C99("4294967295", "%u", UINT_MAX);
	EXPECT_C99("4294967295", "%u", -1);	/* int -1 read as unsigned */
	EXPECT_C99("18446744073709551615", "%lu", ULONG_MAX);
	EXPECT_C99("18446744073709551615", "%llu", ULLONG_MAX);
	EXPECT_C99("0", "%x", 0u);
	EXPECT_C99("ff", "%x", 255u);
	EXPECT_C99("FF", "%X", 255u);
	EXPECT_C99("deadbeef", "%x", 0xdeadbeefu);
	EXPECT_C99("DEADBEEF", "%X", 0xdeadbeefu);
	EXPECT_C99("abcdef", "%x", 0xabcdefu);
	EXPECT_C99("ffffffff", "%x", UINT_MAX);
	EXPECT_C99("ffffffffffffffff", "%lx", ULONG_MAX);
	EXPECT_C99("FFFFFFFFFFFFFFFF", "%llX", ULLONG_MAX);
	EXPECT_C99("8000000000000000", "%lx", (unsigned long)LONG_MIN);
	EXPECT_C99("123456789abcdef0", "%llx", 0x123456789abcdef0ull);
}

/* The hh and h cases pass an int on purpose (C99: the argument is
 * promoted, the conversion narrows it); clang's -Wformat objects. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
static void test_length_modifiers(void **state)
{
	(void)state;
	/* hh and h truncate the promoted int to char / short. */
	EXPECT_C99("-56", "%hhd", 200);
	EXPECT_C99("-128", "%hhi", -128);
	EXPECT_C99("127", "%hhd", 127);
	EXPECT_C99("255", "%hhu", -1);
	EXPECT_C99("ff", "%hhx", 0x1ff);
	EXPECT_C99("AB", "%hhX", 0x3ab);
	EXPECT_C99("4464", "%hd", 70000);
	EXPECT_C99("-32768", "%hi", SHRT_MIN);
	EXPECT_C99("65535", "%hu", -1);
	EXPECT_C99("ffff", "%hx", 0x1ffff);
	EXPECT_C99("BEEF", "%hX", 0xbeef);
	/* l, ll: full 64-bit values, not truncated to int. */
	EXPECT_C99("4294967296", "%ld", 4294967296L);
	EXPECT_C99("4294967296", "%lu", 4294967296UL);
	EXPECT_C99("-4294967296", "%lli", -4294967296LL);
	EXPECT_C99("100000000", "%llx", 0x100000000ULL);
	/* z: size_t (and its signed counterpart), t: ptrdiff_t. */
	EXPECT_C99("18446744073709551615", "%zu", SIZE_MAX);
	EXPECT_C99("ffffffffffffffff", "%zx", SIZE_MAX);
	EXPECT_C99("-1", "%zd", (ptrdiff_t)-1);
	EXPECT_C99("-9223372036854775808", "%td", PTRDIFF_MIN);
	EXPECT_C99("9223372036854775807", "%ti", PTRDIFF_MAX);
	EXPECT_C99("18446744073709551615", "%tu", (ptrdiff_t)-1);
	EXPECT_C99("7fffffffffffffff", "%tx", PTRDIFF_MAX);
	/* A modifier does not disturb the arguments that follow. */
	EXPECT_C99("1 2 3 4 5 6", "%hhd %hd %ld %lld %zu %td", 1, 2, 3L, 4LL,
		   (size_t)5, (ptrdiff_t)6);
}
#pragma GCC diagnostic pop

static void test_width_and_flags(void **state)
{
	(void)state;
	EXPECT_C99("   42", "%5d", 42);
	EXPECT_C99("  -42", "%5d", -42);
	EXPECT_C99("42   |", "%-5d|", 42);
	EXPECT_C99("-42  |", "%-5d|", -42);
	EXPECT_C99("00042", "%05d", 42);
	EXPECT_C99("-0042", "%05d", -42);
	EXPECT_C99("00000", "%05d", 0);
	EXPECT_C99("0000ff", "%06x", 255u);
	EXPECT_C99("    FF", "%6X", 255u);
	EXPECT_C99("000000000000002a", "%016lx", 42UL);
	EXPECT_C99("12345", "%2d", 12345);	/* never truncates numbers */
	EXPECT_C99("-2147483648", "%5d", INT_MIN);
	EXPECT_C99("  -2147483648", "%13d", INT_MIN);
	EXPECT_C99("-0002147483648", "%014d", INT_MIN);
	EXPECT_C99("18446744073709551615", "%020llu", ULLONG_MAX);
	EXPECT_C99("018446744073709551615", "%021llu", ULLONG_MAX);
	/* '-' overrides '0' in either order. */
	EXPECT_RAW("42   |", "%-05d|", 42);
	EXPECT_RAW("42   |", "%0-5d|", 42);
	/* Width from '*'; a negative one means '-' plus its magnitude. */
	EXPECT_C99("   42", "%*d", 5, 42);
	EXPECT_C99("42   |", "%*d|", -5, 42);
	EXPECT_C99("00042", "%0*d", 5, 42);
	EXPECT_C99("42", "%*d", 0, 42);
	EXPECT_C99("  abc|  7", "%*s|%*u", 5, "abc", 3, 7u);
	EXPECT_C99("ab   |", "%*s|", -5, "ab");
	/* Width applies to %s, %c; '0' with %s pads with spaces here. */
	EXPECT_C99("  abc", "%5s", "abc");
	EXPECT_C99("abc  |", "%-5s|", "abc");
	EXPECT_C99("abcdef", "%3s", "abcdef");
	EXPECT_C99("    x", "%5c", 'x');
	EXPECT_C99("x    |", "%-5c|", 'x');
	EXPECT_RAW("  abc", "%05s", "abc");
}

static void test_pointer(void **state)
{
	(void)state;
	EXPECT_FMT("0x1234", "%p", (void *)0x1234);
	EXPECT_FMT("0xffffffffffffffff", "%p", (void *)UINTPTR_MAX);
	EXPECT_FMT("0x0", "%p", NULL);
	EXPECT_FMT("      0x1234", "%12p", (void *)0x1234);
	EXPECT_FMT("0x1234      |", "%-12p|", (void *)0x1234);
	EXPECT_RAW("0x0000001234", "%012p", (void *)0x1234);
	/* Cross-check a real pointer against libc (which prints the same). */
	{
		char want[64];
		int x;

		snprintf(want, sizeof(want), "%p", (void *)&x);
		EXPECT_FMT(want, "%p", (void *)&x);
	}
}

static void test_string(void **state)
{
	static const char unterminated[3] = { 'a', 'b', 'c' };
	const char *volatile null_str = NULL;

	(void)state;
	EXPECT_C99("abc", "%s", "abc");
	EXPECT_C99("a-b-c", "%s-%s-%s", "a", "b", "c");
	EXPECT_C99("ab", "%.2s", "abc");
	EXPECT_C99("", "%.0s", "abc");
	EXPECT_C99("abc", "%.10s", "abc");
	EXPECT_C99("ab", "%.*s", 2, "abc");
	EXPECT_C99("abc", "%.*s", -1, "abc");	/* negative: no precision */
	EXPECT_C99("   ab", "%5.2s", "abc");
	EXPECT_C99("ab   |", "%-5.2s|", "abc");
	EXPECT_C99("  ab|", "%*.*s|", 4, 2, "abcdef");
	/* The precision bounds the read: an unterminated array is fine. */
	EXPECT_C99("abc", "%.3s", unterminated);
	EXPECT_C99("ab", "%.*s", 2, unterminated);
	/* NULL prints "(null)", padded and cut like any string. */
	EXPECT_FMT("(null)", "%s", null_str);
	EXPECT_FMT("  (null)", "%8s", null_str);
	EXPECT_FMT("(null)  |", "%-8s|", null_str);
	EXPECT_FMT("(nu", "%.3s", null_str);
}

static void test_char(void **state)
{
	int r;

	(void)state;
	EXPECT_C99("x", "%c", 'x');
	EXPECT_C99("abc", "%c%c%c", 'a', 'b', 'c');
	EXPECT_C99("\xff", "%c", 0xff);
	/* A NUL character is produced and counted like any other. */
	memset(buf, 'Z', sizeof(buf));
	r = cub_snprintf(buf, sizeof(buf), "a%cb", 0);
	assert_int_equal(r, 3);
	assert_memory_equal(buf, "a\0b\0", 4);
	memset(buf, 'Z', sizeof(buf));
	r = cub_snprintf(buf, sizeof(buf), "%3c|", 0);
	assert_int_equal(r, 4);
	assert_memory_equal(buf, "  \0|\0", 5);
	r = cub_snprintf(buf, sizeof(buf), "%-3c|", 0);
	assert_int_equal(r, 4);
	assert_memory_equal(buf, "\0  |\0", 5);
}

static void test_percent(void **state)
{
	(void)state;
	EXPECT_C99("%", "%%");
	EXPECT_C99("100%", "%d%%", 100);
	EXPECT_C99("1%2", "%d%%%d", 1, 2);
	EXPECT_C99("%%", "%%%%");
}

static void test_unknown_conversion(void **state)
{
	(void)state;
	/* Unknown conversions come out as written and consume no argument. */
	EXPECT_RAW("%q", "%q");
	EXPECT_RAW("%q 5", "%q %d", 5);
	EXPECT_RAW("%5q", "%5q");
	EXPECT_RAW("%-08lq", "%-08lq");
	EXPECT_RAW("%.3y", "%.3y");
	EXPECT_RAW("%hhw", "%hhw");
	EXPECT_RAW("%f", "%f");
	EXPECT_RAW("%+d 7", "%+d %d", 7);	/* unsupported flags too */
	EXPECT_RAW("% d", "% d");
	EXPECT_RAW("%#x", "%#x");
	EXPECT_RAW("%llld", "%llld");		/* 'l' after "ll" is unknown */
	/* '*' is consumed before the conversion turns out unknown. */
	EXPECT_RAW("%*q 9", "%*q %d", 3, 9);
}

static void test_trailing_percent(void **state)
{
	(void)state;
	EXPECT_RAW("%", "%");
	EXPECT_RAW("abc%", "abc%");
	EXPECT_RAW("1%", "%d%", 1);
	EXPECT_RAW("%-", "%-");
	EXPECT_RAW("%05", "%05");
	EXPECT_RAW("%.5", "%.5");
	EXPECT_RAW("%l", "%l");
	EXPECT_RAW("%ll", "%ll");
	EXPECT_RAW("%hh", "%hh");
	EXPECT_RAW("%z", "%z");
}

static void test_truncation(void **state)
{
	char small[16];
	int r;

	(void)state;
	/* Output is cut to n-1 bytes plus NUL; the full length is returned. */
	memset(small, 'Z', sizeof(small));
	r = cub_snprintf(small, 5, "hello world");
	assert_int_equal(r, 11);
	assert_string_equal(small, "hell");
	assert_int_equal(small[5], 'Z');	/* nothing past n is touched */

	/* Exact fit and one short. */
	r = cub_snprintf(small, 6, "%s", "hello");
	assert_int_equal(r, 5);
	assert_string_equal(small, "hello");
	r = cub_snprintf(small, 5, "%s", "hello");
	assert_int_equal(r, 5);
	assert_string_equal(small, "hell");

	/* Cut inside a padded number and inside a conversion's output. */
	r = cub_snprintf(small, 4, "%08d", 42);
	assert_int_equal(r, 8);
	assert_string_equal(small, "000");
	r = cub_snprintf(small, 8, "x=%d y=%d", -123456, 7);
	assert_int_equal(r, 13);
	assert_string_equal(small, "x=-1234");

	/* n == 1: only the terminator fits. */
	memset(small, 'Z', sizeof(small));
	r = cub_snprintf(small, 1, "abc%d", 12);
	assert_int_equal(r, 5);
	assert_int_equal(small[0], '\0');
	assert_int_equal(small[1], 'Z');

	/* n == 0: nothing is written, buf may be NULL, length still counted. */
	memset(small, 'Z', sizeof(small));
	r = cub_snprintf(small, 0, "abc%d", 12);
	assert_int_equal(r, 5);
	assert_int_equal(small[0], 'Z');
	r = cub_snprintf(NULL, 0, "%s=%lu", "n", ULONG_MAX);
	assert_int_equal(r, 22);
	r = fmt_raw(NULL, 0, "");
	assert_int_equal(r, 0);
}

static int vsn(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = cub_vsnprintf(dst, n, fmt, ap);
	va_end(ap);
	return r;
}

static void test_vsnprintf(void **state)
{
	(void)state;
	assert_int_equal(vsn(buf, sizeof(buf), "%s %d %c", "a", -1, 'z'), 6);
	assert_string_equal(buf, "a -1 z");
	assert_int_equal(vsn(buf, 3, "%s", "abcdef"), 6);
	assert_string_equal(buf, "ab");
}

struct record {
	char text[64];
	int calls;
	void *ctx_seen;
};

static void record_sink(char c, void *ctx)
{
	struct record *r = ctx;

	r->ctx_seen = ctx;
	if (r->calls < (int)sizeof(r->text))
		r->text[r->calls] = c;
	r->calls++;
}

static int vformat(struct record *rec, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = cub_vformat(record_sink, rec, fmt, ap);
	va_end(ap);
	return r;
}

static void test_vformat_sink(void **state)
{
	struct record rec = { 0 };
	int r;

	(void)state;
	/* One sink call per produced character, NULs included; no terminator. */
	r = vformat(&rec, "[%4d|%c|%s]", -7, 0, "ok");
	assert_int_equal(r, 11);
	assert_int_equal(rec.calls, 11);
	assert_ptr_equal(rec.ctx_seen, &rec);
	assert_memory_equal(rec.text, "[  -7|\0|ok]", 11);

	memset(&rec, 0, sizeof(rec));
	r = vformat(&rec, "");
	assert_int_equal(r, 0);
	assert_int_equal(rec.calls, 0);
}

static void test_printk(void **state)
{
	char cap[128];
	int r;

	(void)state;
	cubi_host_capture_console(cap, sizeof(cap));
	r = cub_printk("printk %d %s%c", 42, "ok", '\n');
	assert_int_equal(r, 13);
	cub_puts("puts|");
	cub_putc('c');
	cub_putc('\n');
	cubi_host_capture_console(NULL, 0);
	assert_string_equal(cap, "printk 42 ok\nputs|c\n");
}

/*
 * Bad widths and precisions: digits beyond int range and a '*' width of
 * INT_MIN must neither overflow (UBSan watches) nor produce gigabytes;
 * the formatter clamps the width (to 4096) and saturates the precision.
 */
static void test_bad_width(void **state)
{
	char small[8];
	int r;

	(void)state;
	r = fmt_raw(small, sizeof(small), "%99999999999999999999d|", 5);
	assert_true(r > 1);
	assert_string_equal(small, "       ");
	r = fmt_raw(small, sizeof(small), "%*d|", INT_MIN, 5);
	assert_true(r > 1);
	assert_string_equal(small, "5      ");
	r = fmt_raw(small, sizeof(small), "%*d|", INT_MAX, 5);
	assert_true(r > 1);
	assert_string_equal(small, "       ");
	/* Widths are clamped to 4096 (WIDTH_MAX in fmt.c), the count too. */
	r = fmt_raw(NULL, 0, "%*d", INT_MAX, 5);
	assert_int_equal(r, 4096);
	assert_int_equal(fmt_raw(NULL, 0, "%4096d", 5), 4096);
	assert_int_equal(fmt_raw(NULL, 0, "%4097d", 5), 4096);
	assert_int_equal(fmt_raw(NULL, 0, "%4095d", 5), 4095);
	assert_int_equal(fmt_raw(NULL, 0, "%*d", -INT_MAX, 5), r);
	assert_int_equal(fmt_raw(NULL, 0, "%*d", INT_MIN, 5), r);
	/* Saturated precision: the string is printed whole. */
	EXPECT_RAW("abc", "%.99999999999999999999s", "abc");
	EXPECT_RAW("abc", "%.*s", INT_MAX, "abc");
	EXPECT_RAW("abc", "%.*s", INT_MIN, "abc");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text),
		cmocka_unit_test(test_signed),
		cmocka_unit_test(test_unsigned),
		cmocka_unit_test(test_length_modifiers),
		cmocka_unit_test(test_width_and_flags),
		cmocka_unit_test(test_pointer),
		cmocka_unit_test(test_string),
		cmocka_unit_test(test_char),
		cmocka_unit_test(test_percent),
		cmocka_unit_test(test_unknown_conversion),
		cmocka_unit_test(test_trailing_percent),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_vsnprintf),
		cmocka_unit_test(test_vformat_sink),
		cmocka_unit_test(test_printk),
		cmocka_unit_test(test_bad_width),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
