/*
 * spin.h - the state spin.S keeps live while interrupts arrive, and the
 * checks that it came back intact.
 */
#ifndef IRQ_TEST_SPIN_H
#define IRQ_TEST_SPIN_H

#include <cubrt/string.h>

#include "util.h"

struct spin_state {
	uint64_t redzone[16];
	uint8_t xmm[16][16];
	uint64_t gpr[9];
	uint8_t x87[16];
};
_Static_assert(__builtin_offsetof(struct spin_state, x87) == 456, "spin.S");

void irq_test_spin(volatile uint64_t *counter, uint64_t target,
		   struct spin_state *out, const struct spin_state *in);

static inline void spin_fill(struct spin_state *s, uint64_t seed)
{
	uint64_t x = seed;

	for (unsigned i = 0; i < 16; i++)
		s->redzone[i] = x = x * 6364136223846793005ull + 1442695040888963407ull;
	for (unsigned i = 0; i < sizeof(s->xmm); i++)
		s->xmm[i / 16][i % 16] = (uint8_t)((x = x * 6364136223846793005ull + 1) >> 56);
	for (unsigned i = 0; i < 9; i++)
		s->gpr[i] = x = x * 6364136223846793005ull + 3;
}

/* Ends the machine with a message naming what was damaged. */
static inline void spin_check(const struct spin_state *o,
			      const struct spin_state *want, const char *who)
{
	static const uint8_t pi[10] = { 0x35, 0xC2, 0x68, 0x21, 0xA2, 0xDA,
					0x0F, 0xC9, 0x00, 0x40 };

	for (unsigned i = 0; i < 16; i++)
		if (o->redzone[i] != want->redzone[i]) {
			cub_printk("FAIL %s: red zone quadword at rsp-%u damaged: "
				   "%lx, want %lx\n", who, 128 - 8 * i,
				   (unsigned long)o->redzone[i],
				   (unsigned long)want->redzone[i]);
			cub_exit(1);
		}
	for (unsigned i = 0; i < 16; i++)
		if (cub_memcmp(o->xmm[i], want->xmm[i], 16)) {
			cub_printk("FAIL %s: xmm%u damaged\n", who, i);
			cub_exit(1);
		}
	for (unsigned i = 0; i < 9; i++)
		if (o->gpr[i] != want->gpr[i]) {
			cub_printk("FAIL %s: general register %u damaged\n", who, i);
			cub_exit(1);
		}
	if (cub_memcmp(o->x87, pi, 10)) {
		cub_printk("FAIL %s: x87 st(0) damaged\n", who);
		cub_exit(1);
	}
}

#endif
