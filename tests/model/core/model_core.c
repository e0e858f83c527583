/*
 * model_core - randomized differential test of src/core against the host
 * libc: cub_snprintf against snprintf over random format strings in the
 * subset <cubrt/fmt.h> documents (flags, widths, '*', %s precisions,
 * length modifiers, truncation at every buffer size), and the
 * <cubrt/string.h> helpers against their libc namesakes (overlapping
 * moves, unaligned ends, signed comparisons, cub_parse_long against a
 * reference built on strtoull).
 *
 * usage: model_core [SEED [STEPS]]   (or $CUBRT_SEED, $CUBRT_STEPS)
 * The seed is printed first; a failure prints the case and how to replay.
 *
 * Arguments are passed to both formatters as uint64_t. On the SysV x86-64
 * ABI every integer-class variadic argument (int, long, size_t, pointers)
 * occupies one 8-byte slot and va_arg of a narrower type reads its low
 * bytes, so both implementations see exactly the same argument bits; the
 * point is to compare the formatters, not the compiler's promotions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cubrt/base.h>
#include <cubrt/fmt.h>
#include <cubrt/string.h>

#if !defined(__x86_64__)
#error "model_core relies on the SysV x86-64 variadic argument layout"
#endif

#define NARGS 9			/* three conversions, three arguments each */
#define OUT_MAX 2048

static uint64_t rng, seed;
static unsigned long step;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned below(unsigned n)
{
	return (unsigned)(next() % n);
}

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "model_core: FAILED at step %lu: %s\n%s\n"
		"model_core: reproduce with: model_core %llu %lu\n",
		step, what, detail, (unsigned long long)seed, step + 1);
	exit(1);
}

/* ------------------------------------------------------------------ fmt */

static const char *const strings[] = {
	"", "a", "hello", "cubrt runtime", "tab\there",
	"a rather longer string, past any small width or precision",
};

/* Values near the edges of every integer width, or random ones. */
static uint64_t rand_value(void)
{
	static const uint64_t edges[] = {
		0, 1, 9, 10, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff,
		0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull,
		0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull,
		(uint64_t)-1 - 9, (uint64_t)-12345,
	};

	switch (below(3)) {
	case 0:
		return edges[below(sizeof(edges) / sizeof(edges[0]))];
	case 1:
		return next() % 100000;
	default:
		return next() >> below(64);
	}
}

/* A '*' argument: a width or precision in -40..40, sometimes 0. */
static uint64_t rand_star(void)
{
	return (uint64_t)(int64_t)((int)below(81) - 40);
}

/*
 * Appends one random conversion to f and its arguments to args. Stays in
 * the documented subset where C and glibc agree on the meaning: no '0'
 * flag with %s, %c and %p (undefined in C), no precision on numbers, no
 * NULL %s or %p (glibc prints "(null)"/"(nil)" differently).
 */
static void add_conversion(char *f, uint64_t *args, int *na)
{
	static const char convs[] = "diuxXcsp%";
	static const char *const lens[] = { "", "hh", "h", "l", "ll", "z", "t" };
	char c = convs[below(sizeof(convs) - 1)];
	bool numeric = strchr("diuxX", c) != NULL;
	size_t k;

	strcat(f, "%");
	if (c == '%') {		/* "%%" only: glibc and C differ on more */
		strcat(f, "%");
		return;
	}
	for (unsigned i = below(3); i > 0; i--)
		strcat(f, below(2) || !numeric ? "-" : "0");
	switch (below(4)) {
	case 1:
		sprintf(f + strlen(f), "%u", 1 + below(30));
		break;
	case 2:
		strcat(f, "*");
		args[(*na)++] = rand_star();
		break;
	case 3:
		sprintf(f + strlen(f), "%u", 1 + below(300));
		break;
	}
	if (c == 's' && below(2)) {
		switch (below(3)) {
		case 0:
			strcat(f, ".");
			break;
		case 1:
			sprintf(f + strlen(f), ".%u", below(20));
			break;
		default:
			strcat(f, ".*");
			args[(*na)++] = rand_star();
		}
	}
	if (numeric)
		strcat(f, lens[below(sizeof(lens) / sizeof(lens[0]))]);
	k = strlen(f);
	f[k] = c;
	f[k + 1] = '\0';
	if (c == 's')
		args[(*na)++] = (uintptr_t)strings[below(sizeof(strings) /
							 sizeof(strings[0]))];
	else if (c == 'p')
		args[(*na)++] = rand_value() | 1;	/* never NULL */
	else if (c == 'c')
		args[(*na)++] = below(4) ? 32 + below(95) : below(256);
	else
		args[(*na)++] = rand_value();
}

