/*
 * timer.c - the platform's one-shot timer (cub_arch_timer_arm): the local
 * APIC timer in TSC-deadline mode when the CPU has it, in one-shot count
 * mode otherwise, or PIT channel 0 in one-shot mode on a machine without
 * APIC. Tickless: nothing fires unless armed.
 *
 * Invariants: deadline is the armed absolute cub_arch_clock_ns() time, 0
 * when disarmed. The hardware may fire before it (a count clamped to the
 * counter's range, rounding); the handler then re-arms without calling
 * the client. It never fires later than the hardware allows.
 * Locking: deadline and the timer registers are used with interrupts
 * disabled (callers of cub_arch_timer_arm guarantee it; the handler runs
 * with them disabled).
 */
#include <cubrt/arch.h>
#include <cubrt/irq.h>
#include <cubrt/panic.h>

#include "../../src/irq/irq_chip.h"
#include "intr.h"
#include "x86.h"

#define MSR_TSC_DEADLINE 0x6E0
#define LVT_TSC_DEADLINE (2u << 17)
#define DIV_16 0x3
#define PIT_HZ 1193182u
#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define NS 1000000000ull

enum mode { MODE_NONE, MODE_TSC_DEADLINE, MODE_APIC_ONESHOT, MODE_PIT };

static enum mode mode;
static uint64_t deadline;
static uint64_t apic_hz;	/* one-shot count rate (bus clock / 16) */
static void (*client)(void);

/* Ticks of a hz clock to cover delta ns, rounded up, plus one. */
static uint64_t ticks(uint64_t delta_ns, uint64_t hz)
{
	return (uint64_t)(((unsigned __int128)delta_ns * hz + NS - 1) / NS) + 1;
}

static void program(uint64_t when)
{
	uint64_t now = cub_arch_clock_ns();
	uint64_t delta = when > now ? when - now : 0;
	uint64_t n;

	switch (mode) {
	case MODE_TSC_DEADLINE:
		wrmsr(MSR_TSC_DEADLINE, rdtsc() + ticks(delta, cubi_x86_tsc_hz()));
		break;
	case MODE_APIC_ONESHOT:
		n = CUB_MIN(ticks(delta, apic_hz), 0xFFFFFFFFull);
		cubi_x86_lapic_write(LAPIC_TIMER_INIT, (uint32_t)n);
		break;
	case MODE_PIT:
		n = CUB_MIN(ticks(delta, PIT_HZ), 0xFFFFull);
		outb(PIT_CMD, 0x30);		/* ch0, lo/hi, mode 0 */
		outb(PIT_CH0, n & 0xFF);
		outb(PIT_CH0, (n >> 8) & 0xFF);
		break;
	case MODE_NONE:
		cub_panic("cub_arch_timer_arm: timer not initialised");
	}
}

static void disarm(void)
{
	if (mode == MODE_TSC_DEADLINE)
		wrmsr(MSR_TSC_DEADLINE, 0);
	else if (mode == MODE_APIC_ONESHOT)
		cubi_x86_lapic_write(LAPIC_TIMER_INIT, 0);
	/* PIT: a mode-0 count fires once; the handler ignores it. */
}

/* Contexts: any, interrupts disabled. */
void cub_arch_timer_arm(uint64_t deadline_ns)
{
	deadline = deadline_ns;
	if (deadline_ns)
		program(deadline_ns);
	else
		disarm();
}

/* Contexts: boot (or any, interrupts disabled). */
void cub_arch_timer_set_handler(void (*fn)(void))
{
	client = fn;
}

/* The timer line's handler. Contexts: irq. */
static void timer_irq(void *ctx)
{
	(void)ctx;
	if (!deadline)
		return;		/* disarmed while the interrupt was in flight */
	if (cub_arch_clock_ns() < deadline) {
		program(deadline);
		return;
	}
	deadline = 0;
	if (client)
		client();
}

/*
 * The APIC count rate is measured against the TSC between two reads of
 * the current count, each bracketed by TSC reads and taken at the
 * bracket's midpoint. Why brackets: a read can stall (QEMU's thread
 * descheduled on a loaded host, or waiting for the device lock) while
 * the count runs on; timed from the TSC read before it, a 5 ms stall
 * in a 1 ms window made the rate 6 times too high and every timer fire
 * 6 times late (net_sntp sent one request in 5 s). A read whose bracket
 * is wider than CAL_SLACK of the window is taken again (up to CAL_TRIES
 * times, keeping the narrowest), so each end is off by at most half of
 * that, and the rate by at most 1/CAL_SLACK.
 */
