/*
 * cubrt/runtime.h - how an application starts and what it is given.
 *
 * An application defines cub_main(). The platform boots (bare metal: the
 * multiboot stub in platform/x86; host: an ordinary main()), cubrt
 * initialises its subsystems, then calls cub_main(); its return value
 * becomes the exit status (cub_exit). Statuses 0..123 reach the host
 * unchanged through scripts/run (see cubrt/panic.h for the others).
 */
#ifndef CUBRT_RUNTIME_H
#define CUBRT_RUNTIME_H

#include <cubrt/base.h>

/* The application's entry point. Contexts: task (the first coroutine). */
int cub_main(void);

/* The command line given to the runner after the image name. */
const char *cub_cmdline(void);

/*
 * Initialises cubrt and runs cub_main(); called once by the platform's
 * boot code. Never returns.
 */
CUB_NORETURN void cubi_runtime_start(void);

#endif
