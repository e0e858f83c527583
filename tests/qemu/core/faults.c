/*
 * faults.c - one image, many ways to fail; the command line picks one.
 * tests/qemu/core/meson.build checks each report's fields and the exit
 * status through tests/qemu/expect. Every scenario must end the machine:
 * reaching the end of cub_main is itself a failure (status 1).
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/panic.h>
#include <cubrt/runtime.h>
#include <cubrt/string.h>

typedef void (*scenario_fn)(void);

/* The compiler must not see through these, so they stay real faults. */
static volatile int zero;
static volatile int thousand = 1000;
static volatile uintptr_t null_addr;
/* A page-aligned data buffer holding "ret": executing it must fault (NX). */
static unsigned char data_code[4096] __attribute__((aligned(4096))) = { 0xC3 };
static const unsigned char rodata_bytes[16] = { 1, 2, 3 };

__attribute__((noinline)) static void fault_divide(void)
{
	cub_printk("dividing by zero: %d\n", thousand / zero);
}

__attribute__((noinline)) static void fault_null(void)
{
	cub_printk("read NULL: %d\n", *(volatile int *)null_addr);
}

__attribute__((noinline)) static void fault_nx(void)
{
	((void (*)(void))(uintptr_t)data_code)();
}

__attribute__((noinline)) static void fault_write_text(void)
{
	*(volatile unsigned char *)(uintptr_t)&fault_divide = 0x90;
}

__attribute__((noinline)) static void fault_write_rodata(void)
{
	*(volatile unsigned char *)(uintptr_t)rodata_bytes = 7;
}

__attribute__((noinline)) static void fault_ud(void)
{
	__asm__ volatile("ud2");
}

/* SYSCALL before the shim enabled it: #UD, with a hint in the report. */
__attribute__((noinline)) static void raw_syscall(void)
{
	__asm__ volatile("mov $39, %%eax; syscall" ::: "rax", "rcx", "r11", "memory");
}

__attribute__((noinline)) static void do_panic(void)
{
	cub_panic("test panic %d", 42);
}

__attribute__((noinline)) static void do_assert(void)
{
	CUB_ASSERT(zero == 1);
}

/* Unbounded recursion on the boot stack runs into its guard page. */
#pragma GCC diagnostic ignored "-Winfinite-recursion"
__attribute__((noinline)) static int recurse(int n)
{
	volatile char pad[256];

	pad[0] = (char)n;
	return recurse(n + 1) + pad[0];
}

__attribute__((noinline)) static void overflow_boot_stack(void)
{
	cub_printk("recursed: %d\n", recurse(0));
}

/* Writes past a local array: the stack protector must catch it. */
__attribute__((noinline)) static void smash_stack(void)
{
	char buf[16];
	volatile size_t n = 64;

	cub_memset(buf, 'A', n);
	cub_printk("smashed %c\n", buf[0]);
}

static void spin(void)
{
	for (;;)
		__asm__ volatile("pause");
}

/* An empty IDT turns the first exception into a triple fault (reset). */
static void triple_fault(void)
{
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idt = { 0, 0 };

	__asm__ volatile("lidt %0; int3" : : "m"(idt));
}

static void exit_42(void) { cub_exit(42); }
static void exit_77(void) { cub_exit(77); }
static void exit_bad(void) { cub_exit(200); }

static const struct {
	const char *name;
	scenario_fn fn;
} scenarios[] = {
	{ "divide", fault_divide },	{ "null", fault_null },
	{ "nx", fault_nx },		{ "write-text", fault_write_text },
	{ "write-rodata", fault_write_rodata }, { "ud", fault_ud },
	{ "syscall", raw_syscall },
	{ "panic", do_panic },		{ "assert", do_assert },
	{ "stack-overflow", overflow_boot_stack },
	{ "stack-smash", smash_stack },	{ "spin", spin },
	{ "triple-fault", triple_fault }, { "exit-42", exit_42 },
	{ "exit-77", exit_77 },		{ "exit-bad", exit_bad },
};

int cub_main(void)
{
	const char *arg = cub_cmdline();

	for (size_t i = 0; i < CUB_ARRAY_SIZE(scenarios); i++) {
		if (cub_strcmp(arg, scenarios[i].name) == 0) {
			cub_printk("scenario: %s\n", arg);
			scenarios[i].fn();
			cub_printk("scenario %s did not end the machine\n", arg);
			return 1;
		}
	}
	cub_printk("faults: unknown scenario '%s'\n", arg);
	return 2;
}
