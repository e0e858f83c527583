/*
 * socket_rights.c - SCM_RIGHTS: descriptors passed over AF_UNIX sockets,
 * from sendmsg's control data to recvmsg's (socket.h is the interface;
 * socket_stream.c carries them on a stream's bytes, socket_umsg.c on
 * messages).
 *
 * Semantics (Linux's __scm_send, scm_fp_copy and scm_detach_fds):
 *  - The control data is a run of cmsgs, each at an 8-byte aligned
 *    offset; parsing stops where fewer than 16 bytes (a header) remain.
 *    A cmsg_len below 16 or past the end: -EINVAL. Levels other than
 *    SOL_SOCKET are skipped; each SCM_RIGHTS adds its descriptors (those
 *    of several messages go together); other types fail -EINVAL, except
 *    SCM_CREDENTIALS (below); more than 253
 *    descriptors in all: -EINVAL; one that is not open: -EBADF. A
 *    msg_controllen over CTL_MAX: -ENOBUFS (Linux: optmem_max). A
 *    msg_controllen below 16 carries nothing.
 *  - From sendmsg until a receive installs them, the files are held (a
 *    reference each): they stay open when the sender closes its
 *    descriptors. Rights whose message or bytes are dropped unread (the
 *    receiving socket closes) are closed with them. A socket sent over
 *    itself, or a cycle of them, would keep itself open: socket_gc.c
 *    collects such sockets when a descriptor of a socket closes.
 *  - A receive installs them as new descriptors (the lowest free ones;
 *    close-on-exec with MSG_CMSG_CLOEXEC) and writes one SCM_RIGHTS cmsg:
 *    as many as fit in msg_controllen (16 bytes of header, 4 per
 *    descriptor) and in the descriptor table; the rest are closed and
 *    msg_flags gets MSG_CTRUNC. msg_controllen becomes the bytes used
 *    (CMSG_SPACE of the count; 0 with none). A control buffer that is
 *    not writable holds none. A receive without a control buffer (recv,
 *    read, recvfrom) closes what it takes.
 *  - SCM_CREDENTIALS (Linux's scm_check_creds for a sender without
 *    CAP_SYS_ADMIN, CAP_SETUID and CAP_SETGID: the one process has one
 *    user, ids.c): a struct ucred {pid, uid, gid} whose cmsg_len is not
 *    exactly CMSG_LEN(12): -EINVAL; a uid or gid of -1: -EINVAL; any
 *    other than the truth, pid 1, uid 0, gid 0: -EPERM. So what a
 *    receiver learns is always {1, 0, 0}, and nothing is carried: a
 *    recvmsg on a socket with SO_PASSCRED set (socket_opt.c) writes that
 *    SCM_CREDENTIALS cmsg first, whether the sender sent one or not, as
 *    Linux does (a stream's end of file: pid 0, as Linux's empty
 *    cookie), the SCM_RIGHTS after it, with put_cmsg's rules: no control
 *    buffer, nothing; one under 16 bytes, MSG_CTRUNC; under 28, the cmsg
 *    cut short and MSG_CTRUNC.
 *
 * Locking: parsing, closing and installing run with interrupts enabled
 * (they allocate, take references and release files); grabbing the
 * files of a record runs in the fd layer's critical section, and each
 * install takes it briefly.
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/list.h>
#include <cubrt/string.h>

#include "socket.h"

#define SCM_RIGHTS 1
#define SCM_CREDENTIALS 2
#define UCRED_LEN (CMSG_HDR + 12)	/* CMSG_LEN(sizeof(struct ucred)) */
#define CMSG_HDR 16u		/* sizeof(struct cmsghdr) */
#define CTL_MAX 20480u		/* Linux's sysctl_optmem_max (older default) */
#define ALIGN8(x) (((x) + 7) & ~(uint64_t)7)

struct cmsg_user {		/* Linux's struct cmsghdr on x86-64 */
	uint64_t len;
	int32_t level, type;
};

/* An SCM_CREDENTIALS cmsg of len bytes at c: 0, -EINVAL or -EPERM (see
 * the top). */
