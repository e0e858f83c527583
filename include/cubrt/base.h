/*
 * cubrt/base.h - basic types, error codes and helper macros.
 *
 * Error convention (DESIGN.md rule 9): functions return 0 or a positive
 * count on success and a negative CUB_E* code on failure. The codes use
 * the Linux errno numbers so the syscall shim can pass them through.
 */
#ifndef CUBRT_BASE_H
#define CUBRT_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CUB_EPERM      1
#define CUB_ENOENT     2
#define CUB_ESRCH      3
#define CUB_EINTR      4
#define CUB_EIO        5
#define CUB_EBADF      9
#define CUB_EAGAIN    11
#define CUB_ENOMEM    12
#define CUB_EACCES    13
#define CUB_EFAULT    14
#define CUB_EBUSY     16
#define CUB_EEXIST    17
#define CUB_EINVAL    22
#define CUB_ENODEV    19
#define CUB_ENOSPC    28
#define CUB_EROFS     30
#define CUB_ERANGE    34
#define CUB_EDEADLK   35
#define CUB_ENOSYS    38
#define CUB_EPIPE     32
#define CUB_ENOTTY    25
#define CUB_EPROTO    71
#define CUB_EMSGSIZE  90
#define CUB_EADDRINUSE 98
#define CUB_EADDRNOTAVAIL 99
#define CUB_ENETUNREACH 101
#define CUB_ECONNRESET 104
#define CUB_ENOTCONN  107
#define CUB_ETIMEDOUT 110
#define CUB_ECONNREFUSED 111
#define CUB_EHOSTUNREACH 113
#define CUB_ECANCELED 125

/* Returns a short name for a negative (or positive) CUB_E* code. */
const char *cub_strerror(int err);

#define CUB_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define CUB_ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define CUB_ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define CUB_IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)
#define CUB_MIN(a, b) ((a) < (b) ? (a) : (b))
#define CUB_MAX(a, b) ((a) > (b) ? (a) : (b))

/* The enclosing structure of an embedded member (intrusive containers). */
#define cub_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#define CUB_NORETURN __attribute__((noreturn))
#define CUB_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define CUB_LIKELY(x) __builtin_expect(!!(x), 1)
#define CUB_UNLIKELY(x) __builtin_expect(!!(x), 0)

#define CUB_PAGE_SIZE 4096UL

#endif
