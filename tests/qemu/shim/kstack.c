/*
 * kstack.c - system calls run on the thread's kernel stack, not on the
 * program's: a thread on a stack of our own (filled with a pattern) makes
 * blocking and non-blocking calls, and afterwards we measure how far
 * below its function's frame the stack was written. musl's wrappers need
 * a few hundred bytes; cubrt's syscall frame alone (registers, FXSAVE
 * image, red zone) would be almost 800, its handlers and a context switch
 * more. A goroutine's stack has less than that to spare.
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PATTERN 0xa5
#define LIMIT 768

static unsigned char stack_mem[64 * 1024] __attribute__((aligned(16)));
static volatile uintptr_t mark;

static void *worker(void *arg)
{
	struct timespec ts = { 0, 1000000 };
	volatile char probe = 0;

	(void)arg;
	mark = (uintptr_t)&probe;
	for (int i = 0; i < 10; i++) {
		nanosleep(&ts, NULL);	/* blocks: a context switch inside */
		write(1, "", 0);
		sched_yield();
	}
	return NULL;
}

int main(void)
{
	pthread_attr_t a;
	pthread_t t;
	uintptr_t low = 0;

	memset(stack_mem, PATTERN, sizeof(stack_mem));
	pthread_attr_init(&a);
	pthread_attr_setstack(&a, stack_mem, sizeof(stack_mem));
	if (pthread_create(&t, &a, worker, NULL) || pthread_join(t, NULL))
		return 2;
	for (size_t i = 0; i < sizeof(stack_mem); i++) {
		if (stack_mem[i] != PATTERN) {
			low = (uintptr_t)&stack_mem[i];
			break;
		}
	}
	printf("kstack: the calls used %lu bytes below the thread's frame\n",
	       (unsigned long)(mark - low));
	return mark - low < LIMIT ? 0 : 1;
}
