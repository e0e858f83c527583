/*
 * opath.c - O_PATH files of the objects outside the tree that /proc's
 * magic links lead to: open("/proc/self/fd/N", O_PATH) of a pipe, a
 * socket, a device, the console or an anon inode (eventfd, epoll,
 * timerfd, signalfd), or of such an O_PATH file again (fs_open.c).
 *
 * Linux makes an O_PATH file of the object's inode: fstat works on it,
 * reads and writes fail -EBADF, and its own /proc/self/fd/N leads back
 * to the object. A pipe's is a path end of the pipe itself (pipe.c), so
 * that the pipe opens again through it and it counts as neither reader
 * nor writer. Any other object gets a file made here that keeps what
 * it names without holding the object's open file (holding it would
 * keep a socket open after its last descriptor closed, where Linux's
 * O_PATH file holds only the inode): the stat and the /proc/self/fd
 * text the object had when the O_PATH file was made (these do not
 * change: no attributes are kept for such objects, fs_attr.c), and, for
 * a device or the console, its device number, so that the magic link
 * of the O_PATH file opens the device again as its node would; a socket
 * or an anon inode opens by no path (-ENXIO, as on Linux).
 *
 * Invariants: an xpath file's flags are CUBI_O_PATH (so fd.c refuses
 * its reads and writes, cubi_file_is_path holds); it owns nothing but
 * its own memory, so its release frees it in any context. Locking:
 * none of its own; cubi_opath_open and cubi_opath_reopen run under the
 * fs lock with f referenced (fs_open.c), the text and stat only read
 * the file.
 */
#include <cubrt/heap.h>
#include <cubrt/string.h>

#include "procfs.h"

struct xpath {
	struct cubi_file file;
	struct cubi_rstat st;		/* the object's, when made */
	uint32_t rdev;			/* a device's number, 0: none */
	char text[CUBI_FD_TEXT_MAX];	/* its /proc/self/fd text */
};

static const struct cubi_file_ops xpath_ops;

static struct xpath *of_file(struct cubi_file *f)
{
	return cub_container_of(f, struct xpath, file);
}

static int xpath_stat(struct cubi_file *f, struct cubi_rstat *st)
{
	*st = of_file(f)->st;
	return 0;
}

static void *xpath_release(struct cubi_file *f)
{
	return of_file(f);
}

/* No read, write or poll: fd.c refuses an O_PATH file's reads and
 * writes (-EBADF). */
static const struct cubi_file_ops xpath_ops = {
	.stat = xpath_stat, .release = xpath_release,
};

struct cubi_file *cubi_opath_open(struct cubi_file *f, long *err)
{
	struct cubi_file *p = cubi_pipe_reopen(f, CUBI_O_PATH, err);
	struct xpath *x;

	if (p || *err != -CUB_ENXIO)
		return p;		/* a pipe's path end, or its error */
	*err = -CUB_ENOMEM;
	if (!(x = cub_malloc(sizeof(*x))))
		return NULL;
	*x = (struct xpath){ .file = { .ops = &xpath_ops, .flags = CUBI_O_PATH } };
	if (cubi_file_stat(f, &x->st) != 0)
		x->st = (struct cubi_rstat){ .mode = f->ops->mode, .nlink = 1 };
	x->rdev = f->ops == &xpath_ops ? of_file(f)->rdev : cubi_dev_rdev(f);
	cubi_procfs_fd_text(f, x->text);
	return &x->file;
}

struct cubi_file *cubi_opath_reopen(struct cubi_file *f, unsigned flags, long *err)
{
	*err = -CUB_ENXIO;
	if (f->ops != &xpath_ops || !of_file(f)->rdev)
		return NULL;		/* not ours, or a socket, anon inode */
	return cubi_dev_open(of_file(f)->rdev, flags, err);
}

bool cubi_opath_text(struct cubi_file *f, char *buf, size_t size)
{
	if (f->ops != &xpath_ops)
		return false;
	cub_strlcpy(buf, of_file(f)->text, size);
	return true;
}