static int ref_format(char *buf, size_t n, const char *f, const uint64_t *a)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-security"
	return snprintf(buf, n, f, a[0], a[1], a[2], a[3], a[4], a[5], a[6],
			a[7], a[8]);
#pragma GCC diagnostic pop
}

static int cub_format(char *buf, size_t n, const char *f, const uint64_t *a)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-security"
	return cub_snprintf(buf, n, f, a[0], a[1], a[2], a[3], a[4], a[5],
			    a[6], a[7], a[8]);
#pragma GCC diagnostic pop
}

static void fmt_fail(const char *what, const char *f, size_t n,
		     const char *want, int wn, const char *got, int gn)
{
	char detail[OUT_MAX * 3];

	snprintf(detail, sizeof(detail),
		 "  format \"%s\", buffer %zu\n  libc  %d \"%.*s\"\n  cubrt %d \"%.*s\"",
		 f, n, wn, wn < 0 ? 0 : wn, want, gn, gn < 0 ? 0 : gn, got);
	fail(what, detail);
}

/* One random format string, checked at its full size and one truncation. */
static void fmt_step(void)
{
	char f[256] = "", want[OUT_MAX], got[OUT_MAX + 16];
	uint64_t args[NARGS] = { 0 };
	int na = 0, wn, gn;
	size_t n;

	for (unsigned i = 1 + below(3); i > 0; i--) {
		if (below(2))
			strcat(f, below(2) ? "x=" : " | ");
		add_conversion(f, args, &na);
	}
	wn = ref_format(want, sizeof(want), f, args);
	if (wn < 0 || wn >= OUT_MAX)
		fail("reference output out of range", f);
	n = below(2) ? sizeof(want) : below((unsigned)wn + 3);
	memset(got, 0x5a, sizeof(got));
	gn = cub_format(got, n, f, args);
	if (gn != wn)
		fmt_fail("return value differs", f, n, want, wn, got, gn);
	if (n == 0) {
		if (got[0] != 0x5a)
			fmt_fail("wrote into a zero-size buffer", f, n, want, wn,
				 got, gn);
		return;
	}
	if (n > (size_t)wn)
		n = (size_t)wn + 1;
	if (memcmp(got, want, n - 1) != 0 || got[n - 1] != '\0')
		fmt_fail("output differs", f, n, want, wn, got, gn);
	for (size_t i = n; i < sizeof(got) && i < n + 16; i++)
		if (got[i] != 0x5a)
			fmt_fail("wrote past the terminator", f, n, want, wn,
				 got, gn);
}

/* --------------------------------------------------------------- string */

#define AREA 1024

static unsigned char area[AREA], shadow[AREA];

static void rand_fill(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)next();
}

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

static void mem_step(void)
{
	size_t len = below(2) ? below(64) : below(AREA / 2);
	size_t src = below(AREA - (unsigned)len + 1);
	size_t dst = below(AREA - (unsigned)len + 1);
	int c = (int)next();

	rand_fill(area, AREA);
	memcpy(shadow, area, AREA);
	switch (below(4)) {
	case 0:		/* memcpy: only non-overlapping ranges are defined */
		if (src < dst + len && dst < src + len)
			return;
		cub_memcpy(area + dst, area + src, len);
		memcpy(shadow + dst, shadow + src, len);
		break;
	case 1:
		cub_memmove(area + dst, area + src, len);
		memmove(shadow + dst, shadow + src, len);
		break;
	case 2:
		cub_memset(area + dst, c, len);
		memset(shadow + dst, c, len);
		break;
	default:	/* memcmp of equal ranges, maybe with one byte changed */
		if (src < dst + len && dst < src + len)
			return;
		memcpy(area + dst, area + src, len);
		if (len && below(2))
			area[dst + below((unsigned)len)] ^= (unsigned char)(1 + below(255));
		if (sign(cub_memcmp(area + src, area + dst, len)) !=
		    sign(memcmp(area + src, area + dst, len)))
			fail("cub_memcmp sign differs", "");
		return;
	}
	if (memcmp(area, shadow, AREA) != 0)
		fail("cub_memcpy/memmove/memset result differs", "");
}

/* A NUL-terminated string of len bytes from a small alphabet (so that
 * random pairs share prefixes), some bytes with the high bit set. */
static char *rand_str(char *p, size_t len)
{
	static const char alpha[] = "ab\x7f\x80\xff";

	for (size_t i = 0; i < len; i++)
		p[i] = alpha[below(sizeof(alpha) - 1)];
	p[len] = '\0';
	return p;
}

