/*
 * memfd.c - memfd_create and file seals (fcntl F_ADD_SEALS, F_GET_SEALS).
 *
 * A memfd is a regular file of the tree in no directory (Linux: a shmem
 * file from shmem_file_setup), made by cubi_ramfs_create_unnamed: nlink
 * 0, mode 0777 (0666 with MFD_NOEXEC_SEAL), its last name "memfd:NAME"
 * in the root, so /proc/self/fd/N and /proc/self/maps show
 * "/memfd:NAME (deleted)". It is an ordinary open file of its node
 * (file.c), so read, write, lseek, ftruncate, fstat, shared mappings of
 * its own frames, dup, SCM_RIGHTS and opening /proc/self/fd/N again
 * work as for any file, and its memory goes with the last hold (the
 * last descriptor, or mapping).
 *
 * Seals live on the node (ramfs.h's CUBI_SEAL_*), so every descriptor
 * and mapping of the file sees the same ones. They are Linux's: every
 * regular file of the tree is a tmpfs file and starts with F_SEAL_SEAL
 * (F_GET_SEALS 1, F_ADD_SEALS -EPERM), a memfd made with
 * MFD_ALLOW_SEALING with none (MFD_NOEXEC_SEAL: F_SEAL_EXEC); any other
 * file (directories, /proc's, devices, pipes, sockets...) does not
 * support seals (-EINVAL). Who honours them: ramfs_data.c (write,
 * truncate, chmod), file.c (mmap), cubi_seal_fallocate below
 * (fallocate).
 *
 * Invariants: a node's seals only ever gain bits, and none once
 * F_SEAL_SEAL is set; F_SEAL_WRITE is added only while no shared
 * mapping that may become writable maps the node (one made through a
 * descriptor open O_RDWR: Linux's VM_MAYWRITE; cubi_mm_node_mapped_
 * writable), but when F_SEAL_EXEC brings it along (Linux checks only
 * what was asked for), and file.c makes none once the node has
 * F_SEAL_WRITE or F_SEAL_FUTURE_WRITE.
 *
 * Locking: the fs lock (vfs.h) over the seals and the node, held from
 * the check to the change in every call that reads or adds them, and in
 * file.c's mmap from the seal check to the new mapping; so a mapping
 * and an F_SEAL_WRITE never pass each other. The mapping table is
 * walked in mm.c's critical section.
 */
#include <cubrt/arch.h>
#include <cubrt/string.h>

#include "fs_impl.h"

#define MFD_CLOEXEC 0x01u
#define MFD_ALLOW_SEALING 0x02u
#define MFD_HUGETLB 0x04u
#define MFD_NOEXEC_SEAL 0x08u
#define MFD_EXEC 0x10u
#define MFD_ALL (MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC)
#define MFD_PREFIX "memfd:"
#define MFD_PREFIX_LEN 6
#define MFD_NAME_MAX (CUBI_NAME_MAX - MFD_PREFIX_LEN)	/* 249 bytes */
#define FALLOC_FL_PUNCH_HOLE 0x02u

/* The new memfd's node and open file (fs lock taken here): the file, or
 * NULL when memory ran out. */
static struct cubi_file *make(const char *name, size_t len, uint32_t flags)
{
	bool noexec = flags & MFD_NOEXEC_SEAL;
	struct cubi_file *f = NULL;
	struct cubi_rnode *n;

	cubi_fs_lock();
	if (cubi_ramfs_create_unnamed(name, len, noexec ? 0666 : 0777, &n) == 0) {
		/* Linux 6.3: NOEXEC_SEAL also allows sealing. */
		cubi_ramfs_set_file_seals(n, noexec ? CUBI_SEAL_EXEC
						    : flags & MFD_ALLOW_SEALING ? 0 : CUBI_SEAL_SEAL);
		f = cubi_file_open(n, CUBI_O_RDWR);
		cubi_ramfs_put(n);	/* the file holds it now, or it goes */
	}
	cubi_fs_unlock();
	return f;
}

/*
 * memfd_create(name, flags). Linux's checks in its order: unknown flags
 * (and the huge-page size bits without MFD_HUGETLB), MFD_EXEC with
 * MFD_NOEXEC_SEAL: -EINVAL; then the name: -EFAULT, or -EINVAL past 249
 * bytes. MFD_HUGETLB: -EINVAL (no huge pages here). Neither MFD_EXEC nor
 * MFD_NOEXEC_SEAL is MFD_EXEC, as with Linux's default vm.memfd_noexec 0.
 */
