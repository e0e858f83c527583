/*
 * ntp_fake.h - NTP wire helpers for the tests that play an SNTP server
 * on the fake UDP server (udp_fake.h): 64-bit big-endian fields and
 * Unix time as an NTP timestamp (RFC 4330: seconds since 1900 and a
 * binary fraction; the era bits dropped, as on the wire).
 * Include after udp_fake.h (t_get32/t_put32).
 */
#ifndef CUBRT_TEST_NTP_FAKE_H
#define CUBRT_TEST_NTP_FAKE_H

#include <stdint.h>

#define NTP_EPOCH 2208988800ull		/* 1970 - 1900 in seconds */

static inline uint64_t t_get64(const uint8_t *p)
{
	return (uint64_t)t_get32(p) << 32 | t_get32(p + 4);
}

static inline void t_put64(uint8_t *p, uint64_t v)
{
	t_put32(p, (uint32_t)(v >> 32));
	t_put32(p + 4, (uint32_t)v);
}

/* Unix ns as an NTP timestamp. */
static inline uint64_t ntp_of(uint64_t unix_ns)
{
	uint64_t s = unix_ns / 1000000000ull + NTP_EPOCH;
	uint64_t frac = ((unix_ns % 1000000000ull) << 32) / 1000000000ull;

	return (s & 0xffffffffu) << 32 | frac;
}

#endif
