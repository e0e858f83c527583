/*
 * adjtimex.c - adjtimex and clock_adjtime(CLOCK_REALTIME): Linux's NTP
 * interface (struct timex, the x86-64 ABI) over the wall clock's
 * discipline (cubrt/time.h), checked as Linux checks it (kernel/time/
 * timekeeping.c's validation, ntp.c's clamps).
 *
 * What each mode does here:
 *  - ADJ_OFFSET_SINGLESHOT (adjtime(3); as on Linux, any modes with
 *    ADJ_ADJTIME): a slew of offset us at 500 ppm (cub_time_adjust);
 *    the old slew's remainder comes back in offset. ADJ_OFFSET_SS_READ
 *    only reads it.
 *  - ADJ_SETOFFSET: a step by time (tv_usec in ns with ADJ_NANO), which
 *    moves absolute REALTIME timers as clock_settime does.
 *  - ADJ_OFFSET, with STA_PLL set: a slew of offset (us, or ns with
 *    STA_NANO; clamped to +-0.5 s as Linux does) - the same one slew as
 *    adjtime's, each replacing the other, at 500 ppm rather than by the
 *    kernel PLL's exponential steps. Reads report the slew's remainder.
 *  - ADJ_FREQUENCY and ADJ_TICK: the clock's rate (cub_time_set_rate):
 *    freq ppm * 2^16 (clamped to +-500 ppm), plus 100 ppm for every us
 *    tick is off 10000 (USER_HZ 100).
 *  - ADJ_STATUS, ADJ_MAXERROR, ADJ_ESTERROR, ADJ_TIMECONST, ADJ_TAI,
 *    ADJ_NANO, ADJ_MICRO: kept and reported back (TAI also offsets
 *    CLOCK_TAI); no leap second is inserted or deleted (STA_INS/STA_DEL
 *    only show as TIME_INS/TIME_DEL), maxerror does not grow by itself,
 *    there is no PPS (its fields read 0).
 * The return value is the clock state: TIME_ERROR while the status says
 * unsynchronised (STA_UNSYNC, set at boot, or STA_CLOCKERR, or a PPS
 * mode without a PPS signal), else TIME_OK (TIME_INS/TIME_DEL).
 *
 * Invariants: ntp holds what the modes set, within Linux's ranges.
 * Locking: interrupts disabled around reading and changing ntp and the
 * slew and rate it sets (all short, none blocks), so a call sees and
 * leaves them whole; a step (cubi_wall_set, which wakes sleepers) is
 * taken before, with interrupts on.
 */
#include <stddef.h>

#include <cubrt/arch.h>
#include <cubrt/time.h>

#include "clock.h"
#include "shim_impl.h"

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
#define ADJ_ADJTIME 0x8000
#define ADJ_OFFSET_READONLY 0x2000	/* with ADJ_ADJTIME: SS_READ */

#define STA_PLL 0x0001
#define STA_PPSFREQ 0x0002
#define STA_PPSTIME 0x0004
#define STA_INS 0x0010
#define STA_DEL 0x0020
#define STA_UNSYNC 0x0040
#define STA_PPSSIGNAL 0x0100
#define STA_PPSJITTER 0x0200
#define STA_PPSWANDER 0x0400
#define STA_PPSERROR 0x0800
#define STA_CLOCKERR 0x1000
#define STA_NANO 0x2000
#define STA_RONLY 0xff00	/* PPS signal..error, CLOCKERR, NANO, MODE, CLK */

#define TIME_OK 0
#define TIME_INS 1
#define TIME_DEL 2
#define TIME_ERROR 5

#define NSEC 1000000000ll
#define USEC 1000000ll
#define PPM_SCALE 65536000ll		/* Linux: ns/s << 16, per freq unit */
#define MAXFREQ_PPM16 (500ll << 16)	/* +-500 ppm, in freq's unit */
#define MAXPHASE_NS 500000000ll
#define PHASE_LIMIT_US 16000000ll	/* NTP_PHASE_LIMIT */
#define MAXTC 10
#define MAX_TAI 100000
#define TICK_NOMINAL 10000		/* us per tick at USER_HZ 100 */
#define SETTOD_MAX_S 8277292036ll	/* KTIME_SEC_MAX less 30 years */
#define CLOCKFD 3
#define MAX_CLOCKS 16

