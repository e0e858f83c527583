/*
 * cubrt/string.h - freestanding memory and string helpers.
 *
 * cubrt's core needs no libc. These are the routines it uses itself; on
 * bare metal the library also provides memcpy/memmove/memset/memcmp under
 * their standard names because the compiler emits calls to them.
 * Contexts: any.
 */
#ifndef CUBRT_STRING_H
#define CUBRT_STRING_H

#include <cubrt/base.h>

void *cub_memcpy(void *dst, const void *src, size_t n);
void *cub_memmove(void *dst, const void *src, size_t n);
void *cub_memset(void *dst, int c, size_t n);
int cub_memcmp(const void *a, const void *b, size_t n);
size_t cub_strlen(const char *s);
size_t cub_strnlen(const char *s, size_t max);
int cub_strcmp(const char *a, const char *b);
int cub_strncmp(const char *a, const char *b, size_t n);
char *cub_strchr(const char *s, int c);
/* Copies at most n-1 bytes and always terminates (n > 0); returns strlen(src). */
size_t cub_strlcpy(char *dst, const char *src, size_t n);
/*
 * Parses a decimal (or 0x-prefixed hex) integer with optional sign from s.
 * Returns 0 and stores the value, or -CUB_EINVAL for no digits / trailing
 * garbage and -CUB_ERANGE on overflow.
 */
int cub_parse_long(const char *s, long *out);

#endif
