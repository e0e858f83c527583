/*
 * bytes.h - byte-exact checks the shim's pipe, splice and sendfile tests
 * share. The including file defines `static char got[N]` first (N at
 * least any count it checks). Include once, after cmocka.h and sys.h.
 */
#ifndef SHIM_TEST_BYTES_H
#define SHIM_TEST_BYTES_H

#include <stddef.h>

/* A pattern that does not repeat at any power-of-two period. */
static inline void fill_pattern(char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (char)(i * 7 + i / 251);
}

/* The next n bytes of fd (all there now) are want's. */
static inline void expect_bytes(int fd, const char *want, size_t n)
{
	size_t have = 0;
	long r = 0;

	while (have < n && (r = SYS3(SYS_read, fd, got + have, n - have)) > 0)
		have += (size_t)r;
	assert_int_equal(have, n);
	assert_memory_equal(got, want, n);
}

/* fd (non-blocking) has nothing to read now. */
static inline void expect_empty(int fd)
{
	assert_int_equal(SYS3(SYS_read, fd, got, 1), -CUB_EAGAIN);
}

#endif