static long check_creds(const unsigned char *c, uint64_t len)
{
	int32_t pid;
	uint32_t uid, gid;

	if (len != UCRED_LEN)
		return -CUB_EINVAL;
	cub_memcpy(&pid, c + CMSG_HDR, 4);
	cub_memcpy(&uid, c + CMSG_HDR + 4, 4);
	cub_memcpy(&gid, c + CMSG_HDR + 8, 4);
	if (uid == 0xffffffffu || gid == 0xffffffffu)
		return -CUB_EINVAL;
	return pid == 1 && uid == 0 && gid == 0 ? 0 : -CUB_EPERM;
}

/*
 * Walks the cmsgs of buf[0..n): counts the descriptors of its SCM_RIGHTS
 * messages (r NULL) or takes a reference to each into r. The count, or
 * -EINVAL / -EBADF (r keeps what it took).
 */
static long walk(const unsigned char *buf, uint64_t n, struct cubi_rights *r)
{
	uint64_t off = 0;
	long total = 0;

	while (n - off >= CMSG_HDR) {
		struct cmsg_user h;

		cub_memcpy(&h, buf + off, sizeof(h));
		if (h.len < CMSG_HDR || h.len > n - off)
			return -CUB_EINVAL;
		if (h.level == CUBI_SOL_SOCKET && h.type == SCM_CREDENTIALS) {
			long rc = check_creds(buf + off, h.len);

			if (rc)
				return rc;
		} else if (h.level == CUBI_SOL_SOCKET && h.type != SCM_RIGHTS) {
			return -CUB_EINVAL;
		}
		for (uint64_t k = 0; h.level == CUBI_SOL_SOCKET && h.type == SCM_RIGHTS &&
				     k < (h.len - CMSG_HDR) / 4; k++) {
			int32_t fd;

			if (++total > CUBI_SCM_MAX)
				return -CUB_EINVAL;
			if (!r)
				continue;
			cub_memcpy(&fd, buf + off + CMSG_HDR + 4 * k, sizeof(fd));
			r->files[r->n] = fd < 0 ? NULL : cubi_fd_get((uint64_t)fd);
			if (!r->files[r->n])
				return -CUB_EBADF;
			r->n++;
		}
		if (ALIGN8(h.len) >= n - off)
			break;
		off += ALIGN8(h.len);
	}
	return total;
}

void cubi_rights_put(struct cubi_rights *r)
{
	unsigned long irq;

	if (!r)
		return;
	irq = cub_arch_irq_save();
	cubi_gc_untrack(r);
	cub_arch_irq_restore(irq);
	for (unsigned i = 0; i < r->n; i++)
		cubi_file_put(r->files[i]);
	cub_free(r);
}

long cubi_rights_in(const struct msghdr_user *m, struct cubi_rights **out)
{
	unsigned char *buf;
	long n;

	*out = NULL;
	if (m->controllen < CMSG_HDR)
		return 0;
	if (m->controllen > CTL_MAX)
		return -CUB_ENOBUFS;
	buf = cub_malloc(m->controllen);
	if (!buf)
		return -CUB_ENOMEM;
	n = cubi_copy_in(buf, m->control, m->controllen) ? -CUB_EFAULT
							  : walk(buf, m->controllen, NULL);
	if (n > 0) {
		*out = cub_malloc(sizeof(**out) + (size_t)n * sizeof((*out)->files[0]));
		if (*out) {
			unsigned long irq = cub_arch_irq_save();

			(*out)->n = 0;
			cubi_gc_track(*out);
			cub_arch_irq_restore(irq);
			n = walk(buf, m->controllen, *out);
		} else {
			n = -CUB_ENOMEM;
		}
	}
	cub_free(buf);
	if (n < 0) {
		cubi_rights_put(*out);
		*out = NULL;
	}
	return n < 0 ? n : 0;
}

bool cubi_rights_grab(struct cubi_rights *r, struct cubi_fdset *set, bool peek)
{
	if (set->n + r->n > CUBI_SCM_MAX)
		return false;
	for (unsigned i = 0; i < r->n; i++) {
		set->f[set->n++] = r->files[i];
		if (peek)
			r->files[i]->refs++;
	}
	if (!peek)
		r->n = 0;
	return true;
}

