/*
 * libc_names.c - memcpy/memmove/memset/memcmp under their standard names.
 *
 * Bare metal only: GCC emits calls to these even in freestanding code
 * (struct copies, large initialisers). They sit alone in this object so
 * that, when an application links musl's libc.a first, the archive
 * member is simply not pulled in; and they are weak, so a libc's strong
 * definitions win if both end up linked.
 */
#include <cubrt/string.h>

__attribute__((weak)) void *memcpy(void *dst, const void *src, size_t n)
{
	return cub_memcpy(dst, src, n);
}

__attribute__((weak)) void *memmove(void *dst, const void *src, size_t n)
{
	return cub_memmove(dst, src, n);
}

__attribute__((weak)) void *memset(void *dst, int c, size_t n)
{
	return cub_memset(dst, c, n);
}

__attribute__((weak)) int memcmp(const void *a, const void *b, size_t n)
{
	return cub_memcmp(a, b, n);
}
