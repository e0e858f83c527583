/*
 * procfs_fd.c - /proc/1/fd: one link per open descriptor, named by its
 * number, and the paths of nodes that its links (and /proc/1/cwd) show.
 *
 * A descriptor's link shows what Linux's does: a file or directory of
 * the tree, its current path (d_path: a current name of the file, any
 * of its hard links, in its directory's path as it is now, so the text
 * follows renames across directories; once the file has no name, the
 * last it had and " (deleted)"; the tree tells names at once,
 * cubi_ramfs_name_of); the console "/dev/console";
 * a device "/dev/<name>"; a pipe "pipe:[N]", a socket "socket:[N]" (N:
 * fstat's st_ino); epoll, eventfd and timerfd files their ops' name
 * ("anon_inode:[eventpoll]"...); an O_PATH file of one of those the
 * same (opath.c).
 *
 * The links are magic (fd_follow): a walk that follows one gets the
 * descriptor's object - the node of a file of the tree, whatever its
 * names now, or the open file itself (a pipe, socket, device...) - not
 * its text; see path.c.
 *
 * The table is read with interrupts disabled, where no file can go, and
 * only what it says is kept (no references: a last put under that lock
 * would deadlock, file.c's frees take the fs lock); the nodes and names
 * of the tree's files stay valid while the fs lock is held (fs_impl.h,
 * cubi_file_where). Following a link to a file outside the tree needs
 * a reference: cubi_fs_fd_get takes it outside that section, and
 * cubi_fs_unlock drops it.
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/heap.h>
#include <cubrt/string.h>

#include "procfs_impl.h"

#define TEXT_MAX CUBI_FD_TEXT_MAX

/* f's place in the tree, into w's object: false for a file outside it
 * (only reads f; irq off or f referenced). */
static bool tree_object(struct cubi_file *f, struct cubi_walk *w)
{
	return cubi_file_where(f, &w->node, &w->dir, &w->name, &w->len) ||
	       cubi_procfs_where(f, &w->node, &w->dir, &w->name, &w->len);
}

/* Following fd/N: descriptor N's object, valid while the fs lock is
 * held. A file of the tree needs no reference (its node and names stay
 * while the lock is held, as for the listing); one outside it (a pipe,
 * a socket...) gets one, taken outside the table's critical section and
 * dropped at cubi_fs_unlock. */
static int fd_follow(struct cubi_rnode *link, uint64_t fd, struct cubi_walk *w)
{
	unsigned long irq = cub_arch_irq_save();
	struct cubi_file *f = cubi_fd_file(fd);
	bool tree = f && tree_object(f, w);
	int err;

	cub_arch_irq_restore(irq);
	(void)link;
	if (!f)
		return -CUB_ENOENT;	/* closed since the listing: gone */
	if (tree)
		return 0;
	if (!(f = cubi_fs_fd_get(fd, &err)))
		return err;
	if (!tree_object(f, w))		/* (or replaced meanwhile: a file) */
		w->file = f;
	return 0;
}

static const struct cubi_rsynth fd_link = { .follow = fd_follow };

/* One open descriptor as the table showed it. */
struct fd_seen {
	int fd;
	bool tree;			/* a file of the tree: node, dir, name */
	struct cubi_rnode *node, *dir;
	const char *name;
	size_t len;
	char text[TEXT_MAX];		/* else its link's target */
};

void cubi_procfs_fd_text(struct cubi_file *f, char *text)
{
	uint32_t fmt = f->ops->mode & CUBI_S_IFMT;
	struct cubi_rstat st = { .ino = 0 };
	unsigned long ino;

	if (fmt == CUBI_S_IFIFO || fmt == CUBI_S_IFSOCK)
		cubi_file_stat(f, &st);	/* their stat ops only read f */
	ino = (unsigned long)st.ino;
	if (f == &cubi_console_file)
		cub_strlcpy(text, "/dev/console", TEXT_MAX);
	else if (cubi_dev_path(f, text, TEXT_MAX) || cubi_opath_text(f, text, TEXT_MAX))
		return;
	else if (f->ops->name)
		cub_strlcpy(text, f->ops->name, TEXT_MAX);
	else if (fmt == CUBI_S_IFIFO)
		cub_snprintf(text, TEXT_MAX, "pipe:[%lu]", ino);
	else if (fmt == CUBI_S_IFSOCK)
		cub_snprintf(text, TEXT_MAX, "socket:[%lu]", ino);
	else
		cub_strlcpy(text, "anon_inode:[unknown]", TEXT_MAX);
}

