/*
 * x86.h - private definitions of the x86-64 bare-metal platform: port I/O,
 * control registers, MSRs, segment selectors and the trap frame shared
 * with traps.S. Only platform/x86 includes this file.
 */
#ifndef CUBRT_X86_H
#define CUBRT_X86_H

#include <cubrt/base.h>

#define X86_SEL_KCODE 0x08
#define X86_SEL_KDATA 0x10
#define X86_SEL_UDATA 0x1b	/* 0x18 | RPL 3; sysret wants udata below ucode */
#define X86_SEL_UCODE 0x23
#define X86_SEL_TSS   0x28

#define X86_MSR_EFER     0xC0000080u
#define X86_MSR_FS_BASE  0xC0000100u
#define X86_MSR_GS_BASE  0xC0000101u
#define X86_EFER_NXE     (1u << 11)

#define X86_RFLAGS_IF    (1ul << 9)

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v),
			 "d"((uint32_t)(v >> 32)));
}

static inline uint64_t read_cr2(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline uint64_t read_cr3(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline void write_cr3(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline void invlpg(uintptr_t va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static inline uint64_t read_rflags(void)
{
	uint64_t v;

	__asm__ volatile("pushfq; popq %0" : "=r"(v));
	return v;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

/*
 * The frame traps.S builds on the interrupt stack: general registers pushed
 * by the stub (r15 first pushed last), then vector and error code, then the
 * hardware frame. The offsets are fixed by traps.S (asserted in trap.c).
 */
struct x86_trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};
/* trap.c: the NMI's consumer (sample.c), called from traps.S. */
extern bool (*cubi_x86_nmi_hook)(const struct x86_trap_frame *f);
void cubi_x86_nmi(struct x86_trap_frame *f);
/* halt.S: sti; hlt; then cli and return. An interrupt taken while halted
 * returns to cubi_x86_halted (the instruction after the hlt). */
void cubi_x86_halt(void);
extern char cubi_x86_halt_at[], cubi_x86_halted[];
/* The FXSAVE image traps.S keeps just below the frame. */
#define X86_FX_SIZE 512
/* The MXCSR bits of a CPU whose FXSAVE leaves MXCSR_MASK 0 (cpu.c). */
#define X86_MXCSR_MASK_DEFAULT 0xffbfu

/* The signal Linux sends for exception f (vector < 32) taken in program
 * code, fx its FXSAVE image: false when Linux has none to send or the
 * exception cannot be the program's (fault_sig.c). Reads and clears DR6
 * for a #DB. */
struct cubi_fault;
bool cubi_x86_fault_signal(const struct x86_trap_frame *f, const void *fx,
			   struct cubi_fault *flt);

/* Linker-script symbols bounding the image sections. */
extern char __image_start[], __text_end[], __rodata_end[], __data_end[],
	__image_end[];
extern char cubi_boot_stack_guard[], cubi_boot_stack_bottom[],
	cubi_boot_stack_top[];

/* Platform-internal entry points, in initialisation order. */
void cubi_x86_serial_init(void);
void cubi_x86_cpu_init(void);		/* GDT, TSS, IST stacks, IDT, MXCSR mask */
void cubi_x86_memmap_init(uint32_t magic, uintptr_t mbi);
void cubi_x86_paging_init(void);
void cubi_x86_symbols_init(uintptr_t elf, size_t len);
void cubi_x86_trap(struct x86_trap_frame *f);

/* Highest physical address identity mapped (and handed to the frame
 * allocator): bounded so the boot page-table pool always suffices. */
#define X86_PHYS_LIMIT (16ull << 30)

/*
 * Page-table pages (ptable.c), for paging.c only: alloc returns a zeroed,
 * identity-mapped page (the boot pool first, then the allocator src/mem
 * registers) or NULL; free takes back a table paging.c has unlinked and
 * invalidated. stats: the tables handed out and not freed (the PML4
 * included) and the pool pages left; for tests. Contexts: interrupts
 * disabled (alloc, free), any (stats).
 */
uint64_t *cubi_x86_table_alloc(void);
void cubi_x86_table_free(uint64_t *t);
void cubi_x86_table_stats(size_t *live, size_t *pool_left);

/* Identity-maps the device registers [pa, pa + len) uncached (PCD|PWT),
 * read/write, no-execute (paging.c). 0; -CUB_EINVAL for an empty or
 * wrapping range, one reaching the vm window or overlapping RAM the frame
 * allocator owns; -CUB_ENOMEM. Contexts: boot, task. */
int cubi_x86_map_mmio(uint64_t pa, uint64_t len);

size_t cubi_x86_firmware_ranges(uint64_t (*out)[2], size_t max);
void cubi_x86_ssp_init(void);
void cubi_x86_clock_init(void);
void cubi_x86_rtc_init(void);
void cubi_x86_set_irq_handler(void (*fn)(unsigned vector));
const char *cubi_x86_cmdline(void);

#endif
