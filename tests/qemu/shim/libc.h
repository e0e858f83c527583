/*
 * libc.h - what the parts of the libc sweep (libc.c, libc_proc.c,
 * libc_threads.c) share: lc_check counts one check and prints its line
 * (checks.h's counters are per file, so the parts report through
 * libc.c's), and each part's entry point.
 */
#ifndef CUBRT_TEST_QEMU_LIBC_H
#define CUBRT_TEST_QEMU_LIBC_H

void lc_check(const char *what, int ok);

void lc_process(void);		/* libc_proc.c: environment, limits, spawning */
void lc_files(void);		/* libc_proc.c: temporary files, tree walks */
void lc_memory(void);		/* libc_proc.c: big blocks, faults fixed by a handler */
void lc_threads(void);		/* libc_threads.c */

#endif
