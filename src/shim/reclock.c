/*
 * reclock.c - fcntl's POSIX record locks: F_GETLK, F_SETLK, F_SETLKW
 * (struct flock; on x86-64 the same numbers serve the *64 names).
 *
 * Such a lock belongs to a process, and locks of one process never
 * conflict: a new one replaces or merges with its own older ones, and
 * F_GETLK reports only another process's. This machine runs one
 * process, so every lock request that Linux would check successfully is
 * granted at once, nothing ever waits, and F_GETLK always answers
 * F_UNLCK (the rest of the struct left as given, as Linux leaves it).
 * Keeping the ranges would change no answer, so none are kept; the
 * checks are Linux's (fcntl_setlk, fcntl_getlk, flock64_to_posix_lock),
 * in its order:
 *  - a descriptor that is not open, or an O_PATH one: -EBADF; the struct
 *    unreadable (or, F_GETLK, unwritable): -EFAULT;
 *  - F_GETLK of a type other than F_RDLCK / F_WRLCK: -EINVAL;
 *  - l_whence not SEEK_SET / SEEK_CUR (the file position; 0 where there
 *    is none) / SEEK_END (the size): -EINVAL; the start past the largest
 *    offset: -EOVERFLOW; negative: -EINVAL; a positive l_len reaching
 *    past the largest offset: -EOVERFLOW; a negative one (the bytes
 *    before l_start) starting before 0: -EINVAL;
 *  - a type other than F_RDLCK, F_WRLCK, F_UNLCK: -EINVAL;
 *  - F_SETLK(W) of F_RDLCK on a file not open for reading, of F_WRLCK on
 *    one not open for writing: -EBADF.
 * Open file description locks (F_OFD_*) are not kept: -EINVAL, as for
 * any fcntl command the shim does not know.
 *
 * Invariants and locking: none kept; the file is held by a reference
 * while it is looked at.
 */
#include <cubrt/string.h>

#include "fd.h"
#include "ramfs.h"
#include "shim_impl.h"

#define F_RDLCK 0
#define F_WRLCK 1
#define F_UNLCK 2
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#define OFFSET_MAX INT64_MAX
#define EOVERFLOW 75		/* Linux's; base.h has none */

struct flock_user {		/* Linux's struct flock on x86-64 */
	int16_t type, whence;
	int32_t pad0;
	int64_t start, len;
	int32_t pid, pad1;
};

/* Where l's range starts (the file's position or size for SEEK_CUR or
 * SEEK_END), checked as Linux checks it: 0 or -errno. */
static long check_range(struct cubi_file *f, const struct flock_user *l)
{
	int64_t base = 0, start;
	struct cubi_rstat st;

	if (l->whence == SEEK_CUR && f->ops->seek) {
		base = f->ops->seek(f, 0, SEEK_CUR);
		base = base < 0 ? 0 : base;
	} else if (l->whence == SEEK_END) {
		base = cubi_file_stat(f, &st) ? 0 : (int64_t)st.size;
	} else if (l->whence != SEEK_SET && l->whence != SEEK_CUR) {
		return -CUB_EINVAL;
	}
	if (l->start > OFFSET_MAX - base)
		return -EOVERFLOW;
	start = base + l->start;
	if (start < 0)
		return -CUB_EINVAL;
	if (l->len > 0 && l->len - 1 > OFFSET_MAX - start)
		return -EOVERFLOW;
	if (l->len < 0 && start + l->len < 0)
		return -CUB_EINVAL;
	return 0;
}

/* One request on f (held): 0 or -errno; l->type F_UNLCK for F_GETLK. */
static long request(struct cubi_file *f, unsigned cmd, struct flock_user *l)
{
	unsigned acc = f->flags & CUBI_O_ACCMODE;
	long rc;

	if (cmd == CUBI_F_GETLK && l->type != F_RDLCK && l->type != F_WRLCK)
		return -CUB_EINVAL;
	if ((rc = check_range(f, l)) != 0)
		return rc;
	if (l->type != F_RDLCK && l->type != F_WRLCK && l->type != F_UNLCK)
		return -CUB_EINVAL;
	if (cmd == CUBI_F_GETLK) {
		l->type = F_UNLCK;	/* no other process holds anything */
		return 0;
	}
	if (l->type == F_RDLCK && acc == CUBI_O_WRONLY)
		return -CUB_EBADF;
	if (l->type == F_WRLCK && acc != CUBI_O_WRONLY && acc != CUBI_O_RDWR)
		return -CUB_EBADF;
	return 0;			/* granted: ours never conflict */
}

long cubi_reclock_fcntl(uint64_t fd, unsigned cmd, uintptr_t arg)
{
	struct cubi_file *f = cubi_fd_get(fd);
	struct flock_user l;
	long rc;

	if (!f)
		return -CUB_EBADF;
	if (f->flags & CUBI_O_PATH)
		rc = -CUB_EBADF;
	else if (cubi_copy_in(&l, arg, sizeof(l)))
		rc = -CUB_EFAULT;
	else
		rc = request(f, cmd, &l);
	cubi_file_put(f);
	if (!rc && cmd == CUBI_F_GETLK && cubi_copy_out(arg, &l, sizeof(l)))
		rc = -CUB_EFAULT;
	return rc;
}
