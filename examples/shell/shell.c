/*
 * shell - an interactive prompt on the serial console, in the spirit of
 * eggos's terminal: line editing with history (lineedit.c) and a few
 * commands to look inside the runtime. Boot it with
 *     scripts/run --timeout 0 build/x86/examples/shell/shell
 * (Ctrl-A X quits QEMU). Input arrives by the UART's receive interrupt;
 * the shell coroutine sleeps in cub_console_read until a key comes.
 */
#include <cubrt/fmt.h>
#include <cubrt/heap.h>
#include <cubrt/irq.h>
#include <cubrt/mem.h>
#include <cubrt/panic.h>
#include <cubrt/runtime.h>
#include <cubrt/sched.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "lineedit.h"

#define MAX_ARGS 16
#define PROMPT "cubrt> "

struct command {
	const char *name, *args, *help;
	int (*run)(int argc, char **argv);
};

static const struct command commands[];

static int cmd_help(int argc, char **argv)
{
	(void)argc, (void)argv;
	for (const struct command *c = commands; c->name; c++)
		cub_printk("  %-8s %-8s %s\n", c->name, c->args, c->help);
	cub_printk("keys: arrows, Home/End, ^A ^E ^U ^K ^W, Up/Down history, "
		   "^C cancels the line\n");
	return 0;
}

static int cmd_ps(int argc, char **argv)
{
	(void)argc, (void)argv;
	cub_coro_ps();
	return 0;
}

static int cmd_mem(int argc, char **argv)
{
	struct cub_heap_stats h;
	struct cub_frame_stats f;

	(void)argc, (void)argv;
	cub_heap_stats(&h);
	cub_frame_stats(&f);
	cub_printk("heap:   %lu bytes in use in %lu blocks, %lu free "
		   "(largest %lu), peak %lu, total %lu\n",
		   (unsigned long)h.in_use, (unsigned long)h.blocks,
		   (unsigned long)h.free, (unsigned long)h.largest_free,
		   (unsigned long)h.peak, (unsigned long)h.total);
	cub_printk("frames: %lu of %lu free (4 KiB each), lowest %lu, "
		   "%lu for the allocator\n", (unsigned long)f.free,
		   (unsigned long)f.total, (unsigned long)f.min_free,
		   (unsigned long)f.meta);
	return 0;
}

static int cmd_irq(int argc, char **argv)
{
	struct cub_irq_totals t;
	struct cub_irq_stat st;

	(void)argc, (void)argv;
	cub_printk("controller: %s\n", cub_irq_controller());
	cub_printk("  line        vector  count       name\n");
	for (unsigned l = 0; l < CUB_IRQ_LINES; l++) {
		char id[16];

		if (cub_irq_stat(l, &st) || (!st.count && !st.registered))
			continue;
		if (l < CUB_IRQ_DEVICE_LINES)
			cub_snprintf(id, sizeof(id), "%u", l);
		else
			cub_snprintf(id, sizeof(id), "vec 0x%x", l - CUB_IRQ_DEVICE_LINES);
		cub_printk("  %-10s  0x%-4x  %-10lu  %s%s%s\n", id, st.vector,
			   (unsigned long)st.count, st.name ? st.name : "-",
			   st.masked ? " (masked)" : "",
			   st.registered ? "" : " (no handler)");
	}
	cub_irq_totals(&t);
	cub_printk("total %lu, spurious %lu, unhandled %lu\n",
		   (unsigned long)t.total, (unsigned long)t.spurious,
		   (unsigned long)t.unhandled);
	return 0;
}

static int cmd_uptime(int argc, char **argv)
{
	uint64_t ns = cub_time_now();

	(void)argc, (void)argv;
	cub_printk("up %lu.%03lu s\n", (unsigned long)(ns / CUB_NSEC_PER_SEC),
		   (unsigned long)(ns % CUB_NSEC_PER_SEC / CUB_NSEC_PER_MSEC));
	return 0;
}

static int cmd_echo(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		cub_printk("%s%s", argv[i], i + 1 < argc ? " " : "");
	cub_printk("\n");
	return 0;
}

/* "N" seconds or "Nms" milliseconds. */
static int parse_duration(const char *s, uint64_t *ns)
{
	char num[24];
	size_t n = cub_strlen(s);
	uint64_t unit = CUB_NSEC_PER_SEC;
	long v;

	if (n > 2 && !cub_strcmp(s + n - 2, "ms")) {
		n -= 2;
		unit = CUB_NSEC_PER_MSEC;
	}
	if (n == 0 || n >= sizeof(num))
		return -CUB_EINVAL;
	cub_memcpy(num, s, n);
	num[n] = 0;
	if (cub_parse_long(num, &v) || v < 0 || v > 3600000)
		return -CUB_EINVAL;
	*ns = (uint64_t)v * unit;
	return 0;
}