#define CAL_WINDOW_MS 5
#define CAL_SLACK 256
#define CAL_TRIES 64

uint64_t cubi_x86_timer_test_stall_ns;

/* Spins ns of the TSC: the test's stand-in for a descheduled emulator. */
static void stall(uint64_t ns)
{
	uint64_t t0 = rdtsc(), n = ns * cubi_x86_tsc_hz() / NS;

	while (rdtsc() - t0 < n)
		;
}

/* One read of the count (every other one stalled inside its bracket
 * while the test asks): its TSC midpoint in *mid, the bracket's width
 * returned. */
static uint64_t read_count(uint32_t *count, uint64_t *mid)
{
	static unsigned reads;
	uint64_t a = rdtsc(), b;

	if (cubi_x86_timer_test_stall_ns && reads++ % 2 == 0)
		stall(cubi_x86_timer_test_stall_ns);
	*count = cubi_x86_lapic_read(LAPIC_TIMER_CUR);
	b = rdtsc();
	*mid = a + (b - a) / 2;
	return b - a;
}

/* The narrowest of up to CAL_TRIES reads; stops at one within width. */
static void read_count_narrow(uint32_t *count, uint64_t *mid, uint64_t width)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < CAL_TRIES && best > width; i++) {
		uint32_t c;
		uint64_t m, w = read_count(&c, &m);

		if (w < best) {
			best = w;
			*count = c;
			*mid = m;
		}
	}
}

/* Contexts: boot or task, interrupts disabled. The timer is stopped for
 * the measurement; in one-shot mode an armed deadline is programmed
 * again afterwards (at the old rate). */
uint64_t cubi_x86_timer_calibrate(void)
{
	uint64_t hz = cubi_x86_tsc_hz(), window = hz / 1000 * CAL_WINDOW_MS;
	uint64_t m0, m1;
	uint32_t c0, c1;

	cubi_x86_lapic_write(LAPIC_TIMER_DIV, DIV_16);
	cubi_x86_lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | VEC_TIMER);
	cubi_x86_lapic_write(LAPIC_TIMER_INIT, 0xFFFFFFFFu);
	read_count_narrow(&c0, &m0, window / CAL_SLACK);
	while (rdtsc() - m0 < window)
		;
	read_count_narrow(&c1, &m1, window / CAL_SLACK);
	cubi_x86_lapic_write(LAPIC_TIMER_INIT, 0);
	if (mode == MODE_APIC_ONESHOT) {
		cubi_x86_lapic_write(LAPIC_LVT_TIMER, VEC_TIMER);
		if (deadline)
			program(deadline);
	}
	return (uint64_t)(c0 - c1) * hz / (m1 - m0);
}

/* Contexts: boot, interrupts disabled, after the controllers. */
void cubi_x86_timer_init(bool apic)
{
	uint32_t r[4];
	unsigned line;

	cpuid(1, 0, r);
	if (apic && (r[2] & (1u << 24))) {
		mode = MODE_TSC_DEADLINE;
		cubi_x86_lapic_write(LAPIC_LVT_TIMER, LVT_TSC_DEADLINE | VEC_TIMER);
	} else if (apic) {
		mode = MODE_APIC_ONESHOT;
		apic_hz = cubi_x86_timer_calibrate();
		if (apic_hz < 1000)
			cub_panic("timer: APIC timer calibration failed");
		cubi_x86_lapic_write(LAPIC_LVT_TIMER, VEC_TIMER);
	} else {
		mode = MODE_PIT;
	}
	line = mode == MODE_PIT ? CUB_IRQ_PIT : CUB_IRQ_VECTOR(VEC_TIMER);
	if (cubi_irq_register_runtime(line, timer_irq, NULL, "timer"))
		cub_panic("timer: cannot register its interrupt line");
}

uint64_t cubi_x86_timer_apic_hz(void)
{
	return apic_hz;
}

const char *cubi_x86_timer_mode(void)
{
	static const char *const names[] = {
		"none", "local APIC, TSC-deadline", "local APIC, one-shot",
		"PIT one-shot",
	};

	return names[mode];
}
