/*
 * args.c - the boot command line as a Linux program's environment and
 * arguments, for the program images' cub_main (linux_main.c, exec_main.c).
 *
 * Like env(1): leading NAME=value words are environment variables, the
 * rest argv[1..]; argv[0] is the program's name. Words are separated by
 * spaces; there is no quoting. The words point into a static copy of the
 * command line (one program per machine).
 */
#include <cubrt/runtime.h>
#include <cubrt/string.h>

#include "shim_impl.h"

static char cmdline[1024];

/* Splits s in place at spaces; returns the number of words. */
static int split(char *s, char *words[], int max)
{
	int n = 0;

	while (*s && n < max) {
		while (*s == ' ')
			*s++ = '\0';
		if (!*s)
			break;
		words[n++] = s;
		while (*s && *s != ' ')
			s++;
	}
	return n;
}

int cubi_shim_cmdline_args(const char *name, char *argv[CUBI_ARGS_MAX + 2],
			   char *envp[CUBI_ARGS_MAX + 1])
{
	char *words[CUBI_ARGS_MAX];
	int n, argc = 0, envc = 0, i = 0;

	cub_strlcpy(cmdline, cub_cmdline(), sizeof(cmdline));
	n = split(cmdline, words, CUBI_ARGS_MAX);
	for (; i < n && cub_strchr(words[i], '=') && words[i][0] != '='; i++)
		envp[envc++] = words[i];
	envp[envc] = NULL;
	argv[argc++] = (char *)name;
	for (; i < n; i++)
		argv[argc++] = words[i];
	argv[argc] = NULL;
	return argc;
}
