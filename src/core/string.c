/*
 * string.c - freestanding memory and string routines.
 *
 * Built with -fno-tree-loop-distribute-patterns (see meson.build) so the
 * compiler never turns these loops back into calls to memset/memcpy,
 * which on bare metal are these very functions.
 */
#include <limits.h>
#include <cubrt/string.h>

/* Eight bytes from s to d, whatever their alignment (x86 and the hosts
 * cubrt runs on need none; a constant-size __builtin_memcpy is one load
 * and one store, never a call). */
static inline void move8(unsigned char *d, const unsigned char *s)
{
	uint64_t w;

	__builtin_memcpy(&w, s, sizeof(w));
	__builtin_memcpy(d, &w, sizeof(w));
}

/* Forward, each word loaded before it is stored: cub_memmove relies on
 * that for an overlapping copy to a lower address. */
void *cub_memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	for (; n >= 32; n -= 32, d += 32, s += 32) {
		move8(d, s);
		move8(d + 8, s + 8);
		move8(d + 16, s + 16);
		move8(d + 24, s + 24);
	}
	for (; n >= 8; n -= 8, d += 8, s += 8)
		move8(d, s);
	while (n--)
		*d++ = *s++;
	return dst;
}

void *cub_memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d == s || n == 0)
		return dst;
	if (d < s || d >= s + n)
		return cub_memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

void *cub_memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	if ((uintptr_t)d % sizeof(uint64_t) == 0) {
		uint64_t w = 0x0101010101010101ULL * (unsigned char)c;

		/* A line a turn: zeroing a page (every frame a program
		 * touches) costs a third of the instructions a word a turn
		 * did, which is time under emulation. */
		for (; n >= 64; n -= 64, d += 64) {
			uint64_t *q = (uint64_t *)(void *)d;

			q[0] = w, q[1] = w, q[2] = w, q[3] = w;
			q[4] = w, q[5] = w, q[6] = w, q[7] = w;
		}
		for (; n >= 8; n -= 8, d += 8)
			*(uint64_t *)(void *)d = w;
	}
	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

int cub_memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

size_t cub_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

size_t cub_strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int cub_strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int cub_strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b || !*a)
			return (unsigned char)*a - (unsigned char)*b;
	}
	return 0;
}

char *cub_strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

size_t cub_strlcpy(char *dst, const char *src, size_t n)
{
	size_t len = cub_strlen(src);

	if (n) {
		size_t k = len < n - 1 ? len : n - 1;

		cub_memcpy(dst, src, k);
		dst[k] = '\0';
	}
	return len;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

int cub_parse_long(const char *s, long *out)
{
	unsigned long v = 0, limit;
	unsigned base = 10;
	bool neg = false;
	int d;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return -CUB_EINVAL;
	limit = neg ? (unsigned long)LONG_MAX + 1 : (unsigned long)LONG_MAX;
	for (; *s; s++) {
		d = digit_value(*s);
		if (d >= (int)base)
			return -CUB_EINVAL;
		if (v > (limit - (unsigned)d) / base)
			return -CUB_ERANGE;
		v = v * base + (unsigned)d;
	}
	*out = neg ? (long)(0UL - v) : (long)v;
	return 0;
}
