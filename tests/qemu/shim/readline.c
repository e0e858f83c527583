/* readline.c - stdin through the shim: poll waits for console input (the
 * UART's interrupt wakes it), then fgets reads the lines. */
#include <poll.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	struct pollfd p = { 0, POLLIN, 0 };
	char line[128];
	int n = 0, ready = poll(&p, 1, 10000);

	printf("poll: %d revents %#x\n", ready, p.revents);
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
