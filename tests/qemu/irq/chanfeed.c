/*
 * chanfeed.c - a device interrupt is the only thing that can wake main:
 * the PIT (line 0, periodic) sends 1, 2, 3, ... on a buffered channel with
 * cub_chan_send_isr while main blocks in cub_chan_recv with no timer
 * pending. The scheduler must idle (hlt) instead of reporting a deadlock,
 * and every value must arrive in order. After unregistering the handler
 * the same wait is a real deadlock; the second phase checks that report.
 */
#include <cubrt/chan.h>
#include <cubrt/fmt.h>
#include <cubrt/irq.h>
#include <cubrt/runtime.h>
#include <cubrt/string.h>

#include "util.h"

#define VALUES 200

static struct cub_chan ch;
static unsigned long buf[16];
static unsigned long next = 1;

static void on_pit(void *ctx)
{
	(void)ctx;
	if (next <= VALUES && cub_chan_send_isr(&ch, &next) == 0)
		next++;
}

int cub_main(void)
{
	unsigned long v, want = 1;

	if (cub_chan_init(&ch, sizeof(unsigned long), 16, buf) ||
	    cub_irq_register(CUB_IRQ_PIT, on_pit, NULL))
		return 1;
	pit_periodic(2000);
	while (want <= VALUES) {
		if (cub_chan_recv(&ch, &v) != 1 || v != want) {
			cub_printk("chanfeed: got %lu, wanted %lu\n", v, want);
			return 2;
		}
		want++;
	}
	pit_periodic(0);
	cub_irq_unregister(CUB_IRQ_PIT);
	cub_printk("chanfeed: %d values from the PIT handler, in order\n", VALUES);
	if (!cub_strcmp(cub_cmdline(), "then-deadlock"))
		cub_chan_recv(&ch, &v);	/* nothing can wake us now */
	return 0;
}