static void str_step(void)
{
	char a[80], b[80], d1[40], d2[40];
	size_t la = below(70), lb = below(2) ? la : below(70);
	size_t off = below(8), n = below(80);
	char *s = rand_str(a + off, la), *t = rand_str(b, lb);
	int c = below(4) ? (unsigned char)s[below((unsigned)la + 1)]
			 : (int)next();

	if (below(2) && lb <= la)
		memcpy(t, s, lb);	/* a common prefix */
	if (cub_strlen(s) != strlen(s) || cub_strnlen(s, n) != strnlen(s, n))
		fail("cub_strlen/strnlen differs", s);
	if (sign(cub_strcmp(s, t)) != sign(strcmp(s, t)) ||
	    sign(cub_strncmp(s, t, n)) != sign(strncmp(s, t, n)))
		fail("cub_strcmp/strncmp sign differs", s);
	if (cub_strchr(s, c) != strchr(s, c))
		fail("cub_strchr differs", s);
	n = below(sizeof(d1));
	memset(d1, 0x5a, sizeof(d1));
	memset(d2, 0x5a, sizeof(d2));
	if (n) {		/* reference strlcpy: glibc 2.36 has none */
		size_t k = la < n - 1 ? la : n - 1;

		memcpy(d2, s, k);
		d2[k] = '\0';
	}
	if (cub_strlcpy(d1, s, n) != la || memcmp(d1, d2, sizeof(d1)) != 0)
		fail("cub_strlcpy differs", s);
}

/*
 * cub_parse_long's contract by reference: optional sign, optional 0x,
 * then digits only; digits are consumed left to right, so an overflow is
 * reported before any later garbage.
 */
static int ref_parse_long(const char *s, long *out)
{
	unsigned long long limit, v;
	bool neg = false, hex = false;
	char digits[48];
	size_t nd;
	char *end;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		hex = true;
		s += 2;
	}
	if (!*s)
		return -CUB_EINVAL;
	nd = strspn(s, hex ? "0123456789abcdefABCDEF" : "0123456789");
	if (nd >= sizeof(digits))
		abort();	/* parse_step's strings are shorter */
	memcpy(digits, s, nd);
	digits[nd] = '\0';
	limit = neg ? (unsigned long long)LONG_MAX + 1 : LONG_MAX;
	errno = 0;
	v = nd ? strtoull(digits, &end, hex ? 16 : 10) : 0;
	if (errno == ERANGE || v > limit)
		return -CUB_ERANGE;
	if (s[nd])
		return -CUB_EINVAL;
	*out = neg ? (long)(0ull - v) : (long)v;
	return 0;
}

static void parse_step(void)
{
	static const char *const edges[] = {
		"9223372036854775807", "9223372036854775808",
		"-9223372036854775808", "-9223372036854775809",
		"0x7fffffffffffffff", "0x8000000000000000",
		"-0x8000000000000000", "-0x8000000000000001", "", "-", "+",
		"0x", "-0x", "0", "00", "0x0", "18446744073709551616",
	};
	static const char pieces[] = "0123456789abcdefxX+- g";
	char s[48];
	long got = 0x1234, want = 0x1234;
	int rg, rw;

	if (below(4) == 0) {
		snprintf(s, sizeof(s), "%s", edges[below(sizeof(edges) /
						      sizeof(edges[0]))]);
	} else {
		size_t k = 0;

		if (below(2))
			s[k++] = below(2) ? '-' : '+';
		if (below(3) == 0) {
			s[k++] = '0';
			s[k++] = below(2) ? 'x' : 'X';
		}
		for (unsigned i = below(24); i > 0; i--)
			s[k++] = below(8) ? pieces[below(10)]
					  : pieces[below(sizeof(pieces) - 1)];
		s[k] = '\0';
	}
	rg = cub_parse_long(s, &got);
	rw = ref_parse_long(s, &want);
	if (rg != rw || (rw == 0 && got != want) ||
	    (rw != 0 && got != 0x1234))
		fail("cub_parse_long differs", s);
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	const char *es = getenv("CUBRT_SEED"), *ns = getenv("CUBRT_STEPS");
	unsigned long steps = 400000;

	seed = argc > 1 ? strtoull(argv[1], NULL, 0)
	     : es ? strtoull(es, NULL, 0) : (uint64_t)time(NULL);
	if (argc > 2 || ns)
		steps = strtoul(argc > 2 ? argv[2] : ns, NULL, 0);
	rng = seed ? seed : 1;
	printf("model_core: seed %llu, %lu steps\n", (unsigned long long)seed,
	       steps);
	fflush(stdout);
	for (step = 0; step < steps; step++) {
		switch (step % 4) {
		case 0: fmt_step(); break;
		case 1: mem_step(); break;
		case 2: str_step(); break;
		default: parse_step(); break;
		}
	}
	printf("model_core: ok\n");
	return 0;
}
