/*
 * cpu.c - descriptor tables: GDT with a TSS, IST stacks, and the IDT;
 * and the MXCSR bits the CPU implements (cub_arch_mxcsr_mask).
 *
 * Invariants: every IDT vector is an interrupt gate (IF cleared on entry)
 * running on an IST stack, so entry never touches the interrupted stack:
 *   IST1  exceptions (a fault inside a fault handler ends the machine);
 *   IST2  double fault;   IST3  NMI and machine check;
 *   IST4  device interrupts 32-255 (never nested: IF=0 in handlers; a
 *         fault inside a handler gets IST1, so its report can still walk
 *         the handler's frames on IST4).
 * The tables are written once at boot, before interrupts are enabled.
 */
#include <cubrt/arch.h>
#include <cubrt/string.h>

#include "x86.h"

#define IST_FAULT_SIZE (16 * 1024)
#define IST_SMALL_SIZE (8 * 1024)

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss) == 104, "TSS layout");

struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate layout");

struct table_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern char cubi_x86_trap_stubs[];

static struct tss tss;
static uint64_t gdt[7] __attribute__((aligned(16)));
static struct idt_gate idt[256] __attribute__((aligned(16)));
static uint8_t ist_fault[IST_FAULT_SIZE] __attribute__((aligned(16)));
static uint8_t ist_df[IST_SMALL_SIZE] __attribute__((aligned(16)));
static uint8_t ist_nmi[IST_SMALL_SIZE] __attribute__((aligned(16)));
static uint8_t ist_irq[IST_FAULT_SIZE] __attribute__((aligned(16)));

static void gdt_init(void)
{
	uint64_t base = (uint64_t)(uintptr_t)&tss;
	uint64_t limit = sizeof(tss) - 1;

	gdt[0] = 0;
	gdt[1] = 0x00209A0000000000ull;	/* 0x08 kernel code, 64-bit */
	gdt[2] = 0x0000920000000000ull;	/* 0x10 kernel data */
	gdt[3] = 0x0000F20000000000ull;	/* 0x18 user data (DPL 3) */
	gdt[4] = 0x0020FA0000000000ull;	/* 0x20 user code, 64-bit (DPL 3) */
	/* 0x28: 16-byte available 64-bit TSS descriptor. */
	gdt[5] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) |
		 (0x89ull << 40) | (((limit >> 16) & 0xF) << 48) |
		 (((base >> 24) & 0xFF) << 56);
	gdt[6] = base >> 32;
}

static void load_tables(void)
{
	struct table_ptr g = { sizeof(gdt) - 1, (uint64_t)(uintptr_t)gdt };
	struct table_ptr i = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };

	__asm__ volatile("lgdt %0" : : "m"(g));
	/* Reload CS through a far return, then the data segments. */
	__asm__ volatile("pushq %0\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movw %w1, %%ds\n\t"
			 "movw %w1, %%es\n\t"
			 "movw %w1, %%ss\n\t"
			 : : "i"(X86_SEL_KCODE), "r"(X86_SEL_KDATA) : "rax", "memory");
	__asm__ volatile("ltr %w0" : : "r"(X86_SEL_TSS));
	__asm__ volatile("lidt %0" : : "m"(i));
}

/* The MXCSR bits FXRSTOR accepts (cub_arch_mxcsr_mask): the default
 * until fpu_init has asked the CPU. */
static uint32_t mxcsr_mask = X86_MXCSR_MASK_DEFAULT;

/* One FXSAVE (boot.S enabled SSE before any C code ran): its MXCSR_MASK
 * field, or the default where the CPU leaves it 0 (Intel SDM vol. 1,
 * 11.6.6; Linux's mxcsr_feature_mask_init does the same). */
static void fpu_init(void)
{
	static uint8_t img[X86_FX_SIZE] __attribute__((aligned(16)));
	uint32_t m;

	__asm__ volatile("fxsave %0" : "=m"(img));
	cub_memcpy(&m, img + 28, sizeof(m));
	mxcsr_mask = m ? m : X86_MXCSR_MASK_DEFAULT;
}

uint32_t cub_arch_mxcsr_mask(void)
{
	return mxcsr_mask;
}

static void set_gate(unsigned vec, unsigned ist)
{
	uint64_t off = (uint64_t)(uintptr_t)(cubi_x86_trap_stubs + 16 * vec);

	idt[vec] = (struct idt_gate){
		.off_lo = off & 0xFFFF,
		.sel = X86_SEL_KCODE,
		.ist = (uint8_t)ist,
		.type = 0x8E,	/* present, DPL 0, 64-bit interrupt gate */
		.off_mid = (off >> 16) & 0xFFFF,
		.off_hi = (uint32_t)(off >> 32),
	};
}

void cubi_x86_cpu_init(void)
{
	tss.ist[0] = (uint64_t)(uintptr_t)(ist_fault + sizeof(ist_fault));
	tss.ist[1] = (uint64_t)(uintptr_t)(ist_df + sizeof(ist_df));
	tss.ist[2] = (uint64_t)(uintptr_t)(ist_nmi + sizeof(ist_nmi));
	tss.ist[3] = (uint64_t)(uintptr_t)(ist_irq + sizeof(ist_irq));
	tss.iomap_base = sizeof(tss);
	gdt_init();
	for (unsigned v = 0; v < 256; v++)
		set_gate(v, v < 32 ? 1 : 4);
	set_gate(8, 2);		/* #DF */
	set_gate(2, 3);		/* NMI */
	set_gate(18, 3);	/* #MC */
	load_tables();
	fpu_init();
}
