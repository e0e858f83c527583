/*
 * boot.c - the first C code on bare metal: bring the machine to a state
 * where portable cubrt can run, then hand over to cubi_runtime_start.
 *
 * Order matters: the console first (so everything after can report), then
 * descriptor tables (so a fault from here on gets a report instead of a
 * triple fault), then the stack-protector guard, memory map, final page
 * tables (page 0 and the boot stack guard unmapped, W^X image), symbols,
 * the clock, the interrupt controllers, then devices that need them (the
 * network cards - virtio-net, then e1000 - and virtio-blk disks, in
 * images that link the drivers: MSI-X vectors, I/O APIC lines).
 */
#include <cubrt/arch.h>
#include <cubrt/runtime.h>

#include "../../src/core/fault.h"
#include "intr.h"
#include "nic.h"
#include "virtio_blk.h"
#include "x86.h"

CUB_NORETURN __attribute__((no_stack_protector))
void cubi_x86_boot(uint32_t magic, uintptr_t info);

/* Weak: the NIC drivers (and the PCI scan) are linked only into images
 * that use arch.h's network calls (src/net's cub_net_attach, or the calls
 * themselves: nic.c); other images neither carry them nor scan PCI at
 * boot. */
#pragma weak cubi_x86_nic_init
/* The same for disks: images that use arch.h's block calls (src/blk). */
#pragma weak cubi_x86_virtio_blk_init

CUB_NORETURN __attribute__((no_stack_protector))
void cubi_x86_boot(uint32_t magic, uintptr_t info)
{
	const void *mod;
	size_t len;

	cubi_x86_serial_init();
	cubi_x86_cpu_init();
	cubi_x86_ssp_init();
	cubi_x86_memmap_init(magic, info);
	cubi_x86_paging_init();
	cubi_fault_add_guard((uintptr_t)cubi_boot_stack_guard,
			     (uintptr_t)cubi_boot_stack_bottom, "the boot stack");
	if (cub_arch_boot_module(0, &mod, &len))	/* the image, by scripts/run */
		cubi_x86_symbols_init((uintptr_t)mod, len);
	cubi_x86_clock_init();
	cubi_x86_rtc_init();
	cubi_x86_irq_init();
	if (cubi_x86_nic_init)
		cubi_x86_nic_init();
	if (cubi_x86_virtio_blk_init)
		cubi_x86_virtio_blk_init();
	cubi_runtime_start();
}

const char *cub_arch_cmdline(void)
{
	return cubi_x86_cmdline();
}
