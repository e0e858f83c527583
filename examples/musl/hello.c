/* hello.c - an ordinary Linux C program (musl), run on cubrt. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	const char *who = getenv("WHO");

	printf("hello from musl on cubrt, %s! argc=%d", who ? who : "world", argc);
	for (int i = 1; i < argc; i++)
		printf(" argv[%d]=%s", i, argv[i]);
	printf("\n");
	return 0;
}