/* struct timex of the Linux x86-64 ABI (208 bytes). */
struct timex_user {
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
_Static_assert(sizeof(struct timex_user) == 208, "struct timex");
_Static_assert(offsetof(struct timex_user, status) == 40, "timex.status");
_Static_assert(offsetof(struct timex_user, tv_sec) == 72, "timex.time");
_Static_assert(offsetof(struct timex_user, tick) == 88, "timex.tick");
_Static_assert(offsetof(struct timex_user, tai) == 160, "timex.tai");

static struct {
	int32_t status;
	int64_t freq, maxerror, esterror, constant, tick;
	int32_t tai;
} ntp = { STA_UNSYNC, 0, PHASE_LIMIT_US, PHASE_LIMIT_US, 2, TICK_NOMINAL, 0 };

int cubi_ntp_tai(void)
{
	return __atomic_load_n(&ntp.tai, __ATOMIC_RELAXED);
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Linux's checks before anything changes: 0 or -CUB_EINVAL. (Linux's
 * check that ADJ_ADJTIME comes with ADJ_OFFSET tests the bits of
 * ADJ_OFFSET_SINGLESHOT, ADJ_ADJTIME's among them, so it never fails:
 * ADJ_ADJTIME alone is a single shot too, and other bits beside it
 * are ignored but ADJ_SETOFFSET's. So here.) */
static int validate(const struct timex_user *tx)
{
	if (!(tx->modes & ADJ_ADJTIME) && (tx->modes & ADJ_TICK) &&
	    (tx->tick < 900000 / 100 || tx->tick > 1100000 / 100))
		return -CUB_EINVAL;	/* the quartz 10 % off */
	if (tx->modes & ADJ_SETOFFSET) {
		if (tx->tv_usec < 0 ||
		    tx->tv_usec >= ((tx->modes & ADJ_NANO) ? NSEC : USEC))
			return -CUB_EINVAL;
	}
	if ((tx->modes & ADJ_FREQUENCY) &&
	    (tx->freq < INT64_MIN / PPM_SCALE || tx->freq > INT64_MAX / PPM_SCALE))
		return -CUB_EINVAL;
	return 0;
}

/* ADJ_SETOFFSET: steps by time; -CUB_EINVAL when the clock would then
 * read before the boot or past Linux's settable range. */
static int inject(const struct timex_user *tx)
{
	uint64_t wall = cub_time_wall(), floor = cub_time_now(), to;
	uint64_t max = (uint64_t)SETTOD_MAX_S * NSEC;
	int64_t d;

	if (tx->tv_sec > SETTOD_MAX_S || tx->tv_sec < -SETTOD_MAX_S)
		return -CUB_EINVAL;
	d = tx->tv_sec * NSEC + tx->tv_usec * ((tx->modes & ADJ_NANO) ? 1 : 1000);
	if (d >= 0 && (wall > max || (uint64_t)d > max - wall))
		return -CUB_EINVAL;
	if (d < 0 && (uint64_t)-d > wall)
		return -CUB_EINVAL;
	to = wall + (uint64_t)d;
	if (to < floor)
		return -CUB_EINVAL;	/* the boot would be before 1970 */
	cubi_wall_set(to);
	return 0;
}

/* The rate freq and tick make (freq in ppm << 16). */
static void set_rate(void)
{
	cub_time_set_rate(ntp.freq + (ntp.tick - TICK_NOMINAL) * 100 * CUB_TIME_PPM);
}

/* ADJ_STATUS as Linux's process_adj_status: the read-only bits stay,
 * except that leaving PLL mode first resets the status to STA_UNSYNC,
 * which clears them (STA_NANO too); the rest is the caller's. */
static void take_status(int32_t status)
{
	if ((ntp.status & STA_PLL) && !(status & STA_PLL))
		ntp.status = STA_UNSYNC;
	ntp.status = (ntp.status & STA_RONLY) | (status & ~STA_RONLY);
}

/* ADJ_OFFSET in PLL mode: a slew (see the top). */
static void take_offset(int64_t off)
{
	if (!(ntp.status & STA_PLL))
		return;
	if (!(ntp.status & STA_NANO))
		off = clamp(off, -USEC, USEC) * 1000;
	cub_time_adjust(clamp(off, -MAXPHASE_NS, MAXPHASE_NS), NULL);
}

/* Every mode but the adjtime ones, in Linux's order. interrupts off. */
static void take_modes(const struct timex_user *tx)
{
	uint32_t m = tx->modes;

	if (m & ADJ_STATUS)
		take_status(tx->status);
	if (m & ADJ_NANO)
		ntp.status |= STA_NANO;
	if (m & ADJ_MICRO)
		ntp.status &= ~STA_NANO;
	if (m & ADJ_FREQUENCY)
		ntp.freq = clamp(tx->freq, -MAXFREQ_PPM16, MAXFREQ_PPM16);
	if (m & ADJ_MAXERROR)
		ntp.maxerror = clamp(tx->maxerror, 0, PHASE_LIMIT_US);
	if (m & ADJ_ESTERROR)
		ntp.esterror = clamp(tx->esterror, 0, PHASE_LIMIT_US);
	if (m & ADJ_TIMECONST)
		ntp.constant = clamp(clamp(tx->constant, 0, MAXTC) +
				     ((ntp.status & STA_NANO) ? 0 : 4), 0, MAXTC);
	if ((m & ADJ_TAI) && tx->constant >= 0 && tx->constant <= MAX_TAI)
		__atomic_store_n(&ntp.tai, (int32_t)tx->constant, __ATOMIC_RELAXED);
	if (m & ADJ_OFFSET)
		take_offset(tx->offset);
	if (m & ADJ_TICK)
		ntp.tick = tx->tick;
	if (m & (ADJ_TICK | ADJ_FREQUENCY))
		set_rate();
}

/* adjtime's single shot: tx->offset us, the old remainder back. */
static void take_adjtime(struct timex_user *tx)
{
	int64_t left = cub_time_adjust_left(), us = tx->offset;

	if (!(tx->modes & ADJ_OFFSET_READONLY))
		cub_time_adjust(clamp(us, INT64_MIN / 1000 + 1, INT64_MAX / 1000) * 1000, &left);
	tx->offset = left / 1000;
}

/* The clock's state for the return value (interrupts off). */
static int state(void)
{
	int32_t s = ntp.status;

	if ((s & (STA_UNSYNC | STA_CLOCKERR)) ||
	    ((s & (STA_PPSFREQ | STA_PPSTIME)) && !(s & STA_PPSSIGNAL)) ||
	    ((s & (STA_PPSTIME | STA_PPSJITTER)) == (STA_PPSTIME | STA_PPSJITTER)) ||
	    ((s & STA_PPSFREQ) && (s & (STA_PPSWANDER | STA_PPSERROR))))
		return TIME_ERROR;
	return (s & STA_INS) ? TIME_INS : (s & STA_DEL) ? TIME_DEL : TIME_OK;
}

/* Everything adjtimex reports (interrupts off); offset is set before. */
static void report(struct timex_user *tx)
{
	uint64_t now = cub_time_wall();
	bool nano = ntp.status & STA_NANO;
	int64_t offset = tx->offset;

	*tx = (struct timex_user){ .modes = tx->modes, .offset = offset,
				   .freq = ntp.freq, .maxerror = ntp.maxerror,
				   .esterror = ntp.esterror, .status = ntp.status,
				   .constant = ntp.constant, .precision = 1,
				   .tolerance = MAXFREQ_PPM16, .tick = ntp.tick,
				   .tai = ntp.tai };
	tx->tv_sec = (int64_t)(now / NSEC);
	tx->tv_usec = (int64_t)(now % NSEC) / (nano ? 1 : 1000);
}

static long do_adjtimex(uintptr_t utx)
{
	struct timex_user tx;
	unsigned long irq;
	int rc;

	if (cubi_copy_in(&tx, utx, sizeof(tx)))
		return -CUB_EFAULT;
	if ((rc = validate(&tx)) || ((tx.modes & ADJ_SETOFFSET) && (rc = inject(&tx))))
		return rc;
	irq = cub_arch_irq_save();
	if (tx.modes & ADJ_ADJTIME) {
		take_adjtime(&tx);
	} else {
		if (tx.modes)
			take_modes(&tx);
		tx.offset = cub_time_adjust_left() / ((ntp.status & STA_NANO) ? 1 : 1000);
	}
	rc = state();
	report(&tx);
	cub_arch_irq_restore(irq);
	return cubi_copy_out(utx, &tx, sizeof(tx)) ? -CUB_EFAULT : rc;
}

CUBI_SYS(adjtimex)
{
	return do_adjtimex(A0(r));
}

/* Linux: an unknown clock -EINVAL, a known one but REALTIME (which has
 * no adjustment) -EOPNOTSUPP; negative ids are CPU clocks (known) or
 * descriptors of dynamic clocks (none here: -EINVAL). */
CUBI_SYS(clock_adjtime)
{
	int64_t id = (int32_t)A0(r);

	if (id == CLOCK_REALTIME)
		return do_adjtimex(A1(r));
	if (id < 0)
		return (id & 7) == CLOCKFD ? -CUB_EINVAL : -CUB_EOPNOTSUPP;
	if (id >= MAX_CLOCKS || id == 10 || id > CLOCK_TAI)
		return -CUB_EINVAL;
	return -CUB_EOPNOTSUPP;
}
