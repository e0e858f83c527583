/*
 * attach.c - binds an arch NIC (cubrt/arch.h, "network") to an interface:
 * its send is cub_arch_nic_send, and a receive coroutine "net rx N" feeds
 * cub_netif_input with the loop of arch.h's comment.
 *
 * Invariants: attached[i] is true from the moment an attach of NIC i
 * passed its checks (it stays so: there is no detach yet), so a second
 * attach gets -CUB_EBUSY; attach_lock serialises attaches (preemption may
 * switch between the check and the claim). The receive coroutine owns
 * its struct net_nic forever. No lock is held while it calls
 * cub_netif_input, which takes the interface's own.
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/heap.h>
#include <cubrt/irq.h>
#include <cubrt/sched.h>
#include <cubrt/string.h>

#include "net_impl.h"

#define NET_MAX_NICS 8
/* Frames the receive coroutine hands in before it lets the others run:
 * a burst must not fill an endpoint's queue (CUB_UDP_QUEUE_LEN) before
 * its reader had a turn, as Linux's NAPI budget bounds a poll. */
#define RX_BUDGET 8

struct net_nic {
	struct cub_netif nif;
	unsigned nic;
	struct cub_irq_event ev;	/* signalled by the NIC's notify */
	char coro_name[16];		/* "net rx N", lives as long as it */
	uint8_t buf[CUB_ETH_FRAME_MAX + 1];	/* + 1: an oversize frame shows */
};

static struct cub_mutex attach_lock = CUB_MUTEX_INIT(attach_lock);
static bool attached[NET_MAX_NICS];

/* Contexts: task, with the interface's lock held. */
static int nic_send(struct cub_netif *nif, const void *frame, size_t len)
{
	struct net_nic *n = cub_netif_driver(nif);

	return cub_arch_nic_send(n->nic, frame, len);
}

static const struct cub_netif_ops nic_ops = { .send = nic_send };

/* Contexts: irq (the NIC's notify). */
static void nic_notify(void *arg)
{
	struct net_nic *n = arg;

	cub_irq_event_signal(&n->ev);
}

/* The receive coroutine. Contexts: task. */
static void *nic_rx_main(void *arg)
{
	struct net_nic *n = arg;
	unsigned taken = 0;
	int len;

	for (;;) {
		while ((len = cub_arch_nic_recv(n->nic, n->buf,
						sizeof(n->buf))) >= 0) {
			/* An oversize frame is passed with its true length
			 * only up to the buffer: input counts it too long. */
			cub_netif_input(&n->nif, n->buf,
					CUB_MIN((size_t)len, sizeof(n->buf)));
			if (++taken % RX_BUDGET == 0)
				cub_coro_yield();	/* readers drain */
		}
		if (len != -CUB_EAGAIN)
			return NULL;	/* the card went away */
		cub_irq_event_wait(&n->ev);
	}
}

static int attach_locked(unsigned nic, struct cub_netif **out)
{
	struct cub_arch_nic_info info;
	struct cub_coro_attr attr = { 0 };
	struct net_nic *n;
	char name[16];
	int r;

	r = cub_arch_nic_info(nic, &info);
	if (r < 0)
		return r;
	if (nic >= NET_MAX_NICS)
		return -CUB_ENODEV;	/* more cards than we keep */
	if (attached[nic])
		return -CUB_EBUSY;
	n = cub_malloc(sizeof(*n));
	if (!n)
		return -CUB_ENOMEM;
	cub_memset(n, 0, sizeof(*n));
	cub_snprintf(n->coro_name, sizeof(n->coro_name), "net rx %u", nic);
	cub_snprintf(name, sizeof(name), "net%u", nic);
	r = cub_netif_init(&n->nif, name, info.mac, &nic_ops, n);
	if (r < 0)
		goto fail;
	n->nic = nic;
	cub_irq_event_init(&n->ev, n->coro_name);
	r = cub_arch_nic_set_notify(nic, nic_notify, n);
	if (r < 0)
		goto fail;
	attr.name = n->coro_name;
	r = cub_coro_spawn(NULL, nic_rx_main, n, &attr);
	if (r < 0) {
		cub_arch_nic_set_notify(nic, NULL, NULL);
		goto fail;
	}
	attached[nic] = true;
	*out = &n->nif;
	return 0;
fail:
	cub_free(n);
	return r;
}

/* Contexts: task. Locks: takes attach_lock. */
int cub_net_attach(unsigned nic, struct cub_netif **out)
{
	int r;

	if (!out)
		return -CUB_EINVAL;
	cub_mutex_lock(&attach_lock);
	r = attach_locked(nic, out);
	cub_mutex_unlock(&attach_lock);
	return r;
}
