/* nullderef.c - a musl program that dereferences NULL: fault report. */
#include <stdio.h>

int main(void)
{
	volatile int *p = NULL;

	printf("about to dereference NULL\n");
	fflush(stdout);
	return *p;
}
