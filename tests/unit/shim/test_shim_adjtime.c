/*
 * test_shim_adjtime.c - adjtimex and clock_adjtime through the
 * dispatcher (src/shim/adjtimex.c), with struct timex laid out as the
 * Linux x86-64 ABI has it.
 *
 * Proves: ADJ_OFFSET_SINGLESHOT slews the wall clock at 500 ppm and
 * returns the old slew's remainder, ADJ_OFFSET_SS_READ reads it without
 * changing it; ADJ_SETOFFSET steps (us, or ns with ADJ_NANO), cancels a
 * slew and moves an absolute REALTIME POSIX timer; ADJ_OFFSET slews only
 * in PLL mode, clamped to 0.5 s, read back in us or ns; ADJ_FREQUENCY
 * (clamped to 500 ppm) and ADJ_TICK set the clock's rate; ADJ_STATUS
 * keeps the read-only bits (leaving PLL mode clears them, as Linux's
 * reset to STA_UNSYNC does), and the return value follows (TIME_ERROR/OK/INS/DEL); ADJ_MAXERROR, ESTERROR,
 * TIMECONST clamped as Linux, ADJ_TAI moves CLOCK_TAI; the read-only
 * fields; ADJ_ADJTIME alone is a single shot, as Linux's check lets it
 * be; the bad inputs Linux refuses (tick 10 % off, tv_usec out of range, a freq that would
 * overflow, a step before the boot or past the settable range, bad
 * pointers) change nothing; clock_adjtime takes REALTIME only:
 * -EOPNOTSUPP for the other clocks, -EINVAL for unknown ids and clock
 * descriptors.
 *
 * No check is a real-time window a descheduled process can miss: wall
 * readings are checked against the clock's offset from the monotonic
 * clock, known between two monotonic reads (struct off), or between two
 * wall readings; what a slew has done, against the most it can have done
 * in the monotonic time between two reads (slewed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <cubrt/arch.h>
#include <cubrt/mem.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>
#include "sys.h"

#define SYS_adjtimex 159
#define SYS_clock_adjtime 305
#define SYS_timer_create 222
#define SYS_timer_settime 223
#define SYS_timer_gettime 224
#define SYS_timer_delete 226
#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_TAI 11
#define TIMER_ABSTIME 1
#define SIGEV_NONE 1

#define ADJ_OFFSET 0x0001
#define ADJ_FREQUENCY 0x0002
#define ADJ_MAXERROR 0x0004
#define ADJ_ESTERROR 0x0008
#define ADJ_STATUS 0x0010
#define ADJ_TIMECONST 0x0020
#define ADJ_TAI 0x0080
#define ADJ_SETOFFSET 0x0100
#define ADJ_MICRO 0x1000
#define ADJ_NANO 0x2000
#define ADJ_TICK 0x4000
#define ADJ_OFFSET_SINGLESHOT 0x8001
#define ADJ_OFFSET_SS_READ 0xa001
#define STA_PLL 0x0001
#define STA_PPSFREQ 0x0002
#define STA_INS 0x0010
#define STA_DEL 0x0020
#define STA_UNSYNC 0x0040
#define STA_NANO 0x2000
#define TIME_OK 0
#define TIME_INS 1
#define TIME_DEL 2
#define TIME_ERROR 5
#define EOPNOTSUPP 95

#define US 1000ll
#define MS 1000000ll
#define NSEC 1000000000ll

struct timex {
	uint32_t modes;
	int32_t pad0;
	int64_t offset, freq, maxerror, esterror;
	int32_t status;
	int32_t pad1;
	int64_t constant, precision, tolerance;
	int64_t tv_sec, tv_usec;
	int64_t tick, ppsfreq, jitter;
	int32_t shift;
	int32_t pad2;
	int64_t stabil, jitcnt, calcnt, errcnt, stbcnt;
	int32_t tai;
	int32_t pad3[11];
};
_Static_assert(sizeof(struct timex) == 208, "the ABI's size");

struct ts {
	int64_t sec, nsec;
};

static int64_t clock_ns(int clk)
{
	struct ts t;

	assert_int_equal(SYS2(SYS_clock_gettime, clk, &t), 0);
	return t.sec * NSEC + t.nsec;
}

static int64_t mono(void)
{
	return (int64_t)cub_time_now();
}

/*
 * The wall clock's offset from the monotonic one (wall - mono), known
 * within [lo, hi]: the monotonic instant of a wall reading is known only
 * between two monotonic reads, so a stall between them widens the
 * interval by the stall and no check on it is a real-time window. A
 * step moves the offset by just the step (its time is the clock's then,
 * plus the step). TOL is for what else moves it: the host's wall clock,
 * which NTP may slew against its monotonic one (500 ppm), and the slews
 * these tests leave running (500 ppm): 0.5 ms a second each.
 */
