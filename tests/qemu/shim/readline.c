/* readline.c - stdin through the shim: fgets from the serial console. */
#include <stdio.h>
#include <string.h>

int main(void)
{
	char line[128];
	int n = 0;

	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!strcmp(line, "quit"))
			break;
		printf("got: [%s]\n", line);
		n++;
	}
	printf("read %d lines\n", n);
	return n == 2 ? 0 : 1;
}
