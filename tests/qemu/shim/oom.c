/*
 * oom.c - a musl program that writes to every page of a 1 GiB mapping
 * in 128 MiB of RAM. mmap succeeds (demand paging: no frame is taken
 * yet); when the frames run out, the page fault that finds none ends the
 * program with cubrt's report ("out of memory: no frame left for the
 * page at ..."), status 125, as Linux's OOM killer would end it: never a
 * hang, never a page shared or lost silently. The program's SIGSEGV
 * handler is not run: the OOM killer's signal cannot be caught either.
 */
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

static void on_segv(int sig)
{
	static const char msg[] = "SIGSEGV handler ran\n";

	(void)sig;
	(void)!write(1, msg, sizeof(msg) - 1);
	_exit(2);
}

int main(void)
{
	const size_t len = 1ul << 30;
	volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	signal(SIGSEGV, on_segv);
	if (p == MAP_FAILED) {
		printf("mmap of 1 GiB failed\n");
		return 1;
	}
	printf("touching 1 GiB\n");
	fflush(stdout);
	for (size_t i = 0; i < len; i += 4096)
		p[i] = 1;
	printf("touched 1 GiB in 128 MiB of RAM?\n");
	return 0;
}
