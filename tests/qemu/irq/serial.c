/*
 * serial.c - interrupt-driven console input: the runner pipes LINES lines
 * (more than the 1 KiB receive ring holds) into COM1; this coroutine
 * reads them with cub_console_read, which parks until the UART's receive
 * interrupt wakes it. Every byte must arrive, in order; the COM1 line's
 * counter shows the interrupts that carried them.
 */
#include <cubrt/irq.h>
#include <cubrt/string.h>

#include "util.h"

#define LINES 100
static const char line[] = "the quick brown fox jumps over the lazy dog 0123456789\n";

int cub_main(void)
{
	size_t len = sizeof(line) - 1, total = len * LINES, got = 0;
	char buf[97];
	struct cub_irq_stat st;

	CHECK(cub_console_irq_driven());
	while (got < total) {
		int n = cub_console_read(buf, sizeof(buf));

		CHECK(n > 0);
		for (int i = 0; i < n; i++, got++)
			if (buf[i] != line[got % len]) {
				cub_printk("FAIL: byte %lu is %d, want %d\n",
					   (unsigned long)got, buf[i], line[got % len]);
				return 1;
			}
	}
	CHECK_EQ(cub_irq_stat(CUB_IRQ_COM1, &st), 0);
	CHECK(st.registered && st.runtime && st.count > 0);
	CHECK_EQ(cub_console_read(NULL, 4), -CUB_EINVAL);
	CHECK_EQ(cub_console_read(buf, 0), 0);
	cub_printk("serial: %lu bytes in order through %lu receive interrupts\n",
		   (unsigned long)got, (unsigned long)st.count);
	cub_printk("irq serial: ok\n");
	return 0;
}
