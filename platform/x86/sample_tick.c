/*
 * sample_tick.c - is this NMI the sampling tick? (sample_tick.h has the
 * rule, the facts and what it guarantees.) Plain arithmetic: no ports,
 * so that the host unit-tests it.
 */
#include "sample_tick.h"

void cubi_tick_filter_init(struct cubi_tick_filter *f, uint32_t div, uint32_t pit_hz)
{
	*f = (struct cubi_tick_filter){
		.div = div,
		.pit_hz = pit_hz,
		.window = div - div / 4,			/* 3/4 */
		.half_ns = (uint64_t)div * 500000000ull / pit_hz,
	};
}

unsigned cubi_tick_classify(struct cubi_tick_filter *f, uint8_t port61, uint32_t count,
			    uint64_t now_ns)
{
	uint64_t d_ns;
	uint32_t e;

	if (port61 & (PORT61_SERR_STS | PORT61_IOCHK_STS))
		return CUBI_NMI_SOURCE;
	if (count == 0 || count > f->div)
		return CUBI_NMI_BAD_COUNT;
	e = f->div - count;
	if (e >= f->window)
		return CUBI_NMI_OFF_PHASE;
	if (f->seen && e >= f->last_e) {
		/* Same period: the clock moved by about d_ns; a later one:
		 * by a period more. Half a period apart is the line. */
		d_ns = (uint64_t)(e - f->last_e) * 1000000000ull / f->pit_hz;
		if (now_ns - f->last_ns < d_ns + f->half_ns)
			return CUBI_NMI_REPEAT;
	}
	f->seen = true;
	f->last_e = e;
	f->last_ns = now_ns;
	return CUBI_NMI_TICK;
}