struct off {
	int64_t lo, hi;
};

#define TOL (5 * MS)

/* The offset a reading w shows, taken between monotonic m0 and m1 and
 * truncated to grain ns. */
static struct off off_of(int64_t w, int64_t grain, int64_t m0, int64_t m1)
{
	return (struct off){ w - m1, w + grain - 1 - m0 };
}

static struct off observe(void)
{
	int64_t m0 = mono(), w = clock_ns(CLOCK_REALTIME), m1 = mono();

	return off_of(w, 1, m0, m1);
}

static struct off shifted(struct off o, int64_t by)
{
	return (struct off){ o.lo + by, o.hi + by };
}

/* got (an offset observed) agrees with want. */
static void expect(struct off got, struct off want)
{
	if (got.hi < want.lo - TOL || got.lo > want.hi + TOL)
		fail_msg("the wall clock's offset is in [%lld, %lld], not [%lld, %lld]",
			 (long long)got.lo, (long long)got.hi, (long long)want.lo,
			 (long long)want.hi);
}

/* The most a slew (500 ppm) takes off in the monotonic time from m0 to
 * now, in units of unit ns (US or 1), with 1 for a reading's rounding. */
static int64_t slewed(int64_t m0, int64_t unit)
{
	return (mono() - m0) / CUB_TIME_SLEW_DIV / unit + 1;
}

/* A slew's remainder read back (got, in units of unit ns) after setting
 * set at a monotonic instant after m0: set, less at most what it can
 * have slewed since. A stall only widens that. */
static void left(int64_t got, int64_t set, int64_t m0, int64_t unit)
{
	int64_t most = slewed(m0, unit);

	if (set >= 0 ? got > set || got < set - most : got < set || got > set + most)
		fail_msg("the slew's rest %lld is not %lld less at most %lld", (long long)got,
			 (long long)set, (long long)most);
}

/* adjtimex with modes m and the fields in *tx (filled back). */
static long adj(struct timex *tx, uint32_t m)
{
	tx->modes = m;
	return SYS1(SYS_adjtimex, tx);
}

/* The wall clock's correction (what it adds to the platform's) as an
 * interval [*lo, *hi]: the platform clock read before and
 * after the wall clock (which reads it once in between), so that a run
 * paused between the reads (valgrind translating code on a first call)
 * only widens it. */
static void corr_iv(int64_t *lo, int64_t *hi)
{
	uint64_t p0 = cub_arch_wallclock_ns(), w = cub_time_wall(), p1 = cub_arch_wallclock_ns();

	*lo = (int64_t)(w - p1);
	*hi = (int64_t)(w - p0);
}

/* Back to boot's state: status UNSYNC in us, no rate, no slew, TAI 0,
 * the platform's clock. */
static void reset(void)
{
	struct timex tx = { .status = STA_UNSYNC, .tick = 10000, .constant = 0 };

	assert_true(adj(&tx, ADJ_STATUS | ADJ_MICRO | ADJ_FREQUENCY | ADJ_TICK | ADJ_TAI) >= 0);
	tx.offset = 0;
	assert_true(adj(&tx, ADJ_OFFSET_SINGLESHOT) >= 0);
	cub_time_set_wall(cub_arch_wallclock_ns());
}