CUBI_SYS(memfd_create)
{
	uint32_t flags = (uint32_t)A1(r);	/* an unsigned int */
	char name[MFD_PREFIX_LEN + MFD_NAME_MAX + 1] = MFD_PREFIX;
	struct cubi_file *f;
	unsigned long irq;
	long rc;

	if ((flags & ~MFD_ALL) || (flags & MFD_HUGETLB) ||
	    ((flags & MFD_EXEC) && (flags & MFD_NOEXEC_SEAL)))
		return -CUB_EINVAL;
	rc = cubi_copy_str_in(name + MFD_PREFIX_LEN, A0(r), MFD_NAME_MAX + 1);
	if (rc)
		return rc == -CUB_ERANGE ? -CUB_EINVAL : rc;
	if (!(f = make(name, cub_strlen(name), flags)))
		return -CUB_ENOMEM;
	irq = cub_arch_irq_save();
	rc = cubi_fd_install(f, flags & MFD_CLOEXEC);
	cub_arch_irq_restore(irq);
	if (rc < 0) {		/* a new file: released (file.c's free locks) */
		f->refs = 1;
		cubi_file_put(f);
	}
	return rc;
}

/* ---------------------------------------------------------------- seals */

/* f's node when it is a file that takes seals (a regular file of the
 * tree, not /proc's), else NULL: Linux's memfd_file_seals_ptr. */
static struct cubi_rnode *sealable(struct cubi_file *f)
{
	struct cubi_rnode *n = cubi_file_node(f);
	struct cubi_rstat st;
	uint64_t arg;

	if (!n || cubi_ramfs_synth(n, &arg))
		return NULL;
	cubi_ramfs_stat(n, &st);
	return (st.mode & CUBI_S_IFMT) == CUBI_S_IFREG ? n : NULL;
}

static bool writable(const struct cubi_file *f)
{
	unsigned acc = f->flags & CUBI_O_ACCMODE;

	return acc == CUBI_O_WRONLY || acc == CUBI_O_RDWR;
}

/*
 * F_ADD_SEALS in Linux's order (memfd_add_seals): an argument past 32
 * bits, -EINVAL; a descriptor not open for writing, -EPERM; unknown
 * seals, or a file that takes none, -EINVAL; F_SEAL_SEAL already set,
 * -EPERM; F_SEAL_WRITE while a shared mapping may write, -EBUSY. As
 * on Linux, F_SEAL_EXEC on a file with an execute bit brings SHRINK,
 * GROW, WRITE and FUTURE_WRITE along (after that check). fs lock held.
 */
static long add_seals(struct cubi_file *f, uint64_t arg)
{
	struct cubi_rnode *n;
	struct cubi_rstat st;
	uint32_t has, add = (uint32_t)arg;

	if (arg > UINT32_MAX)
		return -CUB_EINVAL;
	if (!writable(f))
		return -CUB_EPERM;
	if ((add & ~CUBI_SEAL_ALL) || !(n = sealable(f)))
		return -CUB_EINVAL;
	has = cubi_ramfs_file_seals(n);
	if (has & CUBI_SEAL_SEAL)
		return -CUB_EPERM;
	if ((add & CUBI_SEAL_WRITE) && !(has & CUBI_SEAL_WRITE) &&
	    cubi_mm_node_mapped_writable(n))
		return -CUB_EBUSY;
	cubi_ramfs_stat(n, &st);
	if ((add & CUBI_SEAL_EXEC) && (st.mode & 0111))
		add |= CUBI_SEAL_SHRINK | CUBI_SEAL_GROW | CUBI_SEAL_WRITE |
		       CUBI_SEAL_FUTURE_WRITE;
	cubi_ramfs_set_file_seals(n, has | add);
	return 0;
}

long cubi_memfd_fcntl(uint64_t fd, unsigned cmd, uint64_t arg)
{
	struct cubi_file *f = cubi_fd_get(fd);
	struct cubi_rnode *n;
	long rc;

	if (!f)
		return -CUB_EBADF;
	cubi_fs_lock();
	if (cubi_file_is_path(f))	/* Linux: O_PATH takes few commands */
		rc = -CUB_EBADF;
	else if (cmd == CUBI_F_ADD_SEALS)
		rc = add_seals(f, arg);
	else
		rc = (n = sealable(f)) ? (long)cubi_ramfs_file_seals(n) : -CUB_EINVAL;
	cubi_fs_unlock();
	cubi_file_put(f);	/* after the unlock: a last put takes the lock */
	return rc;
}

/*
 * fallocate's seals, as Linux's shmem_fallocate checks them: punching
 * a hole changes bytes (F_SEAL_WRITE, F_SEAL_FUTURE_WRITE), any other
 * mode allocates up to end (F_SEAL_GROW past the size, with
 * FALLOC_FL_KEEP_SIZE too). Errors Linux gives first (a descriptor not
 * open for writing, a size past the largest file) are left to the
 * caller: 0 then.
 */
long cubi_seal_fallocate(struct cubi_file *f, struct cubi_rnode *n, uint32_t mode,
			 uint64_t end)
{
	if ((f->flags & CUBI_O_ACCMODE) == 0 || end > CUBI_FILE_MAX)
		return 0;
	if (mode & FALLOC_FL_PUNCH_HOLE)
		return cubi_ramfs_file_seal_check(n, 0, true);
	return cubi_ramfs_file_seal_check(n, end, false);
}
