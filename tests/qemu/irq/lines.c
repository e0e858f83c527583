/*
 * lines.c - the dispatch table on real controllers: a handler registered
 * for the PIT's line runs with its context and the counters grow; masking
 * stops delivery and unmasking resumes it; registration errors; vectors
 * raised by `int`; an unhandled line and vector are counted and reported
 * (once each, by the runtime), never fatal.
 */
#include "util.h"

struct probe {
	unsigned magic;
	volatile unsigned calls;
	volatile bool irq_ctx;
	volatile bool irq_off;
};

static void on_irq(void *ctx)
{
	struct probe *p = ctx;

	CHECK_EQ(p->magic, 0xC0FFEE);
	p->calls++;
	p->irq_ctx = cub_irq_in_handler();
	p->irq_off = !cub_arch_irq_enabled();
}

static bool pic_mode;

static void test_errors(struct probe *p)
{
	CHECK_EQ(cub_irq_register(CUB_IRQ_LINES, on_irq, p), -CUB_EINVAL);
	CHECK_EQ(cub_irq_register(CUB_IRQ_PIT, NULL, p), -CUB_EINVAL);
	CHECK_EQ(cub_irq_register(CUB_IRQ_VECTOR(14), on_irq, p), -CUB_EINVAL);
	CHECK_EQ(cub_irq_register(CUB_IRQ_VECTOR(0xFF), on_irq, p), -CUB_EINVAL);
	/* The runtime's timer: the APIC timer vector, or the PIT's line. */
	unsigned timer = pic_mode ? CUB_IRQ_PIT : CUB_IRQ_VECTOR(0xF0);

	CHECK_EQ(cub_irq_register(timer, on_irq, p), -CUB_EPERM);
	CHECK_EQ(cub_irq_unregister(timer), -CUB_EPERM);
	CHECK_EQ(cub_irq_mask(timer), -CUB_EPERM);
	CHECK_EQ(cub_irq_register(2, on_irq, p), -CUB_EINVAL);	/* cascade */
	if (!pic_mode)
		CHECK_EQ(cub_irq_unregister(CUB_IRQ_PIT), -CUB_ENOENT);
	CHECK_EQ(cub_irq_mask(CUB_IRQ_LINES + 5), -CUB_EINVAL);
	CHECK_EQ(cub_irq_count(CUB_IRQ_LINES), 0);
}

static void test_pit(struct probe *p)
{
	struct cub_irq_stat st;
	unsigned seen, calls;

	CHECK_EQ(cub_irq_register(CUB_IRQ_PIT, on_irq, p), 0);
	CHECK_EQ(cub_irq_register(CUB_IRQ_PIT, on_irq, p), -CUB_EBUSY);
	CHECK_EQ(cub_irq_set_name(CUB_IRQ_PIT, "pit"), 0);
	pit_periodic(1000);
	spin_until(&p->calls, 5, 2000);
	CHECK(p->calls >= 5);
	CHECK(p->irq_ctx && p->irq_off);
	/* The PIT runs on: the calls first, then the line's count, which
	 * the dispatcher raises before each call. (Both in one expression,
	 * the compiler read the count first, and a tick between the two
	 * reads made calls exceed it under load.) */
	calls = p->calls;
	CHECK(cub_irq_count(CUB_IRQ_PIT) >= calls);
	CHECK_EQ(cub_irq_stat(CUB_IRQ_PIT, &st), 0);
	CHECK(st.registered && !st.masked && !st.runtime && st.vector >= 0x20);
	cub_printk("pit: %u calls, line count %lu, vector 0x%x\n", p->calls,
		   (unsigned long)st.count, st.vector);

	CHECK_EQ(cub_irq_mask(CUB_IRQ_PIT), 0);
	spin_ms(2);		/* one in flight may still land */
	seen = p->calls;
	spin_ms(20);
	CHECK_EQ(p->calls, seen);
	cub_printk("masked: no delivery in 20 ms\n");
	CHECK_EQ(cub_irq_unmask(CUB_IRQ_PIT), 0);
	spin_until(&p->calls, seen + 5, 2000);
	CHECK(p->calls >= seen + 5);
	cub_printk("unmasked: delivery resumed\n");
	CHECK_EQ(cub_irq_unregister(CUB_IRQ_PIT), 0);
	seen = p->calls;
	spin_ms(10);
	CHECK_EQ(p->calls, seen);
}

static void test_vector(struct probe *p)
{
	unsigned before = p->calls;

	CHECK_EQ(cub_irq_register(CUB_IRQ_VECTOR(0x80), on_irq, p), 0);
	__asm__ volatile("int $0x80" ::: "memory");
	__asm__ volatile("int $0x80" ::: "memory");
	CHECK_EQ(p->calls, before + 2);
	CHECK_EQ(cub_irq_count(CUB_IRQ_VECTOR(0x80)), 2);
	CHECK_EQ(cub_irq_unregister(CUB_IRQ_VECTOR(0x80)), 0);
	cub_printk("vector 0x80: 2 calls\n");
}

static void test_unhandled(void)
{
	struct cub_irq_totals t0, t1;
	uint64_t pit0 = cub_irq_count(CUB_IRQ_PIT);
	uint64_t end = cub_arch_clock_ns() + 2000000000ull;

	cub_irq_totals(&t0);
	__asm__ volatile("int $0x81" ::: "memory");
	__asm__ volatile("int $0x81" ::: "memory");
	CHECK_EQ(cub_irq_unmask(CUB_IRQ_PIT), 0);	/* no handler */
	while (cub_irq_count(CUB_IRQ_PIT) < pit0 + 5 &&
	       cub_arch_clock_ns() < end)
		spin_ms(1);
	CHECK_EQ(cub_irq_mask(CUB_IRQ_PIT), 0);
	pit_periodic(0);
	cub_irq_totals(&t1);
	CHECK(t1.unhandled - t0.unhandled >= 2 + 5);
	CHECK_EQ(cub_irq_count(CUB_IRQ_VECTOR(0x81)), 2);
	cub_printk("unhandled: %lu interrupts, survived\n",
		   (unsigned long)(t1.unhandled - t0.unhandled));
}

int cub_main(void)
{
	struct probe p = { .magic = 0xC0FFEE };

	cub_printk("controller: %s\n", cub_irq_controller());
	pic_mode = cub_irq_controller()[0] == '8';
	test_errors(&p);
	if (!pic_mode)
		test_pit(&p);	/* in PIC mode the PIT is the runtime's timer */
	test_vector(&p);
	if (!pic_mode)
		test_unhandled();
	cub_printk("irq lines: ok\n");
	return 0;
}
