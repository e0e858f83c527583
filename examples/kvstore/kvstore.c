/*
 * kvstore - a key-value server that keeps its data on a disk: TCP port
 * 7000 on the network card, one coroutine per client, a log on disk 0
 * (kvlog.c) replayed at boot, so what it answered "OK" to is there after
 * the next boot.
 *
 *     truncate -s 1M kv.img
 *     scripts/run --disk kv.img --net=hostfwd=tcp:127.0.0.1:7000-:7000 \
 *         build/x86/examples/kvstore/kvstore
 *     # elsewhere, e.g. with Python: send "SET answer 42\n" to 127.0.0.1:7000
 *
 * The protocol, one command per line (at most 511 bytes), words split
 * by one space:
 *     SET key value   -> OK            (value: the rest of the line)
 *     GET key         -> VALUE value | NOTFOUND
 *     DEL key         -> OK | NOTFOUND
 *     STATS           -> STATS keys N log USED/CAP replayed R
 *     QUIT            -> BYE, and the connection closes
 *     SHUTDOWN        -> BYE, and the machine stops (status 0)
 * Anything else, or a key or value too long: ERR followed by why.
 * Without a disk the store lives in memory only (a console line says so).
 */
#include <cubrt/blk.h>
#include <cubrt/fmt.h>
#include <cubrt/heap.h>
#include <cubrt/net.h>
#include <cubrt/panic.h>
#include <cubrt/sched.h>
#include <cubrt/string.h>
#include <cubrt/sync.h>
#include <cubrt/time.h>

#include "kvlog.h"

#define PORT 7000
#define LINE_MAX 512
#define SEC CUB_NSEC_PER_SEC

static struct cub_mutex store_lock = CUB_MUTEX_INIT(store_lock);	/* kv_* */
static struct cub_netif *nif;

struct client {
	struct cub_tcp *c;
	char in[LINE_MAX];
	size_t len;			/* bytes in in */
	char out[LINE_MAX + 16];
};

static bool say(struct client *cl, const char *text, size_t n)
{
	return cub_tcp_send(cl->c, text, n, 10 * SEC) == (long)n;
}

/* Runs one command line (NUL-terminated, no newline); false to hang up. */
static bool command(struct client *cl, char *line)
{
	char *arg = cub_strchr(line, ' '), *val;
	size_t alen;
	bool bye = false;
	int rc, n;

	if (arg)
		*arg++ = '\0';
	val = arg ? cub_strchr(arg, ' ') : NULL;
	alen = arg ? (size_t)(val ? val - arg : (long)cub_strlen(arg)) : 0;
	cub_mutex_lock(&store_lock);
	if (!cub_strcmp(line, "SET") && val) {
		rc = kv_set(arg, alen, val + 1, cub_strlen(val + 1));
		n = cub_snprintf(cl->out, sizeof(cl->out), rc ? "ERR %s\n" : "OK\n",
				 cub_strerror(rc));
	} else if (!cub_strcmp(line, "GET") && arg && !val) {
		char v[KV_VAL_MAX];

		rc = kv_get(arg, alen, v, sizeof(v));
		n = rc >= 0 ? cub_snprintf(cl->out, sizeof(cl->out), "VALUE %.*s\n", rc, v) :
			      cub_snprintf(cl->out, sizeof(cl->out), rc == -CUB_ENOENT ?
					   "NOTFOUND\n" : "ERR %s\n", cub_strerror(rc));
	} else if (!cub_strcmp(line, "DEL") && arg && !val) {
		rc = kv_del(arg, alen);
		n = cub_snprintf(cl->out, sizeof(cl->out), !rc ? "OK\n" : rc == -CUB_ENOENT ?
				 "NOTFOUND\n" : "ERR %s\n", cub_strerror(rc));
	} else if (!cub_strcmp(line, "STATS") && !arg) {
		struct kv_stats st;

		kv_stats(&st);
		n = cub_snprintf(cl->out, sizeof(cl->out), "STATS keys %lu log %llu/%llu replayed %lu\n",
				 st.keys, (unsigned long long)st.log_used,
				 (unsigned long long)st.log_cap, st.replayed);
	} else if ((!cub_strcmp(line, "QUIT") || !cub_strcmp(line, "SHUTDOWN")) && !arg) {
		n = cub_snprintf(cl->out, sizeof(cl->out), "BYE\n");
		bye = true;
	} else {
		n = cub_snprintf(cl->out, sizeof(cl->out), "ERR unknown command\n");
	}
	cub_mutex_unlock(&store_lock);
	if (!say(cl, cl->out, (size_t)n))
		return false;
	if (bye && !cub_strcmp(line, "SHUTDOWN")) {
		uint64_t until = cub_time_now() + 2 * SEC;

		while (cub_tcp_undelivered(nif) && cub_time_now() < until)
			cub_sleep(10 * 1000 * 1000);	/* let BYE reach the client */
		cub_printk("kvstore: shutdown\n");
		cub_exit(0);
	}
	return !bye;
}

