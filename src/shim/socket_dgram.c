/*
 * socket_dgram.c - the message queue of every message socket: UDP's
 * datagrams (socket_udp.c), AF_UNIX SOCK_DGRAM and SOCK_SEQPACKET
 * messages (socket_umsg.c, which adds the sender's name and SCM_RIGHTS)
 * and netlink's (socket_netlink.c).
 * A queue is a socket's `dgrams` list of struct cubi_dgram, oldest first,
 * and its `dbytes`, what they cost of CUBI_UDP_BUDGET; socket.h is the
 * interface. Also the copies between a message and the program's buffers
 * (one buffer or iovecs) that both kinds use.
 *
 * The callers decide what fits (cubi_dgram_cost against the budget) and
 * what a receive means (end of file, filters); this file only appends,
 * takes the oldest and frees. A message is taken whole: a shorter buffer
 * gets its first bytes; a copy that faults leaves it queued.
 *
 * Invariants: dbytes is the sum of cubi_dgram_cost over the queue (kept
 * here: queue adds, take subtracts); how far it may go is each kind's
 * (socket_udp.c: at most CUBI_UDP_BUDGET; socket_umsg.c: over it only
 * with one message queued), stated in their header comments. Every
 * change of a queue goes through cubi_sock_changed.
 *
 * Locking: the fd layer's critical section (interrupts disabled, fd.c)
 * around cubi_dgram_queue, cubi_dgram_take and cubi_ucopy: the program's
 * buffers are checked and copied with nothing able to unmap them in
 * between. cubi_dgram_free runs after it (interrupts enabled: it frees
 * and drops rights). cubi_dgram_recv is every kind's receive loop (UDP,
 * AF_UNIX messages, netlink): each attempt inside the section, the wait
 * and the frees outside it. A socket's SO_RCVTIMEO bounds its waits:
 * -EAGAIN when it runs out, as on Linux.
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/list.h>
#include <cubrt/time.h>

#include "socket.h"
#include "socket_msg.h"

size_t cubi_dgram_cost(size_t len)
{
	return len + sizeof(struct cubi_dgram);
}

/* ------------------------------------------------------------- copying */

/*
 * Copies up to n bytes between data and the program's buffers, from them
 * (in) or into them (irq off: checked and copied with nothing able to
 * unmap them in between). The bytes copied (fewer when the buffers hold
 * less, or iovecs shrank since they were checked) or -EFAULT.
 */
long cubi_ucopy(const struct cubi_ubuf *u, unsigned char *data, size_t n, bool in)
{
	uint64_t cnt = u->iov ? u->len : 1;
	size_t done = 0;

	for (uint64_t i = 0; i < cnt && done < n; i++) {
		struct iovec_user e = { u->base, u->len };
		size_t k;

		if (u->iov && cubi_copy_in(&e, u->iov + i * sizeof(e), sizeof(e)))
			return -CUB_EFAULT;
		k = (size_t)CUB_MIN(e.len, (uint64_t)(n - done));
		if (in ? cubi_copy_in(data + done, e.base, k) : cubi_copy_out(e.base, data + done, k))
			return -CUB_EFAULT;
		done += k;
	}
	return (long)done;
}

long cubi_iov_total(const struct msghdr_user *m, size_t max)
{
	uint64_t total = 0;

	for (uint64_t i = 0; i < m->iovlen; i++) {
		struct iovec_user e;

		if (cubi_copy_in(&e, m->iov + i * sizeof(e), sizeof(e)))
			return -CUB_EFAULT;
		if (e.len > max || (total += e.len) > max)
			return -CUB_EMSGSIZE;
	}
	return (long)total;
}

/* --------------------------------------------------------------- queue */

void cubi_dgram_queue(struct cubi_sock *r, struct cubi_dgram *d)
{
	cub_list_push_back(&r->dgrams, &d->link);
	r->dbytes += cubi_dgram_cost(d->len);
	cubi_sock_changed(r);
}

long cubi_dgram_take(struct cubi_sock *s, const struct cubi_ubuf *u, bool peek,
		     struct cubi_dgram **dp)
{
	struct cubi_dgram *d;
	long rc;

	if (cub_list_empty(&s->dgrams))
		return -CUB_EAGAIN;
	d = cub_container_of(cub_list_first(&s->dgrams), struct cubi_dgram, link);
	rc = cubi_ucopy(u, d->data + d->name_len, d->len, false);
	if (rc < 0 || peek)
		return rc;
	cub_list_del(&d->link);
	if (d->rights)
		d->rights->holder = NULL;	/* the receive holds it now */
	s->dbytes -= cubi_dgram_cost(d->len);
	*dp = d;
	cubi_sock_changed(s);
	return rc;
}

void cubi_dgram_free(struct cubi_dgram *d)
{
	if (d)
		cubi_rights_put(d->rights);
	cub_free(d);
}

size_t cubi_dgram_inq(const struct cubi_sock *s, bool all)
{
	size_t n = 0;
	struct cub_list *pos;

	cub_list_for_each(pos, &s->dgrams) {
		n += cub_container_of(pos, struct cubi_dgram, link)->len;
		if (!all)
			break;
	}
	return n;
}

long cubi_dgram_recv(struct cubi_sock *s, const struct cubi_recv *r, cubi_recv_try try,
		     const char *what)
{
	uint64_t deadline = cubi_sock_deadline(s, false);	/* SO_RCVTIMEO */

	for (;;) {
		struct cubi_dgram *d = NULL;
		unsigned long irq = cub_arch_irq_save();
		uint32_t seq = cubi_file_seq(&s->file);
		bool nonblock = (s->file.flags & CUBI_O_NONBLOCK) || (r->flags & MSG_DONTWAIT);
		long rc = try(s, r, &d);

		cub_arch_irq_restore(irq);
		cubi_dgram_free(d);
		if (rc != -CUB_EAGAIN || nonblock)
			return rc;
		rc = cubi_file_wait(&s->file, seq, deadline, what);
		if (rc == -CUB_EINTR)
			return -CUB_EINTR;
		if (rc == -CUB_ETIMEDOUT)
			return -CUB_EAGAIN;	/* SO_RCVTIMEO ran out */
	}
}
