/*
 * console.c - the host console (stdout/stdin), exit with test hooks, and
 * the diagnostics hooks of arch.h for a Linux process.
 */
#define _GNU_SOURCE
#include <cubrt/arch.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host.h"

static void (*exit_hook)(int);
static char *capture_buf;
static size_t capture_size, capture_len;
static const char *cmdline = "";
static int probe_pipe[2] = { -1, -1 };

void cubi_host_set_exit_hook(void (*fn)(int status))
{
	exit_hook = fn;
}

void cubi_host_capture_console(char *buf, size_t size)
{
	capture_buf = buf;
	capture_size = size;
	capture_len = 0;
	if (buf && size)
		buf[0] = '\0';
}

void cubi_host_set_cmdline(const char *s)
{
	cmdline = s ? s : "";
}

const char *cub_arch_cmdline(void)
{
	return cmdline;
}

void cub_arch_console_putc(char c)
{
	if (capture_buf) {
		if (capture_len + 1 < capture_size) {
			capture_buf[capture_len++] = c;
			capture_buf[capture_len] = '\0';
		}
		return;
	}
	putc_unlocked(c, stdout);
	if (c == '\n')
		fflush(stdout);
}

int cub_arch_console_getc(void)
{
	struct pollfd p = { .fd = 0, .events = POLLIN };
	unsigned char c;

	if (poll(&p, 1, 0) != 1 || read(0, &c, 1) != 1)
		return -CUB_EAGAIN;
	return c;
}

CUB_NORETURN void cub_arch_exit(int status)
{
	fflush(stdout);
	if (exit_hook)
		exit_hook(status);
	_exit(status);
}

uintptr_t cub_arch_frame_pointer(void)
{
	return (uintptr_t)__builtin_frame_address(0);
}

/*
 * Probes readability without faulting: the kernel copies from the address
 * into a pipe and reports EFAULT instead of raising SIGSEGV.
 */
bool cub_arch_addr_readable(uintptr_t addr, size_t len)
{
	char sink[256];

	if (addr + len < addr)
		return false;
	if (probe_pipe[0] < 0 && pipe2(probe_pipe, O_CLOEXEC | O_NONBLOCK))
		return false;
	while (len) {
		size_t n = len < sizeof(sink) ? len : sizeof(sink);
		ssize_t w = write(probe_pipe[1], (const void *)addr, n);

		if (w <= 0)
			return false;
		while (read(probe_pipe[0], sink, sizeof(sink)) > 0)
			;
		addr += (size_t)w;
		len -= (size_t)w;
	}
	return true;
}

/*
 * Writability, probed the same way: copy the bytes out through the pipe
 * and back in with read(), which fails with EFAULT on a read-only or
 * unmapped page and otherwise rewrites the same bytes. Not atomic against
 * a concurrent writer; the host uses it only in single-threaded tests.
 */
bool cub_arch_addr_writable(uintptr_t addr, size_t len)
{
	char sink[256];

	if (addr + len < addr)
		return false;
	if (probe_pipe[0] < 0 && pipe2(probe_pipe, O_CLOEXEC | O_NONBLOCK))
		return false;
	while (read(probe_pipe[0], sink, sizeof(sink)) > 0)
		;
	while (len) {
		size_t n = len < sizeof(sink) ? len : sizeof(sink);
		ssize_t w = write(probe_pipe[1], (const void *)addr, n);

		if (w <= 0)
			return false;
		if (read(probe_pipe[0], (void *)addr, (size_t)w) != w)
			return false;
		addr += (size_t)w;
		len -= (size_t)w;
	}
	return true;
}

/* Host binaries are not symbolised in-process; reports give addresses
 * (feed them to addr2line -e <binary>). */
const char *cub_arch_symbol(uintptr_t addr, uintptr_t *off)
{
	(void)addr;
	(void)off;
	return NULL;
}

uint64_t cub_arch_wallclock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

bool cub_arch_random(uint64_t *v)
{
	return getrandom(v, sizeof(*v), 0) == (ssize_t)sizeof(*v);
}