/* Fills seen[] from the table; returns the count. */
static int snapshot(struct fd_seen *seen)
{
	unsigned long irq = cub_arch_irq_save();
	int n = 0;

	for (int fd = 0; fd < CUBI_FD_MAX; fd++) {
		struct cubi_file *f = cubi_fd_file((uint64_t)fd);
		struct fd_seen *s = &seen[n];

		if (!f)
			continue;
		s->fd = fd;
		s->tree = cubi_file_where(f, &s->node, &s->dir, &s->name, &s->len) ||
			  cubi_procfs_where(f, &s->node, &s->dir, &s->name, &s->len);
		if (!s->tree)
			cubi_procfs_fd_text(f, s->text);
		n++;
	}
	cub_arch_irq_restore(irq);
	return n;
}

/* Prepends "/name" to buf[*at, PATH_MAX); false when it does not fit. */
static bool prepend(char *buf, size_t *at, const char *name, size_t len)
{
	if (len + 1 > *at)
		return false;
	*at -= len;
	cub_memcpy(buf + *at, name, len);
	buf[--*at] = '/';
	return true;
}

/* Prepends dir's path to buf[*at, PATH_MAX): its names up to the root,
 * O(depth) (cubi_ramfs_name_of). False when a directory on the way was
 * removed (no path leads there). */
static bool dir_path(struct cubi_rnode *dir, char *buf, size_t *at)
{
	while (dir != cubi_ramfs_root()) {
		struct cubi_rnode *parent;
		const char *name;
		size_t len;

		if (!cubi_ramfs_name_of(dir, &parent, &name, &len) ||
		    !prepend(buf, at, name, len))
			return false;
		dir = parent;
	}
	return true;
}

/* What d_path shows: a directory's path, a file's current name (any of
 * its hard links) in its directory's path now, or for a removed file
 * the last name it had there and " (deleted)"; (dir, name), the one it
 * was opened by, only for a node that never had a name. */
void cubi_procfs_path(struct cubi_pbuf *b, struct cubi_rnode *n,
		      struct cubi_rnode *dir, const char *name, size_t len)
{
	char *buf = cub_malloc(PATH_MAX);
	struct cubi_rstat st;
	size_t at = PATH_MAX;

	if (!buf) {
		b->oom = true;
		return;
	}
	cubi_ramfs_stat(n, &st);
	if (cubi_ramfs_is_dir(n) && dir_path(n, buf, &at)) {
		if (at == PATH_MAX)
			cubi_pbuf_put(b, "/", 1);	/* the root */
		else
			cubi_pbuf_put(b, buf + at, PATH_MAX - at);
	} else {
		if (!cubi_ramfs_is_dir(n))
			cubi_ramfs_name_of(n, &dir, &name, &len);
		if (dir && dir_path(dir, buf, &at))
			cubi_pbuf_put(b, buf + at, PATH_MAX - at);
		cubi_pbuf_put(b, "/", 1);
		cubi_pbuf_put(b, name, len);
		if (st.nlink == 0)
			cubi_pbuf_printf(b, " (deleted)");
	}
	cub_free(buf);
}

/* The link target of one descriptor into b (emptied first). */
static void target_of(const struct fd_seen *s, struct cubi_pbuf *b)
{
	b->len = 0;
	if (s->tree)
		cubi_procfs_path(b, s->node, s->dir, s->name, s->len);
	else
		cubi_pbuf_put(b, s->text, cub_strlen(s->text));
}

static bool seen_fd(const struct fd_seen *seen, int n, long fd)
{
	for (int i = 0; i < n; i++)
		if (seen[i].fd == fd)
			return true;
	return false;
}

void cubi_procfs_fd_refresh(struct cubi_rnode *dir, uint64_t arg)
{
	struct fd_seen *seen = cub_malloc(CUBI_FD_MAX * sizeof(*seen));
	struct cubi_pbuf b = { NULL, 0, 0, false };
	struct cubi_rdirent e;
	uint64_t cookie = 2;
	int n;

	(void)arg;
	if (!seen)
		return;
	n = snapshot(seen);
	for (int i = 0; i < n; i++) {
		char name[16];

		target_of(&seen[i], &b);
		cub_snprintf(name, sizeof(name), "%d", seen[i].fd);
		if (!b.oom && b.len)
			cubi_procfs_set_magic(dir, name, b.p, b.len, &fd_link,
					      (uint64_t)seen[i].fd);
	}
	while (cubi_ramfs_readdir(dir, &cookie, &e) == 1) {
		long fd;

		if (cub_parse_long(e.name, &fd) || !seen_fd(seen, n, fd))
			cubi_ramfs_unlink(dir, e.name, e.len, false);
	}
	cubi_pbuf_free(&b);
	cub_free(seen);
}