static void run(void (*body)(void))
{
	void *res;

	assert_int_equal(cub_sched_run((cub_coro_fn)(void *)body, NULL, &res), 0);
	reset();
}

#define T(name)                                                               \
	static void name(void **state)                                        \
	{                                                                     \
		(void)state;                                                  \
		run(name##_body);                                             \
	}

/* -------------------------------------------------------------- adjtime */

static void singleshot_body(void)
{
	struct timex tx = { .offset = 200000 };	/* +0.2 s */
	int64_t c0lo, c0hi, c1lo, c1hi, rest, m2;
	uint64_t m0, m0b, m1, m1b;

	corr_iv(&c0lo, &c0hi);
	m0 = cub_time_now();
	assert_int_equal(adj(&tx, ADJ_OFFSET_SINGLESHOT), TIME_ERROR);	/* unsynced */
	m0b = cub_time_now();
	assert_int_equal(tx.offset, 0);		/* no slew before */
	assert_int_equal(tx.modes, ADJ_OFFSET_SINGLESHOT);
	cub_sleep(300 * MS);
	m1 = cub_time_now();
	corr_iv(&c1lo, &c1hi);
	/* 500 ppm: it slewed from an instant in [m0, m0b] to one in
	 * [m1, now] (2 us for the clocks' rounding) */
	assert_true(c1hi - c0lo >= (int64_t)(m1 - m0b) / 2000 - 2 * US);
	assert_true(c1lo - c0hi <= (int64_t)(cub_time_now() - m0) / 2000 + 2 * US);
	assert_true(c1hi - c0lo > 100 * US);
	tx.offset = 12345;
	assert_int_equal(adj(&tx, ADJ_OFFSET_SS_READ), TIME_ERROR);
	m1b = cub_time_now();
	assert_true(tx.offset <= 200000 - (int64_t)(m1 - m0b) / 2000 / 1000 + 2);
	assert_true(tx.offset >= 200000 - (int64_t)(m1b - m0) / 2000 / 1000 - 2);
	assert_true(tx.offset < 200000 - 100);
	/* unchanged by the read: what it read, less what slewed since */
	left(cub_time_adjust_left() / US, tx.offset, (int64_t)m1, US);
	rest = tx.offset;
	tx.offset = -50000;
	m2 = mono();
	assert_int_equal(adj(&tx, ADJ_OFFSET_SINGLESHOT), TIME_ERROR);
	left(tx.offset, rest, (int64_t)m1, US);		/* the old one's rest */
	tx.offset = 0;
	assert_int_equal(adj(&tx, ADJ_OFFSET_SS_READ), TIME_ERROR);
	left(tx.offset, -50000, m2, US);
	/* the same through clock_adjtime(CLOCK_REALTIME) */
	tx = (struct timex){ .modes = ADJ_OFFSET_SS_READ };
	assert_int_equal(SYS2(SYS_clock_adjtime, CLOCK_REALTIME, &tx), TIME_ERROR);
	left(tx.offset, -50000, m2, US);
}
T(singleshot)

/* ------------------------------------------------------------ SETOFFSET */

static void setoffset_body(void)
{
	struct { uint64_t value; int32_t signo, notify, tid, pad[11]; } ev = { .notify = SIGEV_NONE };
	struct { struct ts interval, value; } it = { { 0, 0 }, { 0, 0 } }, cur;
	struct timex tx = { .offset = 100000 };
	struct off o = observe();
	int64_t w = clock_ns(CLOCK_REALTIME), m0, m1, g0, g1, at;
	int32_t id = -1;

	it.value.sec = (w + 10 * NSEC) / NSEC;
	assert_int_equal(SYS3(SYS_timer_create, CLOCK_REALTIME, &ev, &id), 0);
	assert_int_equal(SYS4(SYS_timer_settime, id, TIMER_ABSTIME, &it, NULL), 0);
	assert_int_equal(adj(&tx, ADJ_OFFSET_SINGLESHOT), TIME_ERROR);
	tx = (struct timex){ .tv_sec = -2, .tv_usec = 500000 };	/* -1.5 s */
	m0 = mono();
	assert_int_equal(adj(&tx, ADJ_SETOFFSET), TIME_ERROR);
	m1 = mono();
	o = shifted(o, -1500 * MS);
	expect(observe(), o);
	expect(off_of(tx.tv_sec * NSEC + tx.tv_usec * US, US, m0, m1), o);	/* time: now */
	assert_int_equal(cub_time_adjust_left(), 0);	/* the step ended the slew */
	/* moved: it expires when the wall clock reads it, 1.5 s later in
	 * monotonic time than before the step */
	g0 = mono();
	assert_int_equal(SYS2(SYS_timer_gettime, id, &cur), 0);
	g1 = mono();
	at = it.value.sec * NSEC;
	expect(off_of(at - (cur.value.sec * NSEC + cur.value.nsec), 1, g0, g1), o);
	tx = (struct timex){ .tv_sec = 3, .tv_usec = 250000000 };	/* +3.25 s, ns */
	m0 = mono();
	assert_int_equal(adj(&tx, ADJ_SETOFFSET | ADJ_NANO), TIME_ERROR);
	m1 = mono();
	o = shifted(o, 3250 * MS);
	expect(observe(), o);
	assert_true(tx.status & STA_NANO);	/* ADJ_NANO stays */
	expect(off_of(tx.tv_sec * NSEC + tx.tv_usec, 1, m0, m1), o);	/* in ns now */
	assert_int_equal(SYS1(SYS_timer_delete, id), 0);
}
T(setoffset)

static void setoffset_bad_body(void)
{
	struct timex tx = { .tv_sec = 1, .tv_usec = 1000000 };
	struct off o = observe();
	int64_t w;

	assert_int_equal(adj(&tx, ADJ_SETOFFSET), -CUB_EINVAL);
	tx.tv_usec = -1;
	assert_int_equal(adj(&tx, ADJ_SETOFFSET), -CUB_EINVAL);
	tx.tv_usec = 1000000000;
	assert_int_equal(adj(&tx, ADJ_SETOFFSET | ADJ_NANO), -CUB_EINVAL);
	tx.tv_usec = 999999999;			/* fine in ns: +2 s less 1 ns */
	tx.tv_sec = 1;
	assert_int_equal(adj(&tx, ADJ_SETOFFSET | ADJ_NANO), TIME_ERROR);
	o = shifted(o, 2 * NSEC - 1);
	expect(observe(), o);
	w = clock_ns(CLOCK_REALTIME);
	tx = (struct timex){ .tv_sec = -(w / NSEC) - 10 };	/* before 1970 */
	assert_int_equal(adj(&tx, ADJ_SETOFFSET), -CUB_EINVAL);
	while (cub_time_now() < 1100 * MS)	/* up over a second */
		cub_sleep(100 * MS);
	w = clock_ns(CLOCK_REALTIME);
	tx = (struct timex){ .tv_sec = -(w / NSEC) };	/* the boot before 1970 */
	assert_int_equal(adj(&tx, ADJ_SETOFFSET | ADJ_STATUS), -CUB_EINVAL);
	tx = (struct timex){ .tv_sec = INT64_MAX };
	assert_int_equal(adj(&tx, ADJ_SETOFFSET), -CUB_EINVAL);
	tx = (struct timex){ .tv_sec = 8277292036ll - w / NSEC };	/* past settable */
	assert_int_equal(adj(&tx, ADJ_SETOFFSET), -CUB_EINVAL);
	tx = (struct timex){ .tv_sec = INT64_MIN };
	assert_int_equal(adj(&tx, ADJ_SETOFFSET), -CUB_EINVAL);
	expect(observe(), o);			/* none of them moved it */
	assert_int_equal(adj(&tx, 0), TIME_ERROR);
	assert_int_equal(tx.status, STA_UNSYNC | STA_NANO);	/* nor set the status */
}
T(setoffset_bad)

/* ----------------------------------------------------------- NTP modes */

static void pll_offset_body(void)
{
	struct timex tx = { .offset = 400000 };
	int64_t m;

	assert_int_equal(adj(&tx, ADJ_OFFSET), TIME_ERROR);	/* no PLL: nothing */
	assert_int_equal(cub_time_adjust_left(), 0);
	assert_int_equal(tx.offset, 0);
	tx = (struct timex){ .status = STA_PLL, .offset = 2000000 };	/* 2 s: clamped */
	m = mono();
	assert_int_equal(adj(&tx, ADJ_STATUS | ADJ_OFFSET), TIME_OK);
	left(tx.offset, 500000, m, US);		/* us */
	left(cub_time_adjust_left(), 500000 * US, m, 1);
	tx = (struct timex){ .offset = -1000000 };	/* ns now: -1 ms */
	m = mono();
	assert_int_equal(adj(&tx, ADJ_NANO | ADJ_OFFSET), TIME_OK);
	left(tx.offset, -1000000, m, 1);
	assert_int_equal(tx.status, STA_PLL | STA_NANO);
	tx = (struct timex){ .offset = -900 * MS };	/* ns: clamped to 0.5 s */
	m = mono();
	assert_int_equal(adj(&tx, ADJ_OFFSET), TIME_OK);
	left(tx.offset, -500 * MS, m, 1);
	assert_int_equal(adj(&tx, ADJ_MICRO), TIME_OK);
	left(tx.offset, -500000, m, US);	/* us again */
	/* adjtime reads the same one slew */
	assert_int_equal(adj(&tx, ADJ_OFFSET_SS_READ), TIME_OK);
	left(tx.offset, -500000, m, US);
}
T(pll_offset)

static void freq_tick_body(void)
{
	struct timex tx = { .freq = 100 << 16 };
	int64_t w0, w1, t;

	assert_int_equal(adj(&tx, ADJ_FREQUENCY), TIME_ERROR);
	assert_int_equal(tx.freq, 100 << 16);
	assert_int_equal(cub_time_rate(), 100 * CUB_TIME_PPM);
	tx.freq = -1000ll * 65536;		/* clamped to -500 ppm */
	assert_int_equal(adj(&tx, ADJ_FREQUENCY), TIME_ERROR);
	assert_int_equal(tx.freq, -500ll * 65536);
	assert_int_equal(cub_time_rate(), -500 * CUB_TIME_PPM);
	tx.tick = 10001;			/* +100 ppm */
	assert_int_equal(adj(&tx, ADJ_TICK), TIME_ERROR);
	assert_int_equal(tx.tick, 10001);
	assert_int_equal(cub_time_rate(), -400 * CUB_TIME_PPM);
	tx.tick = 8999;
	assert_int_equal(adj(&tx, ADJ_TICK), -CUB_EINVAL);
	tx.tick = 11001;
	assert_int_equal(adj(&tx, ADJ_TICK | ADJ_FREQUENCY), -CUB_EINVAL);
	tx.freq = INT64_MAX / 65536000 + 1;
	assert_int_equal(adj(&tx, ADJ_FREQUENCY), -CUB_EINVAL);
	tx.freq = INT64_MIN / 65536000 - 1;
	assert_int_equal(adj(&tx, ADJ_FREQUENCY), -CUB_EINVAL);
	assert_int_equal(cub_time_rate(), -400 * CUB_TIME_PPM);	/* unchanged */
	tx = (struct timex){ .tick = 9000, .freq = 0 };
	assert_int_equal(adj(&tx, ADJ_TICK | ADJ_FREQUENCY), TIME_ERROR);
	assert_int_equal(cub_time_rate(), -100000 * CUB_TIME_PPM);
	tx.tick = 11000;
	w0 = clock_ns(CLOCK_REALTIME);
	assert_int_equal(adj(&tx, ADJ_TICK), TIME_ERROR);
	w1 = clock_ns(CLOCK_REALTIME);
	assert_int_equal(cub_time_rate(), 100000 * CUB_TIME_PPM);
	/* the read-only fields */
	assert_int_equal(tx.precision, 1);
	assert_int_equal(tx.tolerance, 500 << 16);
	assert_int_equal(tx.jitter, 0);
	assert_int_equal(tx.ppsfreq, 0);
	/* the time, read between w0 and w1 (in us): not a real-time window,
	 * as the clock now runs 10 % fast */
	t = tx.tv_sec * NSEC + tx.tv_usec * US;
	assert_true(t + US > w0 && t <= w1);
}
T(freq_tick)

static void status_body(void)
{
	struct timex tx = { .status = STA_PLL | 0xff00 };	/* read-only bits */

	assert_int_equal(adj(&tx, 0), TIME_ERROR);
	assert_int_equal(tx.status, STA_UNSYNC);	/* as at boot */
	assert_int_equal(tx.maxerror, 16000000);
	assert_int_equal(tx.constant, 2);
	assert_int_equal(tx.tick, 10000);
	tx.status = STA_PLL | 0xff00;
	assert_int_equal(adj(&tx, ADJ_STATUS), TIME_OK);
	assert_int_equal(tx.status, STA_PLL);
	tx.status = STA_PLL | STA_INS;
	assert_int_equal(adj(&tx, ADJ_STATUS), TIME_INS);
	tx.status = STA_PLL | STA_DEL;
	assert_int_equal(adj(&tx, ADJ_STATUS), TIME_DEL);
	tx.status = STA_PLL | STA_PPSFREQ;	/* no PPS signal */
	assert_int_equal(adj(&tx, ADJ_STATUS), TIME_ERROR);
	tx.status = STA_PLL;
	assert_int_equal(adj(&tx, ADJ_STATUS), TIME_OK);
	tx.status = 0;				/* leaving PLL mode */
	assert_int_equal(adj(&tx, ADJ_STATUS), TIME_OK);
	assert_int_equal(tx.status, 0);
	tx.status = STA_PLL;
	assert_int_equal(adj(&tx, ADJ_STATUS), TIME_OK);
	tx.status = STA_INS;			/* leaving it, asking for INS */
	assert_int_equal(adj(&tx, ADJ_STATUS), TIME_INS);
	assert_int_equal(tx.status, STA_INS);
	assert_int_equal(adj(&tx, ADJ_NANO), TIME_INS);
	assert_int_equal(tx.status, STA_INS | STA_NANO);
	tx.status = 0;				/* NANO is read-only here */
	assert_int_equal(adj(&tx, ADJ_STATUS), TIME_OK);
	assert_int_equal(tx.status, STA_NANO);
	tx.status = STA_PLL;
	assert_int_equal(adj(&tx, ADJ_STATUS), TIME_OK);
	assert_int_equal(tx.status, STA_PLL | STA_NANO);
	tx.status = 0;				/* leaving PLL: NANO goes too */
	assert_int_equal(adj(&tx, ADJ_STATUS), TIME_OK);
	assert_int_equal(tx.status, 0);
}
T(status)

static void errors_consts_body(void)
{
	struct timex tx = { .maxerror = -5, .esterror = 20000000, .constant = 3 };
	int64_t r0, tai;

	assert_int_equal(adj(&tx, ADJ_MAXERROR | ADJ_ESTERROR | ADJ_TIMECONST), TIME_ERROR);
	assert_int_equal(tx.maxerror, 0);
	assert_int_equal(tx.esterror, 16000000);
	assert_int_equal(tx.constant, 7);		/* +4 in us mode */
	tx = (struct timex){ .maxerror = 1234, .esterror = 56, .constant = 20 };
	assert_int_equal(adj(&tx, ADJ_MAXERROR | ADJ_ESTERROR | ADJ_TIMECONST), TIME_ERROR);
	assert_int_equal(tx.maxerror, 1234);
	assert_int_equal(tx.esterror, 56);
	assert_int_equal(tx.constant, 10);
	tx.constant = 3;
	assert_int_equal(adj(&tx, ADJ_TIMECONST | ADJ_NANO), TIME_ERROR);
	assert_int_equal(tx.constant, 3);
	tx.constant = -1;
	assert_int_equal(adj(&tx, ADJ_TIMECONST), TIME_ERROR);
	assert_int_equal(tx.constant, 0);
	/* TAI: CLOCK_TAI runs that far ahead of REALTIME */
	tx.constant = 37;
	assert_int_equal(adj(&tx, ADJ_TAI), TIME_ERROR);
	assert_int_equal(tx.tai, 37);
	r0 = clock_ns(CLOCK_REALTIME);
	tai = clock_ns(CLOCK_TAI) - 37 * NSEC;
	assert_true(tai >= r0 && tai <= clock_ns(CLOCK_REALTIME));	/* read between */
	tx.constant = -1;			/* out of range: ignored */
	assert_int_equal(adj(&tx, ADJ_TAI), TIME_ERROR);
	assert_int_equal(tx.tai, 37);
	tx.constant = 100001;
	assert_int_equal(adj(&tx, ADJ_TAI), TIME_ERROR);
	assert_int_equal(tx.tai, 37);
}
T(errors_consts)

static void bad_body(void)
{
	struct timex tx = { .offset = 5000 };
	int64_t m;

	/* ADJ_ADJTIME alone passes Linux's check (which tests the bits of
	 * ADJ_OFFSET_SINGLESHOT): a single shot; the status beside it is
	 * ignored, a tick 10 % off not even checked */
	tx.status = STA_PLL;
	tx.tick = 5000;
	m = mono();
	assert_int_equal(adj(&tx, 0x8000 | ADJ_STATUS | ADJ_TICK), TIME_ERROR);
	assert_int_equal(tx.offset, 0);
	assert_int_equal(tx.status, STA_UNSYNC);
	assert_int_equal(tx.tick, 10000);
	left(cub_time_adjust_left(), 5000 * US, m, 1);
	tx.offset = 0;
	assert_int_equal(adj(&tx, 0x8000), TIME_ERROR);
	left(tx.offset, 5000, m, US);
	assert_int_equal(cub_time_adjust_left(), 0);
	tx.tick = 5000;
	assert_int_equal(adj(&tx, ADJ_TICK), -CUB_EINVAL);	/* checked here */
	assert_int_equal(SYS1(SYS_adjtimex, 16), -CUB_EFAULT);
	assert_int_equal(SYS1(SYS_adjtimex, WILD), -CUB_EFAULT);
	assert_int_equal(SYS2(SYS_clock_adjtime, CLOCK_REALTIME, NULL), -CUB_EFAULT);
	tx.modes = ADJ_OFFSET_SS_READ;
	assert_int_equal(SYS2(SYS_clock_adjtime, CLOCK_MONOTONIC, &tx), -EOPNOTSUPP);
	assert_int_equal(SYS2(SYS_clock_adjtime, CLOCK_TAI, &tx), -EOPNOTSUPP);
	assert_int_equal(SYS2(SYS_clock_adjtime, 7, &tx), -EOPNOTSUPP);
	assert_int_equal(SYS2(SYS_clock_adjtime, 10, &tx), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_clock_adjtime, 12, &tx), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_clock_adjtime, 99, &tx), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_clock_adjtime, -6, &tx), -EOPNOTSUPP);	/* a CPU clock */
	assert_int_equal(SYS2(SYS_clock_adjtime, -(6 * 8) + 3, &tx), -CUB_EINVAL);	/* fd 5 */
	tx.modes = ADJ_OFFSET_SINGLESHOT;
	tx.offset = 1000;
	assert_int_equal(SYS2(SYS_clock_adjtime, CLOCK_MONOTONIC, &tx), -EOPNOTSUPP);
	assert_int_equal(cub_time_adjust_left(), 0);	/* nothing happened */
}
T(bad)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(singleshot),
		cmocka_unit_test(setoffset),
		cmocka_unit_test(setoffset_bad),
		cmocka_unit_test(pll_offset),
		cmocka_unit_test(freq_tick),
		cmocka_unit_test(status),
		cmocka_unit_test(errors_consts),
		cmocka_unit_test(bad),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
