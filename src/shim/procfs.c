/*
 * procfs.c - /proc's tree (procfs.h): the nodes made at boot, the
 * refresh hooks of /proc, /proc/1 and /proc/1/task, and the open files
 * of generated files, which keep the text made when they were opened.
 *
 * Invariants:
 *  - every node under /proc is sealed by procfs; a generated file's
 *    synth is &gen_synth with arg = its index in gens[] | tid << 32
 *    (tid 0: the process's own file, else a file of task/<tid>/);
 *    the magic links carry their follow synth (fd/N: procfs_fd.c, with
 *    arg N; exe, cwd: procfs_pid.c); other nodes carry &plain or their
 *    directory's refresh synth;
 *  - procfs keeps no pointer to a node between calls: the hooks find
 *    entries by name, so a reset tree (the tests) leaves nothing stale;
 *  - an open generated file's text never changes; its position is
 *    protected by disabling interrupts (nothing in it blocks);
 *  - only comm opens for writing (gen_write); the others give
 *    -EACCES, as for a user other than root on Linux.
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/heap.h>
#include <cubrt/string.h>

#include "procfs_impl.h"

#define SEEK_SET 0
#define SEEK_CUR 1
#define DIR_MODE (CUBI_S_IFDIR | 0555)
#define FILE_MODE (CUBI_S_IFREG | 0444)
#define MAX_TASKS 4096		/* threads listed in /proc/1/task */

/* ---------------------------------------------------------- text */

static void grow_sink(char c, void *ctx)
{
	cubi_pbuf_put(ctx, &c, 1);
}

