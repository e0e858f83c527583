/*
 * console.c - the host console (stdout/stdin), exit with test hooks, and
 * the diagnostics hooks of arch.h for a Linux process.
 */
#define _GNU_SOURCE
#include <cubrt/arch.h>
#include <cubrt/panic.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/uio.h>
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

/* The host boots without modules. */
bool cub_arch_boot_module(unsigned i, const void **base, size_t *len)
{
	(void)i;
	(void)base;
	(void)len;
	return false;
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
 * Accessibility of host memory, from the kernel's own record of the
 * process's mappings (/proc/self/maps): the slow fallback of vm_probe
 * below. Nothing touches the memory, so sanitizers and valgrind stay quiet
 * about wild pointers. [addr, addr+len) must be covered by contiguous mappings
 * that all carry the wanted permissions ('r', and 'w' for writes).
 */
static bool maps_allow(uintptr_t addr, size_t len, bool write)
{
	static char buf[1 << 17];
	uintptr_t want = addr, end = addr + len;
	ssize_t n, got = 0;
	char *line;
	int fd;

	if (end < addr)
		return false;
	if (len == 0)
		return true;
	fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	while (got < (ssize_t)sizeof(buf) - 1 &&
	       (n = read(fd, buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
		got += n;
	close(fd);
	buf[got] = '\0';
	for (line = buf; line && *line && want < end; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		char *p = line;
		uintptr_t lo = strtoul(p, &p, 16), hi = strtoul(p + 1, &p, 16);

		if (hi <= want || lo > want)
			continue;
		if (p[1] != 'r' || (write && p[2] != 'w'))
			return false;
		want = hi;
	}
	return want >= end;
}

/*
 * The fast probe: the kernel copies through process_vm_readv/writev on our
 * own pid and answers EFAULT for inaccessible memory; sanitizers and
 * valgrind check only the local buffers of these calls, never the probed
 * range. Protection is per page, so one byte of each page the range
 * touches tells. Writability copies that byte out and back (not atomic
 * against a concurrent writer: host tests probe from one thread). Returns -1 when
 * the kernel refuses the call itself (e.g. a seccomp filter): then the
 * maps walk decides.
 */
static int vm_probe(uintptr_t addr, size_t len, bool write)
{
	static int unavailable;
	const uintptr_t page = 4096;
	char byte;

	if (unavailable)
		return -1;
	/* Access is per page: one byte of every page the range touches. */
	for (uintptr_t p = addr; p - addr < len; p = (p | (page - 1)) + 1) {
		struct iovec local = { &byte, 1 };
		struct iovec remote = { (void *)p, 1 };
		ssize_t r = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);

		if (r < 0 && (errno == ENOSYS || errno == EPERM)) {
			unavailable = 1;
			return -1;
		}
		if (r != 1)
			return 0;
		if (write && process_vm_writev(getpid(), &local, 1, &remote, 1, 0) != 1)
			return 0;
	}
	return 1;
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CUBI_HOST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define CUBI_HOST_ASAN 1
#endif

#ifdef CUBI_HOST_ASAN
#include <sanitizer/asan_interface.h>
#endif

/* Under AddressSanitizer its shadow memory (x86-64: from 0x7fff8000 to
 * 0x10007fff8000) is mapped, so the probes below pass, but instrumented
 * code faults reading it (the shadow of the shadow is unmapped): never
 * the program's memory. */
static bool in_asan_shadow(uintptr_t addr, size_t len)
{
#ifdef CUBI_HOST_ASAN
	return addr < 0x10007fff8000ull && addr + len > 0x7fff8000ull;
#else
	(void)addr, (void)len;
	return false;
#endif
}

/*
 * Under AddressSanitizer, mapped memory it holds poisoned (heap redzones,
 * freed blocks, its allocator's unused regions) is not the program's
 * either: the shim's copies are instrumented, and reading it on the
 * program's behalf would end the run with an ASan report where Linux
 * reads whatever is there. Such a range counts as inaccessible, so a
 * program (or fuzz_syscalls) pointing the shim at it gets -EFAULT. Only
 * asked of mapped memory, whose shadow is always mapped.
 */
static bool asan_poisoned(uintptr_t addr, size_t len)
{
#ifdef CUBI_HOST_ASAN
	return __asan_region_is_poisoned((void *)addr, len) != NULL;
#else
	(void)addr, (void)len;
	return false;
#endif
}

static bool accessible(uintptr_t addr, size_t len, bool write)
{
	int r;

	if (addr + len < addr)
		return false;
	if (len == 0)
		return true;
	if (in_asan_shadow(addr, len))
		return false;
	r = vm_probe(addr, len, write);
	if (r < 0)
		r = maps_allow(addr, len, write);
	return r == 1 && !asan_poisoned(addr, len);
}

bool cub_arch_addr_readable(uintptr_t addr, size_t len)
{
	return accessible(addr, len, false);
}

bool cub_arch_addr_writable(uintptr_t addr, size_t len)
{
	return accessible(addr, len, true);
}

static const char *(*symbolizer)(uintptr_t addr, uintptr_t *off);

void cubi_host_set_symbolizer(const char *(*fn)(uintptr_t addr, uintptr_t *off))
{
	symbolizer = fn;
}

/* Host binaries are not symbolised in-process; reports give addresses
 * (feed them to addr2line -e <binary>), unless a test set a symbolizer. */
const char *cub_arch_symbol(uintptr_t addr, uintptr_t *off)
{
	return symbolizer ? symbolizer(addr, off) : NULL;
}

uint64_t cub_arch_wallclock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The C library's canary (glibc: in the thread block), not a word of
 * cubrt's. */
bool cub_arch_ssp_guard(uint64_t *guard)
{
	*guard = 0;
	return false;
}

bool cub_arch_random(uint64_t *v)
{
	return getrandom(v, sizeof(*v), 0) == (ssize_t)sizeof(*v);
}

/* The host CPU's MXCSR bits, as on bare metal (platform/x86/cpu.c): an
 * FXSAVE's MXCSR_MASK, 0xffbf where the CPU leaves it 0; asked once, at
 * the first call (host tests have no boot). */
uint32_t cub_arch_mxcsr_mask(void)
{
	static uint32_t mask;

	if (!mask) {
		_Alignas(16) uint8_t img[512];
		uint32_t m;

		__asm__ volatile("fxsave %0" : "=m"(img));
		memcpy(&m, img + 28, sizeof(m));
		mask = m ? m : 0xffbfu;
	}
	return mask;
}

/* The process's FS base belongs to glibc: coroutines' thread pointers are
 * only bookkeeping on the host (tests read them back through the shim). */
void cub_arch_set_tls(uint64_t base)
{
	(void)base;
}

/* Host tests call the shim's dispatcher directly. */
void cub_arch_syscall_enable(void)
{
}

/* Nothing delivers signals on the host (its tests call the shim's
 * delivery code directly), so an rt_sigreturn here is a stray one. */
struct cubi_sigctx;
CUB_NORETURN void cubi_shim_resume_full(const struct cubi_sigctx *ctx);
CUB_NORETURN void cubi_shim_resume_full(const struct cubi_sigctx *ctx)
{
	(void)ctx;
	cub_panic("rt_sigreturn: signal handlers do not run on the host");
}
