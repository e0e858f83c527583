/*
 * fault.c - fault reports for a Linux process: SIGSEGV and SIGBUS become
 * the same report as a CPU exception on bare metal (what, where, the
 * coroutine, registers, backtrace), then exit status CUB_EXIT_FAULT.
 *
 * The handler runs on an alternate signal stack, so a stack overflow into
 * a guard page (whose stack pointer is in the guard) still gets a report.
 * Invariants: a fault inside the report ends the process at once instead
 * of recursing. Installing again (e.g. after a test framework replaced
 * the handler) is harmless.
 */
#define _GNU_SOURCE
#include <cubrt/arch.h>
#include <cubrt/fmt.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "../../src/core/fault.h"
#include "host_mem.h"

#define ALT_STACK_SIZE (64 * 1024)

extern char __executable_start[], _end[];

static char alt_stack[ALT_STACK_SIZE] __attribute__((aligned(16)));
static volatile sig_atomic_t in_fault;

static const char *cause(int sig, const siginfo_t *si)
{
	if (sig == SIGBUS)
		return "bus error (SIGBUS)";
	return si->si_code == SEGV_ACCERR ? "page fault on a protected page (SIGSEGV)"
					  : "page fault on an unmapped page (SIGSEGV)";
}

static void print_registers(const greg_t *g)
{
	cub_printk("  RAX %016llx  RBX %016llx  RCX %016llx\n", g[REG_RAX], g[REG_RBX], g[REG_RCX]);
	cub_printk("  RDX %016llx  RSI %016llx  RDI %016llx\n", g[REG_RDX], g[REG_RSI], g[REG_RDI]);
	cub_printk("  RBP %016llx  RSP %016llx  R8  %016llx\n", g[REG_RBP], g[REG_RSP], g[REG_R8]);
	cub_printk("  R9  %016llx  R10 %016llx  R11 %016llx\n", g[REG_R9], g[REG_R10], g[REG_R11]);
	cub_printk("  R12 %016llx  R13 %016llx  R14 %016llx\n", g[REG_R12], g[REG_R13], g[REG_R14]);
	cub_printk("  R15 %016llx  EFL %08llx\n", g[REG_R15], g[REG_EFL]);
}

/* The program's load address, so that a position-independent binary's
 * addresses can be symbolised afterwards (addr2line -e PROGRAM OFFSET):
 * host reports print raw addresses (console.c's cub_arch_symbol). */
static void print_image(uintptr_t rip)
{
	uintptr_t base = (uintptr_t)__executable_start;

	cub_printk("  program %s loaded at %016lx", program_invocation_short_name,
		   (unsigned long)base);
	if (rip >= base && rip < (uintptr_t)_end)
		cub_printk(": RIP at +0x%lx", (unsigned long)(rip - base));
	cub_printk("\n");
}

static void handler(int sig, siginfo_t *si, void *ucv)
{
	const ucontext_t *uc = ucv;
	const greg_t *g = uc->uc_mcontext.gregs;
	uintptr_t addr = (uintptr_t)si->si_addr;
	unsigned long err = (unsigned long)g[REG_ERR];
	char owner[64];

	if (in_fault++) {
		static const char msg[] = "\nfault: another fault while reporting a fault; giving up\n";

		(void)!write(2, msg, sizeof(msg) - 1);
		_exit(125);
	}
	cub_printk("\n*** cubrt fault ***\nfault: %s\n  RIP ", cause(sig, si));
	cubi_print_addr((uintptr_t)g[REG_RIP]);
	cub_printk("\n  RSP %016llx\n", g[REG_RSP]);
	print_image((uintptr_t)g[REG_RIP]);
	cub_printk("  address %016lx  (%s %s page)\n", (unsigned long)addr,
		   err & 16 ? "instruction fetch from" : err & 2 ? "write to" : "read from",
		   si->si_code == SEGV_ACCERR ? "a protected" : "an unmapped");
	if (cubi_fault_guard_owner(addr, owner, sizeof(owner)))
		cub_printk("  stack overflow: hit the guard page of %s\n", owner);
	else if (addr < CUB_PAGE_SIZE)
		cub_printk("  NULL pointer dereference\n");
	cubi_fault_print_context();
	print_registers(g);
	cubi_backtrace_print((uintptr_t)g[REG_RBP]);
	cubi_fault_exit();
}

void cubi_host_fault_init(void)
{
	stack_t ss = { .ss_sp = alt_stack, .ss_size = sizeof(alt_stack) };
	struct sigaction sa;

	if (sigaltstack(&ss, NULL))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}