void cubi_pbuf_put(struct cubi_pbuf *b, const void *s, size_t n)
{
	if (b->oom || n == 0)
		return;
	if (b->len + n > b->cap) {
		size_t cap = CUB_MAX(b->cap * 2, b->len + n + 256);
		char *p = cub_realloc(b->p, cap);

		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	cub_memcpy(b->p + b->len, s, n);
	b->len += n;
}

void cubi_pbuf_printf(struct cubi_pbuf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cub_vformat(grow_sink, b, fmt, ap);
	va_end(ap);
}

void cubi_pbuf_free(struct cubi_pbuf *b)
{
	cub_free(b->p);
	*b = (struct cubi_pbuf){ NULL, 0, 0, false };
}

/* ------------------------------------------------------ the tree */

enum {
	G_MEMINFO, G_CPUINFO, G_UPTIME, G_LOADAVG, G_VERSION, G_MOUNTS,
	G_FILESYSTEMS, G_OSRELEASE, G_HOSTNAME, G_OSTYPE, G_PID_MAX,
	G_OVERCOMMIT, G_CMDLINE, G_ENVIRON, G_COMM, G_STATUS, G_STAT, G_MAPS,
	G_NET_DEV, G_NET_ROUTE, G_PIPE_MAX,
};

static const struct gen {
	const char *name;
	cubi_procfs_gen fn;
	uint32_t perm;
} gens[] = {
	[G_MEMINFO] = { "meminfo", cubi_procfs_meminfo, 0444 },
	[G_CPUINFO] = { "cpuinfo", cubi_procfs_cpuinfo, 0444 },
	[G_UPTIME] = { "uptime", cubi_procfs_uptime, 0444 },
	[G_LOADAVG] = { "loadavg", cubi_procfs_loadavg, 0444 },
	[G_VERSION] = { "version", cubi_procfs_version, 0444 },
	[G_MOUNTS] = { "mounts", cubi_procfs_mounts, 0444 },
	[G_FILESYSTEMS] = { "filesystems", cubi_procfs_filesystems, 0444 },
	[G_OSRELEASE] = { "osrelease", cubi_procfs_osrelease, 0444 },
	[G_HOSTNAME] = { "hostname", cubi_procfs_hostname, 0644 },
	[G_OSTYPE] = { "ostype", cubi_procfs_ostype, 0444 },
	[G_PID_MAX] = { "pid_max", cubi_procfs_pid_max, 0644 },
	[G_OVERCOMMIT] = { "overcommit_memory", cubi_procfs_overcommit, 0644 },
	[G_CMDLINE] = { "cmdline", cubi_procfs_cmdline, 0444 },
	[G_ENVIRON] = { "environ", cubi_procfs_environ, 0400 },
	[G_COMM] = { "comm", cubi_procfs_comm, 0644 },
	[G_STATUS] = { "status", cubi_procfs_status, 0444 },
	[G_STAT] = { "stat", cubi_procfs_stat, 0444 },
	[G_MAPS] = { "maps", cubi_procfs_maps, 0444 },
	[G_NET_DEV] = { "dev", cubi_procfs_net_dev, 0444 },
	[G_NET_ROUTE] = { "route", cubi_procfs_net_route, 0444 },
	[G_PIPE_MAX] = { "pipe-max-size", cubi_procfs_pipe_max, 0644 },
};

/* What each directory holds besides subdirectories and links. */
static const uint8_t root_files[] = { G_MEMINFO, G_CPUINFO, G_UPTIME, G_LOADAVG,
				      G_VERSION, G_MOUNTS, G_FILESYSTEMS };
static const uint8_t kernel_files[] = { G_OSRELEASE, G_HOSTNAME, G_OSTYPE, G_PID_MAX };
static const uint8_t vm_files[] = { G_OVERCOMMIT };
static const uint8_t fs_files[] = { G_PIPE_MAX };
static const uint8_t net_files[] = { G_NET_DEV, G_NET_ROUTE };
static const uint8_t pid_files[] = { G_CMDLINE, G_ENVIRON, G_COMM, G_STATUS,
				     G_STAT, G_MAPS };
static const uint8_t task_files[] = { G_COMM, G_STATUS, G_STAT };

static void root_refresh(struct cubi_rnode *dir, uint64_t arg);
static void task_refresh(struct cubi_rnode *dir, uint64_t arg);

static const struct cubi_rsynth plain = { .refresh = NULL };
static const struct cubi_rsynth gen_synth = { .refresh = NULL };
static const struct cubi_rsynth root_synth = { .refresh = root_refresh };
static const struct cubi_rsynth pid_synth = { .refresh = cubi_procfs_pid_refresh };
static const struct cubi_rsynth fd_synth = { .refresh = cubi_procfs_fd_refresh };
static const struct cubi_rsynth task_synth = { .refresh = task_refresh };

static size_t len_of(const char *s)
{
	return cub_strlen(s);
}

/* A new directory `name` in dir (sealed by the caller once it is
 * filled: a sealed directory takes no names), or NULL. */
static struct cubi_rnode *new_dir(struct cubi_rnode *dir, const char *name,
				  uint32_t perm)
{
	struct cubi_rnode *n;

	return cubi_ramfs_create(dir, name, len_of(name), CUBI_S_IFDIR | perm, &n) ? NULL : n;
}

/* The generated files ids[0..count) in dir, for thread tid (0: none). */
static void add_files(struct cubi_rnode *dir, const uint8_t *ids, size_t count, int tid)
{
	for (size_t i = 0; i < count; i++) {
		const struct gen *g = &gens[ids[i]];
		struct cubi_rnode *n;

		if (cubi_ramfs_create(dir, g->name, len_of(g->name),
				      CUBI_S_IFREG | g->perm, &n) == 0)
			cubi_ramfs_seal(n, &gen_synth, ids[i] | (uint64_t)(uint32_t)tid << 32);
	}
}

int cubi_procfs_set_magic(struct cubi_rnode *dir, const char *name,
			  const char *target, size_t tlen,
			  const struct cubi_rsynth *synth, uint64_t arg)
{
	size_t len = len_of(name), have;
	struct cubi_rnode *n;
	const char *t;
	uint64_t had;
	int rc;

	if (cubi_ramfs_lookup(dir, name, len, &n) == 0) {
		t = cubi_ramfs_link_target(n, &have);
		if (t && have == tlen && cub_memcmp(t, target, tlen) == 0 &&
		    cubi_ramfs_synth(n, &had) == synth && had == arg)
			return 0;
		cubi_ramfs_unlink(dir, name, len, false);
	}
	if ((rc = cubi_ramfs_symlink(dir, name, len, target, tlen, &n)) == 0)
		cubi_ramfs_seal(n, synth, arg);
	return rc;
}

int cubi_procfs_set_link(struct cubi_rnode *dir, const char *name,
			 const char *target, size_t tlen)
{
	return cubi_procfs_set_magic(dir, name, target, tlen, &plain, 0);
}

/* Seals a directory once it is filled. */
static struct cubi_rnode *sealed_dir(struct cubi_rnode *n, const struct cubi_rsynth *s)
{
	if (n)
		cubi_ramfs_seal(n, s, 0);
	return n;
}

/* /proc/sys/{kernel,vm,fs} in proc. */
static void make_sys(struct cubi_rnode *proc)
{
	struct cubi_rnode *sys = new_dir(proc, "sys", 0555), *d;

	if (!sys)
		return;
	if ((d = new_dir(sys, "kernel", 0555)) != NULL)
		add_files(d, kernel_files, CUB_ARRAY_SIZE(kernel_files), 0);
	sealed_dir(d, &plain);
	if ((d = new_dir(sys, "vm", 0555)) != NULL)
		add_files(d, vm_files, CUB_ARRAY_SIZE(vm_files), 0);
	sealed_dir(d, &plain);
	if ((d = new_dir(sys, "fs", 0555)) != NULL)
		add_files(d, fs_files, CUB_ARRAY_SIZE(fs_files), 0);
	sealed_dir(d, &plain);
	sealed_dir(sys, &plain);
}

/* /proc/1 in proc: files, fd/ and task/ (filled by their refreshes),
 * links (root is "/" for good; exe and cwd follow the process). */
static void make_pid(struct cubi_rnode *proc)
{
	struct cubi_rnode *pid = new_dir(proc, "1", 0555);

	if (!pid)
		return;
	add_files(pid, pid_files, CUB_ARRAY_SIZE(pid_files), 0);
	sealed_dir(new_dir(pid, "fd", 0500), &fd_synth);
	sealed_dir(new_dir(pid, "task", 0555), &task_synth);
	cubi_procfs_set_link(pid, "root", "/", 1);
	sealed_dir(pid, &pid_synth);
}

void cubi_procfs_populate(struct cubi_rnode *root)
{
	struct cubi_rnode *proc, *d;

	if (cubi_ramfs_lookup(root, "proc", 4, &proc) == 0) {
		cub_printk("shim: /proc exists (from an archive?): no procfs\n");
		return;
	}
	cubi_procfs_exe_forget();	/* a new tree: its node went */
	if (!(proc = new_dir(root, "proc", 0555)))
		return;
	cubi_procfs_set_link(proc, "self", "1", 1);
	make_pid(proc);
	add_files(proc, root_files, CUB_ARRAY_SIZE(root_files), 0);
	make_sys(proc);
	if ((d = new_dir(proc, "net", 0555)) != NULL)	/* procfs_net.c */
		add_files(d, net_files, CUB_ARRAY_SIZE(net_files), 0);
	sealed_dir(d, &plain);
	sealed_dir(proc, &root_synth);
}

/* /proc: thread-self names the calling thread. */
static void root_refresh(struct cubi_rnode *dir, uint64_t arg)
{
	struct cubi_thread *t = cubi_thread_current();
	char target[32];
	int n = cub_snprintf(target, sizeof(target), "1/task/%d", t ? t->tid : 1);

	(void)arg;
	cubi_procfs_set_link(dir, "thread-self", target, (size_t)n);
}

/* Removes task/<name> and its files. */
static void drop_task(struct cubi_rnode *dir, const char *name, size_t len)
{
	struct cubi_rnode *t;

	if (cubi_ramfs_lookup(dir, name, len, &t) != 0)
		return;
	for (size_t i = 0; i < CUB_ARRAY_SIZE(task_files); i++) {
		const char *f = gens[task_files[i]].name;

		cubi_ramfs_unlink(t, f, len_of(f), false);
	}
	cubi_ramfs_unlink(dir, name, len, true);
}

static bool has_tid(const int *tids, int n, long tid)
{
	for (int i = 0; i < n; i++)
		if (tids[i] == tid)
			return true;
	return false;
}

/* /proc/1/task: one directory per live thread, none for the gone. */
static void task_refresh(struct cubi_rnode *dir, uint64_t arg)
{
	struct cubi_rdirent e;
	uint64_t cookie = 2;	/* past "." and ".." */
	int n, *tids = cubi_procfs_tids(&n);

	(void)arg;
	if (!tids)
		return;
	for (int i = 0; i < n; i++) {
		struct cubi_rnode *t;
		char name[16];

		cub_snprintf(name, sizeof(name), "%d", tids[i]);
		if (cubi_ramfs_lookup(dir, name, len_of(name), &t) == 0)
			continue;
		if ((t = new_dir(dir, name, 0555)) != NULL) {
			add_files(t, task_files, CUB_ARRAY_SIZE(task_files), tids[i]);
			cubi_ramfs_seal(t, &plain, 0);
		}
	}
	while (cubi_ramfs_readdir(dir, &cookie, &e) == 1) {
		long tid;

		if (cub_parse_long(e.name, &tid) || !has_tid(tids, n, tid))
			drop_task(dir, e.name, e.len);
	}
	cub_free(tids);
}

int *cubi_procfs_tids(int *n)
{
	int *tids = cub_malloc(MAX_TASKS * sizeof(int));

	*n = tids ? cubi_thread_tids(tids, MAX_TASKS) : 0;
	return tids;
}

/* -------------------------------------------------- generated files */

/* An open generated file: its text, made at open, and a position. */
struct pfile {
	struct cubi_file file;
	uint64_t arg;			/* the node's: gens[] index | tid << 32 */
	struct cubi_rnode *node;	/* held: fstat's answer */
	struct cubi_rnode *dir;		/* held: where it was opened */
	char *text;
	size_t len;
	uint64_t pos;			/* irq off */
	size_t nlen;			/* the name it was opened by */
	char name[];
};

static struct pfile *of_file(struct cubi_file *f)
{
	return cub_container_of(f, struct pfile, file);
}

/* A write to a writable generated file (comm, which renames its
 * thread): its first 15 bytes are copied in and given to the writer,
 * and the whole count is taken, as Linux's comm_write does. */
static long gen_write(struct pfile *pf, const void *buf, size_t n)
{
	char text[16];
	size_t k = CUB_MIN(n, sizeof(text) - 1);
	long rc;

	if ((uint32_t)pf->arg != G_COMM)
		return -CUB_EBADF;
	if (k && cubi_copy_in(text, (uintptr_t)buf, k))
		return -CUB_EFAULT;
	rc = cubi_thread_rename((int)(pf->arg >> 32), text, k);
	return rc ? rc : (long)n;
}

/* Reads at off, or at (and advancing) the position. The copy runs with
 * interrupts disabled, where no other thread can unmap the buffer
 * after its check. */
static long gen_io(struct cubi_file *f, void *buf, size_t n, int64_t off, bool out)
{
	struct pfile *pf = of_file(f);
	unsigned long irq;
	uint64_t at;
	size_t k = 0;
	long r;

	if (out)
		return gen_write(pf, buf, n);
	irq = cub_arch_irq_save();
	at = off >= 0 ? (uint64_t)off : pf->pos;
	if (at < pf->len)
		k = CUB_MIN(n, pf->len - (size_t)at);
	if (k && !cubi_user_writable((uintptr_t)buf, k)) {
		r = -CUB_EFAULT;
	} else {
		if (k)		/* text is NULL for an empty file */
			cub_memcpy(buf, pf->text + at, k);
		if (off < 0)
			pf->pos = at + k;
		r = (long)k;
	}
	cub_arch_irq_restore(irq);
	return r;
}

/* Linux's seq_file: SEEK_SET and SEEK_CUR, never below 0 (no
 * SEEK_END: the size is not known before the end is read). */
static long gen_seek(struct cubi_file *f, int64_t off, int whence)
{
	struct pfile *pf = of_file(f);
	unsigned long irq = cub_arch_irq_save();
	int64_t base = whence == SEEK_SET ? 0 : (int64_t)pf->pos;
	long r = -CUB_EINVAL;

	if ((whence == SEEK_SET || whence == SEEK_CUR) && base + off >= 0 &&
	    !(off > 0 && base > INT64_MAX - off)) {
		pf->pos = (uint64_t)(base + off);
		r = (long)pf->pos;
	}
	cub_arch_irq_restore(irq);
	return r;
}

static int gen_stat(struct cubi_file *f, struct cubi_rstat *st)
{
	cubi_fs_lock();
	cubi_ramfs_stat(of_file(f)->node, st);
	cubi_fs_unlock();
	return 0;
}

static void *gen_release(struct cubi_file *f)
{
	return of_file(f);
}

static void gen_free(void *mem)
{
	struct pfile *pf = mem;

	cubi_fs_lock();
	cubi_ramfs_put(pf->node);
	if (pf->dir)
		cubi_ramfs_put(pf->dir);
	cubi_fs_unlock();
	cub_free(pf->text);
	cub_free(pf);
}

static const struct cubi_file_ops gen_ops = {
	.io = gen_io, .seek = gen_seek, .stat = gen_stat,
	.release = gen_release, .free = gen_free, .mode = CUBI_S_IFREG,
};

bool cubi_procfs_where(struct cubi_file *f, struct cubi_rnode **node,
		       struct cubi_rnode **dir, const char **name, size_t *len)
{
	struct pfile *pf = of_file(f);

	if (f->ops != &gen_ops)
		return false;
	*node = pf->node;
	*dir = pf->dir;
	*name = pf->name;
	*len = pf->nlen;
	return true;
}

struct cubi_file *cubi_procfs_open(struct cubi_rnode *n, struct cubi_rnode *dir,
				   const char *name, size_t len, unsigned flags,
				   long *err)
{
	struct cubi_pbuf b = { NULL, 0, 0, false };
	uint64_t arg;
	struct pfile *pf;

	*err = -CUB_EACCES;
	if (cubi_ramfs_synth(n, &arg) != &gen_synth ||
	    ((flags & CUBI_O_ACCMODE) && (uint32_t)arg != G_COMM))
		return NULL;
	*err = -CUB_ENOMEM;
	gens[(uint32_t)arg].fn(&b, (int)(arg >> 32));
	if (b.oom || !(pf = cub_malloc(sizeof(*pf) + len + 1))) {
		cubi_pbuf_free(&b);
		return NULL;
	}
	*pf = (struct pfile){ .file = { .ops = &gen_ops, .flags = flags }, .arg = arg, .node = n,
			      .dir = dir, .text = b.p, .len = b.len, .nlen = len };
	cub_memcpy(pf->name, name, len);
	pf->name[len] = '\0';
	cubi_ramfs_get(n);
	if (dir)
		cubi_ramfs_get(dir);
	return &pf->file;
}