/* Serves one client until QUIT, an error or its FIN. */
static void *client_main(void *arg)
{
	struct client *cl = arg;
	bool open = true;

	while (open) {
		char *nl = cl->len ? cub_strchr(cl->in, '\n') : NULL;
		long n;

		if (nl) {
			size_t used = (size_t)(nl - cl->in) + 1;

			*nl = '\0';
			if (nl > cl->in && nl[-1] == '\r')
				nl[-1] = '\0';
			open = command(cl, cl->in);
			cub_memmove(cl->in, cl->in + used, cl->len - used + 1);
			cl->len -= used;
			continue;
		}
		if (cl->len == LINE_MAX - 1) {
			(void)say(cl, "ERR line too long\n", 18);
			break;
		}
		n = cub_tcp_recv(cl->c, cl->in + cl->len, LINE_MAX - 1 - cl->len, UINT64_MAX);
		if (n <= 0)
			break;
		if (cub_strnlen(cl->in + cl->len, (size_t)n) != (size_t)n)
			break;			/* a NUL byte: not a text client */
		cl->len += (size_t)n;
		cl->in[cl->len] = '\0';
	}
	cub_tcp_close(cl->c);
	cub_free(cl);
	return NULL;
}

/* Disk 0 holds the store; without one it lives in memory. */
static int open_store(void)
{
	struct cub_blk *dev = NULL;
	struct kv_stats st;
	int rc = cub_blk_open(0, &dev);

	if (rc == -CUB_ENODEV)
		cub_printk("kvstore: no disk: the store lives in memory only\n");
	else if (rc)
		return rc;
	if ((rc = kv_open(dev)))
		return rc;
	kv_stats(&st);
	cub_printk("kvstore: %lu keys from %lu records, log %llu/%llu sectors\n", st.keys,
		   st.replayed, (unsigned long long)st.log_used,
		   (unsigned long long)st.log_cap);
	return 0;
}

int cub_main(void)
{
	static const struct cub_coro_attr attr = { .name = "kv client" };
	struct cub_dhcp_lease lease;
	struct cub_tcp *l, *c;
	int rc;

	if ((rc = open_store())) {
		cub_printk("kvstore: the disk: %s\n", cub_strerror(rc));
		return 1;
	}
	if ((rc = cub_net_attach(0, &nif)) || (rc = cub_net_dhcp(nif, 10 * SEC, &lease)) ||
	    (rc = cub_tcp_listen(nif, PORT, 8, &l))) {
		cub_printk("kvstore: the network: %s\n", cub_strerror(rc));
		return 1;
	}
	cub_printk("kvstore: listening on port %u\n", PORT);
	while ((rc = cub_tcp_accept(l, &c, UINT64_MAX)) == 0) {
		struct client *cl = cub_malloc(sizeof(*cl));

		if (cl) {
			cl->c = c;
			cl->len = 0;
			cl->in[0] = '\0';
		}
		if (!cl || cub_coro_spawn(NULL, client_main, cl, &attr)) {
			cub_free(cl);
			cub_tcp_abort(c);	/* out of memory: this client waits no more */
		}
	}
	cub_printk("kvstore: accept: %s\n", cub_strerror(rc));
	return 1;
}
