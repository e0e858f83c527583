/*
 * sieve - the concurrent prime sieve, cubrt's showcase (scripts/demo).
 *
 * A generator coroutine sends 2, 3, 4, ... down an unbuffered channel.
 * The main coroutine takes the first number from the end of the chain: it
 * is prime. It then splices a filter coroutine onto the chain that drops
 * that prime's multiples, and the new filter's output becomes the end of
 * the chain. After N primes (1000, or "n=N" on the command line) main
 * closes a `done` channel: the generator's select sees it, closes its
 * output, and each filter closes its own output when its input closes, so
 * the whole chain winds down through close semantics while main drains
 * the last channel. Finally main checks the primes against trial division.
 *
 * Every channel and every coroutine record lives in static storage (the
 * _init forms); only the coroutine stacks come from the allocator.
 */
#include <cubrt/chan.h>
#include <cubrt/fmt.h>
#include <cubrt/runtime.h>
#include <cubrt/sched.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#define MAX_PRIMES 2000

struct stage {
	struct cub_chan *in;
	struct cub_chan out;	/* unbuffered, uint32_t elements */
	uint32_t prime;
};

static struct stage stages[MAX_PRIMES];
static struct cub_chan gen_out, done;
static uint64_t messages;	/* values that crossed a channel */

/* Sends 2, 3, 4, ... until done is closed. */
static void *generate(void *arg)
{
	uint32_t n = 2;
	struct cub_select_case k[2] = {
		{ .chan = &gen_out, .dir = CUB_SELECT_SEND, .elem = &n },
		{ .chan = &done, .dir = CUB_SELECT_RECV },
	};

	(void)arg;
	while (cub_select(k, 2) == 0) {
		messages++;
		n++;
	}
	cub_chan_close(&gen_out);
	return NULL;
}

/* Passes on the numbers that its prime does not divide. */
static void *filter(void *arg)
{
	struct stage *s = arg;
	uint32_t n;

	while (cub_chan_recv(s->in, &n) == 1) {
		if (n % s->prime) {
			messages++;
			cub_chan_send(&s->out, &n);
		}
	}
	cub_chan_close(&s->out);
	return NULL;
}

static bool is_prime(uint32_t n)
{
	uint32_t d;

	for (d = 2; d * d <= n; d++)
		if (n % d == 0)
			return false;
	return n >= 2;
}

static int parse_n(void)
{
	const char *arg = cub_strchr(cub_cmdline(), '=');
	long n = 1000;

	if (arg && (cub_parse_long(arg + 1, &n) || n < 1 || n > MAX_PRIMES)) {
		cub_printk("sieve: usage: n=1..%d\n", MAX_PRIMES);
		return -1;
	}
	return (int)n;
}

static int check(int count)
{
	uint32_t want = 1;
	uint64_t sum = 0;
	int i;

	for (i = 0; i < count; i++) {
		do
			want++;
		while (!is_prime(want));
		if (stages[i].prime != want) {
			cub_printk("sieve: FAIL: prime #%d is %u, expected %u\n",
				   i + 1, stages[i].prime, want);
			return 1;
		}
		sum += stages[i].prime;
	}
	cub_printk("sieve: the %dth prime is %u, sum %llu: correct\n", count,
		   stages[count - 1].prime, (unsigned long long)sum);
	return 0;
}

int cub_main(void)
{
	const struct cub_coro_attr small = { "filter", 0, CUB_CORO_SMALL };
	struct cub_chan *end = &gen_out;
	uint64_t t0 = cub_time_now(), ms;
	uint32_t p;
	int n = parse_n(), i, drained = 0;

	if (n < 0)
		return 2;
	cub_chan_init(&gen_out, sizeof(uint32_t), 0, NULL);
	cub_chan_init(&done, 0, 0, NULL);
	if (cub_coro_spawn(NULL, generate, NULL, &small))
		return 3;
	cub_printk("sieve: the first %d primes, one coroutine per prime:\n", n);
	for (i = 0; i < n; i++) {
		if (cub_chan_recv(end, &p) != 1)
			return 4;
		stages[i].prime = p;
		stages[i].in = end;
		cub_chan_init(&stages[i].out, sizeof(uint32_t), 0, NULL);
		if (cub_coro_spawn(NULL, filter, &stages[i], &small))
			return 3;
		end = &stages[i].out;
		cub_printk("%5u%c", p, i % 10 == 9 || i == n - 1 ? '\n' : ' ');
	}
	/* Wind the chain down: every stage closes its output in turn. */
	cub_chan_close(&done);
	while (cub_chan_recv(end, &p) == 1)
		drained++;
	ms = (cub_time_now() - t0) / CUB_NSEC_PER_MSEC;
	cub_printk("sieve: %llu channel messages through %d coroutines in %llu ms"
		   " (%d drained at shutdown)\n", (unsigned long long)messages,
		   n + 1, (unsigned long long)ms, drained);
	return check(n);
}
