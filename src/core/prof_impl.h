/*
 * prof_impl.h - the profiler's start-up and exit hooks (prof.c), private
 * to src/core: runtime.c reads the boot switch, cub_exit prints the
 * report.
 */
#ifndef CUBRT_CORE_PROF_IMPL_H
#define CUBRT_CORE_PROF_IMPL_H

#include <cubrt/base.h>

/* Starts a profile of the whole run when cmdline has the word
 * CUBRT_PROF=hz (a bad value is reported and ignored). Contexts: task,
 * before the application's cub_main. */
void cubi_prof_boot(const char *cmdline);

/* At cub_exit: stops the profile CUBRT_PROF started and prints its
 * report (once). Nothing when none was started. Contexts: task, boot. */
void cubi_prof_exit(void);

/* The sample hook the platform calls (prof.c's sample()), for unit tests
 * that feed synthetic samples to a running profile. */
void cubi_prof_sample(uintptr_t pc, unsigned where);

#endif
