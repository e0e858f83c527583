/*
 * model_args.h - how every randomized model test takes its parameters:
 * argument i, else the environment variable env (CUBRT_SEED, CUBRT_OPS),
 * else dflt; numbers in C notation (0x.. allowed). A run prints its seed,
 * so `program SEED` replays it. Also the xorshift generator and the
 * failure report (naming the seed) that several of them share.
 */
#ifndef MODEL_ARGS_H
#define MODEL_ARGS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static inline uint64_t model_arg(int argc, char **argv, int i, const char *env,
				 uint64_t dflt)
{
	const char *s = argc > i ? argv[i] : getenv(env);

	return s && *s ? strtoull(s, NULL, 0) : dflt;
}

/* The next number of xorshift64 state *s (never 0). */
static inline uint64_t model_xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Reports a failed check of the run with seed `seed` (a variable of the
 * test's) and exits 1. */
#define MODEL_FAIL(...)                                                 \
	do {                                                            \
		printf("FAIL (seed %lu): ", (unsigned long)seed);       \
		printf(__VA_ARGS__);                                    \
		printf("\n");                                           \
		exit(1);                                                \
	} while (0)

#endif
