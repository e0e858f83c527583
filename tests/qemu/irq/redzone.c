/*
 * redzone.c - interrupts never damage the interrupted code: spin.S keeps
 * live data in the 128 bytes below its stack pointer, in every XMM
 * register, on the x87 stack and in the general registers while a PIT
 * storm arrives; the handler clobbers XMM and x87 state on purpose. All of
 * it must survive. cub_main runs as a coroutine, so the irq-exit hook is
 * called on every interrupt with the frame moved onto this very stack,
 * right below the red zone.
 */
#include "spin.h"

static volatile uint64_t ticks;

/* A handler compiled with SSE that destroys the FPU/SSE state. */
static void clobber(void *ctx)
{
	volatile double d = 1.0;

	(void)ctx;
	ticks++;
	__asm__ volatile("pcmpeqd %%xmm0, %%xmm0\n\t"
			 "pxor %%xmm1, %%xmm1\n\t"
			 "movdqa %%xmm0, %%xmm7\n\t"
			 "movdqa %%xmm0, %%xmm8\n\t"
			 "movdqa %%xmm0, %%xmm15\n\t"
			 "fninit\n\t"
			 "fld1"
			 ::: "xmm0", "xmm1", "xmm7", "xmm8", "xmm15", "memory");
	d = d * 3.0;
	__asm__ volatile("fstp %%st(0)" ::: "memory");
}

int cub_main(void)
{
	struct spin_state in, out;

	CHECK_EQ(cub_irq_register(CUB_IRQ_PIT, clobber, NULL), 0);
	pit_periodic(20000);
	cub_arch_irq_enable();
	for (unsigned round = 0; round < 4; round++) {
		spin_fill(&in, round + 1);
		cub_memset(&out, 0, sizeof(out));
		irq_test_spin(&ticks, ticks + 200, &out, &in);
		spin_check(&out, &in, "cub_main");
	}
	cub_printk("red zone, xmm0-15, x87, registers: intact across %lu "
		   "interrupts\n", (unsigned long)ticks);
	pit_periodic(0);
	CHECK_EQ(cub_irq_unregister(CUB_IRQ_PIT), 0);
	cub_printk("irq redzone: ok\n");
	return 0;
}
