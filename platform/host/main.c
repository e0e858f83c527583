/*
 * main.c - the host program entry: joins argv into the command line and
 * starts cubrt, which runs the application's cub_main() as the first
 * coroutine. Built as its own library (cubrt_main_dep) so that test
 * programs with their own main() (cmocka) can link cubrt without it.
 */
#include <cubrt/runtime.h>

#include <string.h>

#include "host.h"

static char cmdline[4096];

int main(int argc, char **argv)
{
	size_t len = 0;

	for (int i = 1; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (len + n + 2 > sizeof(cmdline))
			break;
		if (len)
			cmdline[len++] = ' ';
		memcpy(cmdline + len, argv[i], n);
		len += n;
	}
	cmdline[len] = '\0';
	cubi_host_set_cmdline(cmdline);
	cubi_runtime_start();
}
