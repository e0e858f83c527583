/*
 * catch.h - runs a test scenario with cub_arch_exit() caught and the
 * console captured, in this process or in a forked child.
 *
 * The host platform's test hooks do the catching: cubi_host_set_exit_hook()
 * makes cub_arch_exit() longjmp back with the status, and
 * cubi_host_capture_console() collects the text. A panic is once per
 * process (the second one is "nested") and the fault hooks and guards are
 * global, so scenarios that change such state run in a child, which sends
 * back its exit status, its irq flag and its console text.
 */
#ifndef CUBRT_TEST_CORE_CATCH_H
#define CUBRT_TEST_CORE_CATCH_H

#include <stdbool.h>

#define NO_EXIT (-1000)	/* the scenario returned instead of exiting */
#define TEXT_MAX 8192

struct outcome {
	int status;		/* exit status, or NO_EXIT */
	bool irq_on;		/* interrupt flag after the scenario */
	char text[TEXT_MAX];	/* console output (NUL-terminated) */
};

/* The exit hook run_here() installs; usable by nested catchers. */
void catch_exit(int status);

/* Runs fn in this process with exit caught and the console captured. */
void run_here(void (*fn)(void), struct outcome *o);

/*
 * Runs fn like run_here() but in a fresh child process. With real_exit
 * the exit hook stays unset, so cub_arch_exit() really ends the child and
 * the status comes from waitpid (the text is then not collected).
 */
void run_child(void (*fn)(void), struct outcome *o, bool real_exit);

#endif