static int cmd_sleep(int argc, char **argv)
{
	uint64_t ns;

	if (argc != 2 || parse_duration(argv[1], &ns)) {
		cub_printk("usage: sleep SECONDS | sleep MILLISECONDSms\n");
		return 1;
	}
	cub_sleep(ns);
	return 0;
}

/*
 * Demo coroutines: each owns one name slot while it lives (ps keeps
 * pointing at the name), so at most MAX_DEMOS run at once. Slots are taken
 * and released by coroutines, never by interrupt handlers: no locking.
 */
#define MAX_DEMOS 64

static char demo_names[MAX_DEMOS][12];
static bool demo_busy[MAX_DEMOS];

/* A demo coroutine: ticks a few times at its own pace, then ends. */
static void *demo(void *arg)
{
	unsigned slot = (unsigned)(uintptr_t)arg;

	for (unsigned i = 0; i < 50; i++)
		cub_sleep((slot % 5 + 1) * 100 * CUB_NSEC_PER_MSEC);
	demo_busy[slot] = false;
	return NULL;
}

static int free_slot(void)
{
	for (int i = 0; i < MAX_DEMOS; i++)
		if (!demo_busy[i])
			return i;
	return -1;
}

static int cmd_spawn(int argc, char **argv)
{
	static unsigned next;
	long n;

	if (argc != 2 || cub_parse_long(argv[1], &n) || n < 1 || n > MAX_DEMOS) {
		cub_printk("usage: spawn N   (1..%d demo coroutines)\n", MAX_DEMOS);
		return 1;
	}
	for (long i = 0; i < n; i++) {
		int slot = free_slot();
		struct cub_coro_attr a = { .flags = CUB_CORO_SMALL };
		int rc;

		if (slot < 0) {
			cub_printk("spawn: %d demo coroutines are running already\n", MAX_DEMOS);
			return 1;
		}
		cub_snprintf(demo_names[slot], sizeof(demo_names[0]), "demo%u", next++);
		a.name = demo_names[slot];
		demo_busy[slot] = true;
		rc = cub_coro_spawn(NULL, demo, (void *)(uintptr_t)slot, &a);
		if (rc) {
			demo_busy[slot] = false;
			cub_printk("spawn: %s\n", cub_strerror(rc));
			return 1;
		}
	}
	cub_printk("started %ld demo coroutine%s\n", n, n == 1 ? "" : "s");
	return 0;
}

static int cmd_exit(int argc, char **argv)
{
	long code = 0;

	if (argc > 2 || (argc == 2 && (cub_parse_long(argv[1], &code) ||
				       code < 0 || code > CUB_EXIT_MAX))) {
		cub_printk("usage: exit [0..%d]\n", CUB_EXIT_MAX);
		return 1;
	}
	cub_printk("bye\n");
	cub_exit((int)code);
}

static const struct command commands[] = {
	{ "help", "", "this list", cmd_help },
	{ "ps", "", "coroutines with state and stack use", cmd_ps },
	{ "mem", "", "heap and page-frame statistics", cmd_mem },
	{ "irq", "", "interrupt counters per line", cmd_irq },
	{ "uptime", "", "time since boot", cmd_uptime },
	{ "echo", "ARGS", "print the arguments", cmd_echo },
	{ "sleep", "N[ms]", "sleep N seconds (or milliseconds)", cmd_sleep },
	{ "spawn", "N", "start N demo coroutines", cmd_spawn },
	{ "exit", "[CODE]", "power off with status CODE", cmd_exit },
	{ NULL, NULL, NULL, NULL },
};

/* Splits line in place at spaces; returns the argument count. */
static int split(char *line, char **argv)
{
	int argc = 0;

	for (char *p = line; *p && argc < MAX_ARGS;) {
		while (*p == ' ')
			*p++ = 0;
		if (!*p)
			break;
		argv[argc++] = p;
		while (*p && *p != ' ')
			p++;
	}
	return argc;
}

static void run_line(char *line)
{
	char *argv[MAX_ARGS];
	int argc = split(line, argv);

	if (!argc)
		return;
	for (const struct command *c = commands; c->name; c++)
		if (!cub_strcmp(c->name, argv[0])) {
			c->run(argc, argv);
			return;
		}
	cub_printk("%s: unknown command (try help)\n", argv[0]);
}

int cub_main(void)
{
	static struct lineedit ed;
	char line[LE_MAX];

	lineedit_init(&ed);
	cub_printk("cubrt shell: type help (%s input)\n",
		   cub_console_irq_driven() ? "interrupt-driven" : "polled");
	for (;;)
		if (lineedit_read(&ed, PROMPT, line, sizeof(line)) >= 0)
			run_line(line);
}
