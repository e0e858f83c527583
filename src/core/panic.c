/*
 * panic.c - cub_panic, cub_exit, and the shared parts of fault reports
 * (symbolised addresses, frame-pointer backtraces, coroutine context).
 *
 * A panic may happen anywhere, including inside a panic: the second one
 * prints a one-line message and exits at once instead of recursing.
 * cub_exit prints the CUBRT_PROF profile first (prof.c), when one runs.
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/panic.h>
#include <cubrt/string.h>

#include "fault.h"
#include "prof_impl.h"

#define BACKTRACE_MAX 32
#define GUARDS_MAX 4

static struct cubi_fault_hooks hooks;
static struct {
	uintptr_t lo, hi;
	const char *name;
} guards[GUARDS_MAX];
static volatile int panicking;

void cubi_fault_set_hooks(const struct cubi_fault_hooks *h)
{
	if (h->current_name)
		hooks.current_name = h->current_name;
	if (h->guard_owner)
		hooks.guard_owner = h->guard_owner;
}

void cubi_fault_add_guard(uintptr_t lo, uintptr_t hi, const char *name)
{
	for (size_t i = 0; i < GUARDS_MAX; i++) {
		if (!guards[i].name) {
			guards[i].lo = lo;
			guards[i].hi = hi;
			guards[i].name = name;
			return;
		}
	}
	cub_panic("cubi_fault_add_guard: more than %d static guards", GUARDS_MAX);
}

bool cubi_fault_guard_owner(uintptr_t addr, char *buf, size_t n)
{
	for (size_t i = 0; i < GUARDS_MAX && guards[i].name; i++) {
		if (addr >= guards[i].lo && addr < guards[i].hi) {
			cub_strlcpy(buf, guards[i].name, n);
			return true;
		}
	}
	return hooks.guard_owner && hooks.guard_owner(addr, buf, n);
}

void cubi_fault_print_context(void)
{
	const char *name = hooks.current_name ? hooks.current_name() : NULL;

	if (name)
		cub_printk("  coroutine: %s\n", name);
	else
		cub_printk("  coroutine: (none: boot context)\n");
}

/*
 * A return address may sit just past its function's last byte (a call to
 * a noreturn function ends it), so callers pass is_ret to look up addr-1.
 */
static void print_addr(uintptr_t addr, bool is_ret)
{
	uintptr_t off = 0;
	const char *sym = cub_arch_symbol(addr - is_ret, &off);

	off += is_ret;
	if (sym)
		cub_printk("0x%016lx <%s+0x%lx>", (unsigned long)addr, sym,
			   (unsigned long)off);
	else
		cub_printk("0x%016lx", (unsigned long)addr);
}

void cubi_print_addr(uintptr_t addr)
{
	print_addr(addr, false);
}

/*
 * Walks the rbp chain: each frame is [saved rbp][return address]. Stops at
 * a NULL or unreadable frame, a frame that does not move towards the stack
 * top (corruption), or after BACKTRACE_MAX frames.
 */
void cubi_backtrace_print(uintptr_t fp)
{
	cub_printk("backtrace:\n");
	for (int i = 0; i < BACKTRACE_MAX; i++) {
		uintptr_t next, ret;

		if (!fp || fp % sizeof(uintptr_t) ||
		    !cub_arch_addr_readable(fp, 2 * sizeof(uintptr_t)))
			return;
		next = ((uintptr_t *)fp)[0];
		ret = ((uintptr_t *)fp)[1];
		if (!ret)
			return;
		cub_printk("  #%-2d ", i);
		print_addr(ret, true);
		cub_printk("\n");
		if (next <= fp)
			return;
		fp = next;
	}
	cub_printk("  ...\n");
}

CUB_NORETURN void cubi_fault_exit(void)
{
	cub_arch_exit(CUB_EXIT_FAULT);
}

CUB_NORETURN void cub_panic(const char *fmt, ...)
{
	va_list ap;

	cub_arch_irq_disable();
	if (panicking++) {
		cub_puts("\npanic: nested panic, giving up\n");
		cubi_fault_exit();
	}
	cub_puts("\n*** cubrt panic ***\npanic: ");
	va_start(ap, fmt);
	cub_vprintk(fmt, ap);
	va_end(ap);
	cub_puts("\n");
	cubi_fault_print_context();
	cubi_backtrace_print(cub_arch_frame_pointer());
	cubi_fault_exit();
}

CUB_NORETURN void cub_exit(int status)
{
	if (status < 0 || status > CUB_EXIT_MAX) {
		cub_printk("cub_exit: status %d is outside 0..%d\n", status,
			   CUB_EXIT_MAX);
		status = CUB_EXIT_FAULT;
	}
	cubi_prof_exit();	/* the CUBRT_PROF report, if one runs */
	cub_arch_exit(status);
}

const char *cub_strerror(int err)
{
	static const struct {
		int code;
		const char *name;
	} names[] = {
		{ CUB_EPERM, "EPERM" }, { CUB_ENOENT, "ENOENT" },
		{ CUB_ESRCH, "ESRCH" }, { CUB_EINTR, "EINTR" },
		{ CUB_EIO, "EIO" }, { CUB_EBADF, "EBADF" },
		{ CUB_EAGAIN, "EAGAIN" }, { CUB_ENOMEM, "ENOMEM" },
		{ CUB_EFAULT, "EFAULT" }, { CUB_EBUSY, "EBUSY" },
		{ CUB_EEXIST, "EEXIST" }, { CUB_EINVAL, "EINVAL" },
		{ CUB_ENOTTY, "ENOTTY" }, { CUB_ENOSPC, "ENOSPC" },
		{ CUB_EPIPE, "EPIPE" }, { CUB_ERANGE, "ERANGE" },
		{ CUB_EDEADLK, "EDEADLK" }, { CUB_ENOSYS, "ENOSYS" },
		{ CUB_ETIMEDOUT, "ETIMEDOUT" },
		{ CUB_ENODEV, "ENODEV" }, { CUB_EMSGSIZE, "EMSGSIZE" },
		{ CUB_EADDRINUSE, "EADDRINUSE" },
		{ CUB_EADDRNOTAVAIL, "EADDRNOTAVAIL" },
		{ CUB_ENETUNREACH, "ENETUNREACH" },
		{ CUB_EHOSTUNREACH, "EHOSTUNREACH" }, { CUB_ECANCELED, "ECANCELED" },
		{ CUB_ECONNRESET, "ECONNRESET" }, { CUB_ENOTCONN, "ENOTCONN" },
		{ CUB_ECONNREFUSED, "ECONNREFUSED" }, { CUB_EROFS, "EROFS" },
		{ CUB_EACCES, "EACCES" }, { CUB_EPROTO, "EPROTO" },
	};

	/* Magnitude as unsigned: -INT_MIN would overflow. */
	unsigned code = err < 0 ? 0U - (unsigned)err : (unsigned)err;

	if (code == 0)
		return "OK";
	for (size_t i = 0; i < CUB_ARRAY_SIZE(names); i++)
		if ((unsigned)names[i].code == code)
			return names[i].name;
	return "E?";
}
