/*
 * trap.c - CPU exception reports.
 *
 * Every exception 0-31 ends here in a report (name, error code, RIP with
 * symbol, RSP, CR2 and its decoding for page faults, all registers, the
 * coroutine, a backtrace) followed by exit status CUB_EXIT_FAULT -
 * unless the syscall shim pages in an absent page of the program's
 * memory (demand paging: shim.c, src/shim/mm_fault.c) or its fault hook
 * turns it into a signal that a Linux thread's handler takes (a fault in
 * program code: shim.c). Device
 * interrupts (32-255) are handed to the irq layer (intr.c), then, when the
 * interrupt returns to task context, traps.S runs the irq-exit hook on the
 * interrupted stack. The NMI comes through cubi_x86_nmi: the sampling
 * profiler's (sample.c), or a report.
 *
 * Invariants: irq_depth counts the device-interrupt handlers running (0 or
 * 1: handlers run with IF clear and never enable it); the exit hook is
 * returned to traps.S only when irq_depth is back to 0 and the interrupted
 * code ran in ring 0 (its stack is ours to write) with interrupts enabled
 * (so it was not in a critical section).
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>

#include "../../src/core/fault.h"
#include "x86.h"

_Static_assert(offsetof(struct x86_trap_frame, vector) == 15 * 8, "traps.S layout");
_Static_assert(offsetof(struct x86_trap_frame, rip) == 17 * 8, "traps.S layout");
_Static_assert(sizeof(struct x86_trap_frame) == 22 * 8, "traps.S layout");

static const char *const names[32] = {
	"divide error (#DE)", "debug (#DB)", "non-maskable interrupt (NMI)",
	"breakpoint (#BP)", "overflow (#OF)", "bound range exceeded (#BR)",
	"invalid opcode (#UD)", "device not available (#NM)",
	"double fault (#DF)", "coprocessor segment overrun",
	"invalid TSS (#TS)", "segment not present (#NP)",
	"stack-segment fault (#SS)", "general protection fault (#GP)",
	"page fault (#PF)", "reserved (15)", "x87 floating-point error (#MF)",
	"alignment check (#AC)", "machine check (#MC)",
	"SIMD floating-point exception (#XM)", "virtualization exception (#VE)",
	"control protection exception (#CP)", "reserved (22)", "reserved (23)",
	"reserved (24)", "reserved (25)", "reserved (26)", "reserved (27)",
	"hypervisor injection (#HV)", "VMM communication (#VC)",
	"security exception (#SX)", "reserved (31)",
};

static void (*irq_handler)(unsigned vector);
static void (*exit_hook)(void);
static volatile int in_fault;
static volatile int irq_depth;

/* Contexts: boot. */
void cub_arch_set_irq_exit_hook(void (*fn)(void))
{
	exit_hook = fn;
}

void cubi_x86_set_irq_handler(void (*fn)(unsigned vector))
{
	irq_handler = fn;
}

bool cub_arch_in_irq(void)
{
	return irq_depth > 0;
}

static void page_fault_detail(const struct x86_trap_frame *f, uint64_t cr2)
{
	char owner[48];

	cub_printk("  CR2 %016lx  (%s %s, %s mode%s)\n", (unsigned long)cr2,
		   f->error & 16 ? "instruction fetch from" :
		   f->error & 2 ? "write to" : "read from",
		   f->error & 1 ? "protected page" : "unmapped page",
		   f->error & 4 ? "user" : "kernel",
		   f->error & 8 ? ", reserved bit set" : "");
	if (cubi_fault_guard_owner((uintptr_t)cr2, owner, sizeof(owner)))
		cub_printk("  stack overflow: hit the guard page of %s\n", owner);
	else if (cr2 < CUB_PAGE_SIZE)
		cub_printk("  NULL pointer dereference\n");
	else if ((f->error & 17) == 17)
		cub_printk("  execute from a non-executable (NX) page\n");
}

static void print_registers(const struct x86_trap_frame *f)
{
	cub_printk("  RAX %016lx  RBX %016lx  RCX %016lx\n", f->rax, f->rbx, f->rcx);
	cub_printk("  RDX %016lx  RSI %016lx  RDI %016lx\n", f->rdx, f->rsi, f->rdi);
	cub_printk("  RBP %016lx  RSP %016lx  R8  %016lx\n", f->rbp, f->rsp, f->r8);
	cub_printk("  R9  %016lx  R10 %016lx  R11 %016lx\n", f->r9, f->r10, f->r11);
	cub_printk("  R12 %016lx  R13 %016lx  R14 %016lx\n", f->r12, f->r13, f->r14);
	cub_printk("  R15 %016lx  RFLAGS %08lx  CS %04lx  SS %04lx\n", f->r15,
		   f->rflags, f->cs, f->ss);
}

