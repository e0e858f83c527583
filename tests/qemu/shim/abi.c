/*
 * abi.c - the `syscall` instruction on bare metal: results, -errno codes,
 * EFAULT for wild pointers, -ENOSYS for unknown numbers, and the register
 * and red-zone preservation that abi_probe.S checks around each call.
 */
#include <cubrt/fmt.h>
#include <cubrt/runtime.h>
#include <cubrt/shim.h>

long abi_probe(long nr, const long args[3], long *violations);

static int failures;

static void expect(const char *what, long nr, long a0, long a1, long a2, long want)
{
	long args[3] = { a0, a1, a2 }, bad = -1;
	long got = abi_probe(nr, args, &bad);

	cub_printk("%-28s -> %ld (want %ld), ABI violations %ld\n", what, got, want, bad);
	if (got != want || bad != 0)
		failures++;
}

int cub_main(void)
{
	static const char msg[] = "written through the syscall instruction\n";

	cub_shim_init();
	expect("getpid", 39, 0, 0, 0, 1);
	expect("write(1, msg)", 1, 1, (long)msg, sizeof(msg) - 1, sizeof(msg) - 1);
	expect("write(1, 0x10) EFAULT", 1, 1, 0x10, 5, -14);
	expect("write(1, wild) EFAULT", 1, 1, 0x7f0000000000l, 5, -14);
	expect("write(9, msg) EBADF", 1, 9, (long)msg, 3, -9);
	expect("unknown 333 ENOSYS", 333, 0, 0, 0, -38);
	expect("mmap bad len EINVAL", 9, 0, 0, 0, -22);
	expect("futex misaligned EINVAL", 202, 3, 1, 0, -22);
	expect("sched_yield", 24, 0, 0, 0, 0);
	cub_printk("abi: %d failure(s)\n", failures);
	return failures ? 1 : 0;
}
