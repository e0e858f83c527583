/*
 * prof_fake.h - the profiler tests' fake symbols (test_prof_synth.c):
 * [0x1000 * (i + 1), + 0x1000) is the function "f<i>", i < 64; other
 * addresses have no symbol. start_synthetic starts a profile fed only
 * by the test's own calls of the sample hook. Include once, after
 * cmocka.h.
 */
#ifndef PROF_FAKE_H
#define PROF_FAKE_H

#include <stdio.h>

#include <cubrt/prof.h>

#include "host.h"

static const char *fake_names[64];

static const char *fake_symbol(uintptr_t addr, uintptr_t *off)
{
	if (addr < 0x1000 || addr >= 0x1000 * 65)
		return NULL;
	*off = addr & 0xFFF;
	return fake_names[addr / 0x1000 - 1];
}

static void fake_names_init(void)
{
	static char buf[64][8];

	for (int i = 0; i < 64; i++) {
		snprintf(buf[i], sizeof(buf[i]), "f%d", i);
		fake_names[i] = buf[i];
	}
}

/* A profile of synthetic samples only: 1 Hz, collected long before the
 * first real sample is due. */
static void start_synthetic(void)
{
	cubi_host_set_symbolizer(fake_symbol);
	assert_int_equal(cub_prof_start(1), 0);
}

#endif