static CUB_NORETURN void fault_report(const struct x86_trap_frame *f)
{
	uint64_t cr2 = read_cr2();

	if (in_fault++) {
		cub_printk("\nfault: %s while reporting a fault; giving up\n",
			   names[f->vector & 31]);
		cubi_fault_exit();
	}
	cub_printk("\n*** cubrt fault ***\nfault: %s, vector %lu, error code 0x%lx\n",
		   names[f->vector], f->vector, f->error);
	cub_printk("  RIP ");
	cubi_print_addr(f->rip);
	cub_printk("\n  RSP %016lx\n", f->rsp);
	if (f->vector == 14)
		page_fault_detail(f, cr2);
	/* SYSCALL raises #UD until the shim has enabled it. */
	if (f->vector == 6 && cub_arch_addr_readable(f->rip, 2) &&
	    ((const uint8_t *)f->rip)[0] == 0x0F && ((const uint8_t *)f->rip)[1] == 0x05)
		cub_printk("  a `syscall` instruction: call cub_shim_init() first "
			   "(Linux programs built with scripts/musl-image do)\n");
	cubi_fault_print_context();
	print_registers(f);
	cubi_backtrace_print(f->rbp);
	cubi_fault_exit();
}

/*
 * Called by traps.S for every vector. Leaves in cubi_x86_exit_call the
 * irq-exit hook for traps.S to call on the interrupted stack, or NULL to
 * return directly (read by traps.S right after this returns, with
 * interrupts still disabled). Contexts: irq (interrupts disabled).
 */
void (*cubi_x86_exit_call)(void);
/* Signal delivery at interrupt exit (platform/x86/shim.c sets it when
 * the syscall shim is enabled; traps.S calls it after the exit hook). */
void (*cubi_x86_trap_signal_hook)(struct x86_trap_frame *f, void *fx);

/* A fault in a Linux thread's program code that its handler takes
 * (platform/x86/shim.c sets it with the syscall shim): true when the
 * frame now enters the handler. */
bool (*cubi_x86_fault_hook)(struct x86_trap_frame *f, void *fx);

/* Demand paging (platform/x86/shim.c sets it with the syscall shim): a
 * page fault on an absent page (error code bit P clear), or a write to a
 * present one (P and W set: a private file mapping's page copied on its
 * first write), with its error code: 1 when the page has its frame now,
 * 0 when it is a real fault, < 0 when no frame is left. */
int (*cubi_x86_demand_hook)(uintptr_t addr, uint64_t err);

/* True when the fault was an absent page that now has its frame: the
 * instruction runs again. Whoever faulted, program or cubrt (one
 * privilege level: cubrt's own code may touch a program page first).
 * Out of frames, the report ends the program, handler or not, as
 * Linux's OOM killer ends it with a signal no handler takes. */
static bool demand_paged(const struct x86_trap_frame *f)
{
	uint64_t cr2;
	int rc;

	if (f->vector != 14 || (f->error & 3) == 1 || !cubi_x86_demand_hook || in_fault)
		return false;
	cr2 = read_cr2();
	rc = cubi_x86_demand_hook((uintptr_t)cr2, f->error);
	if (rc < 0) {
		cub_printk("\nfault: out of memory: no frame left for the page at %016lx\n",
			   (unsigned long)cr2);
		fault_report(f);
	}
	return rc > 0;
}

/* The NMI's consumer (sample.c sets it when sampling first starts):
 * true when it took the NMI as its own. */
bool (*cubi_x86_nmi_hook)(const struct x86_trap_frame *f);

/* Called by traps.S for an NMI (vector 2), which may interrupt anything,
 * even a trap entry or exit: a sample, or else a report as for any
 * exception. Contexts: NMI. */
void cubi_x86_nmi(struct x86_trap_frame *f)
{
	if (cubi_x86_nmi_hook && cubi_x86_nmi_hook(f))
		return;
	fault_report(f);
}

void cubi_x86_trap(struct x86_trap_frame *f)
{
	if (f->vector < 32) {
		if (demand_paged(f)) {
			cubi_x86_exit_call = NULL;
			return;
		}
		if (cubi_x86_fault_hook && !in_fault &&
		    cubi_x86_fault_hook(f, (uint8_t *)f - X86_FX_SIZE)) {
			cubi_x86_exit_call = NULL;
			return;
		}
		fault_report(f);
	}
	irq_depth++;
	if (irq_handler)
		irq_handler((unsigned)f->vector);
	irq_depth--;
	cubi_x86_exit_call = irq_depth == 0 && (f->rflags & X86_RFLAGS_IF) &&
			     (f->cs & 3) == 0 ? exit_hook : NULL;
}
