/*
 * caps.c - capget and capset: the capabilities of the one process.
 *
 * The process runs as root with every capability Linux 5.x defines
 * (CAP_CHOWN .. CAP_CHECKPOINT_RESTORE, 41 bits) permitted and effective,
 * none inheritable, as /proc's status reports (procfs_pid.c: CapPrm,
 * CapEff). Nothing here checks capabilities, so a change would be a lie:
 * capset accepts the sets the process has and refuses any other with
 * -EPERM, as ids.c refuses other ids, so that a program dropping
 * privileges learns that it could not.
 *
 * Both calls take Linux's header {version, pid}: versions 1 (one 32-bit
 * word per set) and 2 and 3 (two words); another version is answered by
 * writing version 3 into the header and -EINVAL, except that capget with
 * no data pointer returns 0 then (how libcap asks for the version). The
 * pid: capget takes 0, 1 or a live thread's tid (Linux finds a thread),
 * -EINVAL when negative, -ESRCH when unknown; capset only 0 or the
 * caller's own tid (Linux's task_pid_vnr(current)), else -EPERM.
 * Unreadable or unwritable memory: -EFAULT.
 *
 * Invariants and locking: none; the sets are constants.
 */
#include <cubrt/string.h>

#include "shim_impl.h"
#include "thread.h"

#define CAP_V1 0x19980330u
#define CAP_V2 0x20071026u
#define CAP_V3 0x20080522u
#define CAP_ALL_LO 0xffffffffu		/* capabilities 0..31 */
#define CAP_ALL_HI 0x1ffu		/* 32..40 */

struct cap_header {
	uint32_t version;
	int32_t pid;
};

struct cap_data {			/* one 32-bit word of each set */
	uint32_t effective, permitted, inheritable;
};

static const struct cap_data held[2] = {
	{ CAP_ALL_LO, CAP_ALL_LO, 0 },
	{ CAP_ALL_HI, CAP_ALL_HI, 0 },
};

/* The header's version: how many words a set has (1 or 2), or an error
 * (-EINVAL after writing version 3 back, -EFAULT). */
static long words(uintptr_t header)
{
	uint32_t v, v3 = CAP_V3;

	if (cubi_copy_in(&v, header, sizeof(v)))
		return -CUB_EFAULT;
	if (v == CAP_V1)
		return 1;
	if (v == CAP_V2 || v == CAP_V3)
		return 2;
	return cubi_copy_out(header, &v3, sizeof(v3)) ? -CUB_EFAULT : -CUB_EINVAL;
}

/* capget(header, data). */
CUBI_SYS(capget)
{
	long n = words(A0(r));
	struct cap_header h;
	long rc;

	if (!A1(r))			/* a question about the version */
		return n == -CUB_EINVAL ? 0 : CUB_MIN(n, 0l);
	if (n < 0)
		return n;
	if (cubi_copy_in(&h, A0(r), sizeof(h)))
		return -CUB_EFAULT;
	if (h.pid < 0)
		return -CUB_EINVAL;
	if ((rc = cubi_check_pid(h.pid)) != 0)
		return rc;
	return cubi_copy_out(A1(r), held, (size_t)n * sizeof(held[0])) ? -CUB_EFAULT : 0;
}

/* capset(header, data): only the sets held (see the top). */
CUBI_SYS(capset)
{
	long n = words(A0(r));
	struct cap_header h;
	struct cap_data want[2] = { { 0, 0, 0 }, { 0, 0, 0 } };

	if (n < 0)
		return n;
	if (cubi_copy_in(&h, A0(r), sizeof(h)))
		return -CUB_EFAULT;
	if (h.pid != 0 && h.pid != cubi_thread_self()->tid)
		return -CUB_EPERM;
	if (cubi_copy_in(want, A1(r), (size_t)n * sizeof(want[0])))
		return -CUB_EFAULT;
	/* Version 1 gives the low words only; the high ones become 0. */
	return cub_memcmp(want, held, sizeof(want)) ? -CUB_EPERM : 0;
}