/* Installs up to `room` of set's files (irq taken here): how many went
 * in, their descriptors in fds. Each installed file's reference passes
 * to its descriptor. */
static unsigned install(struct cubi_fdset *set, unsigned room, bool cloexec, int32_t *fds)
{
	unsigned long irq = cub_arch_irq_save();
	unsigned k = 0;

	for (; k < room; k++) {
		long fd = cubi_fd_install(set->f[k], cloexec);

		if (fd < 0)
			break;		/* -EMFILE: the rest are closed */
		set->f[k]->refs--;	/* ours: the descriptor has one now */
		fds[k] = (int32_t)fd;
	}
	cub_arch_irq_restore(irq);
	return k;
}

/* cubi_rights_out's SCM_RIGHTS part, from m->control on. */
static void rights_out(struct cubi_fdset *set, struct msghdr_user *m, bool cloexec)
{
	uint64_t room = m->controllen > CMSG_HDR ? (m->controllen - CMSG_HDR) / 4 : 0;
	int32_t fds[CUBI_SCM_MAX];
	struct cmsg_user h = { 0, CUBI_SOL_SOCKET, SCM_RIGHTS };
	unsigned k;

	room = CUB_MIN(room, (uint64_t)set->n);
	if (room && !cubi_user_writable(m->control, CMSG_HDR + 4 * room))
		room = 0;
	k = install(set, (unsigned)room, cloexec, fds);
	for (unsigned i = k; i < set->n; i++)
		cubi_file_put(set->f[i]);
	if (k < set->n)
		m->flags |= (int32_t)MSG_CTRUNC;
	h.len = CMSG_HDR + 4ull * k;
	/* Checked above; a race with munmap loses the report, not the fds. */
	if (k && (cubi_copy_out(m->control, &h, sizeof(h)) ||
		  cubi_copy_out(m->control + CMSG_HDR, fds, 4ull * k)))
		m->flags |= (int32_t)MSG_CTRUNC;
	m->controllen = k ? CUB_MIN(ALIGN8(h.len), m->controllen) : 0;
	set->n = 0;
}

/* The SCM_CREDENTIALS cmsg {pid, 0, 0} at the start of m's control
 * buffer, with put_cmsg's rules (see the top): the bytes it used. */
static uint64_t creds_out(struct msghdr_user *m, int32_t pid)
{
	struct {
		struct cmsg_user h;
		int32_t pid;
		uint32_t uid, gid, pad;
	} c = { { UCRED_LEN, CUBI_SOL_SOCKET, SCM_CREDENTIALS }, pid, 0, 0, 0 };

	if (!m->control)
		return 0;
	if (m->controllen < UCRED_LEN) {
		m->flags |= (int32_t)MSG_CTRUNC;
		if (m->controllen < CMSG_HDR)
			return 0;
		c.h.len = m->controllen;
	}
	if (cubi_copy_out(m->control, &c, c.h.len))
		return 0;		/* Linux's put_cmsg: -EFAULT, ignored */
	return CUB_MIN(ALIGN8(UCRED_LEN), m->controllen);
}

void cubi_rights_out(struct cubi_fdset *set, struct msghdr_user *m, bool cloexec,
		     int32_t cred_pid)
{
	uint64_t used = cred_pid >= 0 ? creds_out(m, cred_pid) : 0;
	struct msghdr_user rest = *m;

	rest.control += used;
	rest.controllen -= used;
	rights_out(set, &rest, cloexec);
	m->flags = rest.flags;
	m->controllen = used + rest.controllen;
}

void cubi_rights_drop_all(struct cubi_sock *s)
{
	while (!cub_list_empty(&s->rights))
		cubi_rights_put(cub_container_of(cub_list_pop_front(&s->rights),
						 struct cubi_rights, link));
	while (!cub_list_empty(&s->stale))
		cubi_rights_put(cub_container_of(cub_list_pop_front(&s->stale),
						 struct cubi_rights, link));
}
