/*
 * machine.c - exit, interrupt-flag control and the stack-protector guard.
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/panic.h>

#include "x86.h"

/* QEMU -device isa-debug-exit,iobase=0xf4,iosize=4: QEMU exits with
 * (value << 1) | 1. We write status + 1, so QEMU's own exit codes 0 (reset
 * with -no-reboot) and 1 (QEMU error) never mean a guest status;
 * scripts/run maps (code - 3) / 2 back to the status. */
#define DEBUG_EXIT_PORT 0xF4

/* Linked with the NIC drivers only (nic.h). */
#pragma weak cubi_x86_nic_drain
void cubi_x86_nic_drain(uint64_t timeout_ns);

CUB_NORETURN void cub_arch_exit(int status)
{
	__asm__ volatile("cli");
	if (cubi_x86_nic_drain)	/* frames still in a transmit ring */
		cubi_x86_nic_drain(200 * 1000 * 1000ull);
	outl(DEBUG_EXIT_PORT, (uint32_t)status + 1);
	/* No exit device (plain QEMU or real hardware): say so and halt. */
	cub_printk("cubrt: exit status %d (no isa-debug-exit device); halted\n",
		   status);
	for (;;)
		__asm__ volatile("cli; hlt");
}

unsigned long cub_arch_irq_save(void)
{
	unsigned long flags = read_rflags();

	__asm__ volatile("cli" ::: "memory");
	return flags & X86_RFLAGS_IF;
}

void cub_arch_irq_restore(unsigned long state)
{
	if (state & X86_RFLAGS_IF)
		__asm__ volatile("sti" ::: "memory");
}

void cub_arch_irq_enable(void)
{
	__asm__ volatile("sti" ::: "memory");
}

void cub_arch_irq_disable(void)
{
	__asm__ volatile("cli" ::: "memory");
}

bool cub_arch_irq_enabled(void)
{
	return read_rflags() & X86_RFLAGS_IF;
}

uintptr_t cub_arch_frame_pointer(void)
{
	return (uintptr_t)__builtin_frame_address(0);
}

/*
 * -fstack-protector-strong with -mstack-protector-guard=global compares
 * frames against this word. It starts non-zero (so a zero-filled overrun
 * is caught even before boot randomises it) and is set from RDRAND/TSC in
 * cubi_x86_ssp_init, which runs before any protected frame is live.
 * Both are weak: a Linux program image links musl, whose libc.a defines
 * them too; then musl's win, and musl's start sets the guard again from
 * the first 8 bytes of AT_RANDOM with byte 1 cleared. Coroutines the
 * shim started before the program (the network's receiver, the DHCP
 * keeper, ARP announcements) are parked then in protected frames, which
 * would fail their check on return (seen: musl_netudp_dhcp crashed in 1
 * of 10 runs when an announcement's timed wait ended). So the guard
 * keeps bytes 0 and 1 zero (a NUL first byte stops string overruns, the
 * second is musl's), and the shim passes it as AT_RANDOM's first bytes
 * (cub_arch_ssp_guard): musl's start then writes back the same value.
 */
__attribute__((weak)) uintptr_t __stack_chk_guard = 0x595e9fbd94fda700ull;

__attribute__((weak)) CUB_NORETURN void __stack_chk_fail(void)
{
	cub_panic("stack smashing detected (stack protector canary overwritten)");
}

static bool rdrand(uint64_t *v)
{
	uint32_t r[4];
	unsigned char ok;

	cpuid(1, 0, r);
	if (!(r[2] & (1u << 30)))
		return false;
	for (int i = 0; i < 10; i++) {
		__asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
		if (ok)
			return true;
	}
	return false;
}

void cub_arch_set_tls(uint64_t base)
{
	wrmsr(X86_MSR_FS_BASE, base);
}

bool cub_arch_random(uint64_t *v)
{
	return rdrand(v);
}

__attribute__((no_stack_protector)) void cubi_x86_ssp_init(void)
{
	uint64_t v;

	if (!rdrand(&v))
		v = rdtsc() * 0x9E3779B97F4A7C15ull;
	__stack_chk_guard = (__stack_chk_guard ^ v) & ~0xFFFFull;
}

bool cub_arch_ssp_guard(uint64_t *guard)
{
	*guard = __stack_chk_guard;
	return true;
}
