/* exit3.c - a musl program whose exit status must reach the host. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	printf("exiting with status 3\n");
	exit(3);
}
