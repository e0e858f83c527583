/*
 * blocking.c - a handler that calls a blocking API panics naming it; a
 * handler that faults gets a full report with its own frames. The command
 * line picks the misdeed; vector 0x70 is raised with `int`.
 */
#include <cubrt/chan.h>
#include <cubrt/irq.h>
#include <cubrt/runtime.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "util.h"

static struct cub_chan *ch;
static struct cub_irq_event ev;
static volatile uint32_t *volatile null_ptr;

static void bad_handler(void *ctx)
{
	const char *what = ctx;
	char c;
	uint32_t v;

	if (!cub_strcmp(what, "console"))
		cub_console_read(&c, 1);
	else if (!cub_strcmp(what, "event"))
		cub_irq_event_wait(&ev);
	else if (!cub_strcmp(what, "recv"))
		cub_chan_recv(ch, &v);
	else if (!cub_strcmp(what, "fault"))
		*null_ptr = 1;
	else
		cub_sleep(1000);
}

int cub_main(void)
{
	const char *what = cub_cmdline();

	cub_irq_event_init(&ev, "test event");
	CHECK_EQ(cub_chan_new(&ch, sizeof(uint32_t), 0), 0);
	CHECK_EQ(cub_irq_register(CUB_IRQ_VECTOR(0x70), bad_handler, (void *)what), 0);
	__asm__ volatile("int $0x70" ::: "memory");
	cub_printk("FAIL: the handler returned\n");
	return 1;
}
