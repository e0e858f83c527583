/*
 * fifo.c - named pipes in an unmodified musl program: mkfifo, an open
 * for reading that waits in its thread for a writer, interrupted by
 * pthread_kill: with a handler installed without SA_RESTART the open
 * fails with EINTR, with SA_RESTART it carries on and returns once the
 * writer came, and the bytes flow; a lone non-blocking writer gets
 * ENXIO, O_RDWR never waits, and what a FIFO refuses (O_DIRECTORY,
 * truncate, lseek). The same checks pass on Linux. One line per check,
 * a summary.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PATH "/fifo_test"

static volatile int hits, stage;
static volatile int opened_fd, open_errno;

static void handler(int sig)
{
	(void)sig;
	hits++;
}

static void install(int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
}

static int total;

static int check(const char *what, int ok)
{
	total++;
	printf("%s: %s\n", what, ok ? "ok" : "FAILED");
	return ok;
}

/* Opens PATH for reading (a blocking open: waits for a writer). */
static void *reader(void *arg)
{
	(void)arg;
	stage = 1;
	opened_fd = open(PATH, O_RDONLY);
	open_errno = opened_fd < 0 ? errno : 0;
	stage = 2;
	return NULL;
}

static void pause_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

/* Starts a reader, lets it wait in its open (stage 1, then 20 ms:
 * inside the call by then), signals it. */
static pthread_t start_and_signal(void)
{
	pthread_t t;

	stage = 0;
	pthread_create(&t, NULL, reader, NULL);
	while (stage < 1)
		sched_yield();
	pause_ms(20);
	pthread_kill(t, SIGUSR1);
	return t;
}

/* Joins the reader; one still waiting after 1 s (the signal did not
 * end its open) is let go by a writer first, so a failure never hangs. */
static void join_reader(pthread_t t)
{
	for (int i = 0; i < 100 && stage < 2; i++)
		pause_ms(10);
	if (stage < 2)
		close(open(PATH, O_WRONLY | O_NONBLOCK));
	pthread_join(t, NULL);
}

/* Without SA_RESTART the waiting open fails with EINTR. */
static int open_eintr(void)
{
	int before = hits;
	pthread_t t;

	install(0);
	t = start_and_signal();
	join_reader(t);
	if (opened_fd >= 0)
		close(opened_fd);
	return opened_fd == -1 && open_errno == EINTR && hits == before + 1;
}

/* With SA_RESTART it opens once a writer comes, after the handler ran. */
static int open_restarted(void)
{
	int before = hits, w, ok;
	pthread_t t;
	char c = 0;

	install(SA_RESTART);
	t = start_and_signal();
	pause_ms(20);		/* the handler ran, the open is waiting again */
	ok = stage == 1 && hits == before + 1;
	/* Its reader waits: a non-blocking writer opens at once (and a
	 * reader that gave up makes it fail, not hang). */
	w = open(PATH, O_WRONLY | O_NONBLOCK);
	join_reader(t);
	ok = ok && w >= 0 && opened_fd >= 0 && write(w, "x", 1) == 1 &&
	     read(opened_fd, &c, 1) == 1 && c == 'x';
	if (w >= 0)
		close(w);
	if (opened_fd >= 0) {
		ok = ok && read(opened_fd, &c, 1) == 0;		/* end of file */
		close(opened_fd);
	}
	return ok;
}

static int refusals(void)
{
	int rw, ok;

	ok = open(PATH, O_WRONLY | O_NONBLOCK) == -1 && errno == ENXIO;
	ok = ok && open(PATH, O_RDONLY | O_DIRECTORY) == -1 && errno == ENOTDIR;
	ok = ok && truncate(PATH, 10) == -1 && errno == EINVAL;
	rw = open(PATH, O_RDWR);			/* never waits */
	ok = ok && rw >= 0 && lseek(rw, 0, SEEK_SET) == -1 && errno == ESPIPE;
	close(rw);
	return ok;
}

int main(void)
{
	int passed = 0;

	unlink(PATH);
	passed += check("mkfifo", mkfifo(PATH, 0600) == 0);
	passed += check("a waiting open without SA_RESTART fails with EINTR", open_eintr());
	passed += check("with SA_RESTART it is restarted and meets its writer",
			open_restarted());
	passed += check("ENXIO, ENOTDIR, EINVAL, ESPIPE; O_RDWR does not wait", refusals());
	unlink(PATH);
	printf("fifo: %d of %d checks passed\n", passed, total);
	return passed == total ? 0 : 1;
}
