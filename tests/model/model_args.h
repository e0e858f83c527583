/*
 * model_args.h - how every randomized model test takes its parameters:
 * argument i, else the environment variable env (CUBRT_SEED, CUBRT_OPS),
 * else dflt; numbers in C notation (0x.. allowed). A run prints its seed,
 * so `program SEED` replays it.
 */
#ifndef MODEL_ARGS_H
#define MODEL_ARGS_H

#include <stdint.h>
#include <stdlib.h>

static inline uint64_t model_arg(int argc, char **argv, int i, const char *env,
				 uint64_t dflt)
{
	const char *s = argc > i ? argv[i] : getenv(env);

	return s && *s ? strtoull(s, NULL, 0) : dflt;
}

#endif
