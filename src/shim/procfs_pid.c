/*
 * procfs_pid.c - the process's files in /proc/1 (cmdline, environ, comm,
 * status, stat, maps) and its threads' in /proc/1/task/<tid> (comm,
 * status, stat), in Linux's formats, and what start.c tells of the
 * program (cubi_procfs_set_program).
 *
 * The process is pid 1 with no parent, running as root. The program's
 * path (exe) is its argv[0] as the shim started it, made absolute: the
 * image's name ("/files"). The program is loaded from the image, not
 * from the tree; but when the tree (a boot archive) holds, at that
 * path, an ELF file whose program headers are those the program was
 * started with, that file is the program's: /proc/1/exe is then a magic
 * link to its node (held from the start: opening or reading
 * /proc/self/exe gives the ELF, after a rename or unlink too, and the
 * link's text is the node's path as /proc/self/fd shows paths). Else it
 * is a link to exe that leads nowhere (-ENOENT), as a deleted
 * executable's would if it had no inode. /proc/1/cwd is a magic link to
 * the working directory. cmdline and environ read the strings where they lie
 * in the program's memory, so a program that rewrites its argv is seen
 * doing so, as on Linux. Fields nothing here knows (times, faults,
 * signal dispositions) are 0.
 *
 * A thread's record lives on its own stack and goes when it exits: it is
 * looked up and read with interrupts disabled, where it cannot go.
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/string.h>

#include "procfs_impl.h"

#define EXE_MAX 256
#define COMM_MAX 15			/* Linux's TASK_COMM_LEN - 1 */
#define MAX_MAPS 1024
#define MAPS_NAME_COLUMN 73		/* Linux pads names to this column */
#define ELF_PHOFF 32			/* Elf64_Ehdr: e_phoff */
#define ELF_PHENTSIZE 54		/* e_phentsize, e_phnum */
#define ELF_PHENT 56			/* sizeof(Elf64_Phdr) */

/* Set once before the program runs (start.c), read under the fs lock. */
static struct cubi_proc_image prog;
static char exe[EXE_MAX];
/* The program's file in the tree (held), the directory and name it was
 * found by (held); NULL: none. fs lock held. */
static struct cubi_rnode *exe_node, *exe_dir;
static char exe_name[CUBI_NAME_MAX + 1];
static size_t exe_len;

/* True when file n is the program pi describes: an ELF whose program
 * headers are the ones it runs with (fs lock held). */
static bool is_program(struct cubi_rnode *n, const struct cubi_proc_image *pi)
{
	unsigned char h[64], ph[ELF_PHENT];
	uint64_t phoff;
	uint16_t ent[2];

	if (!pi->phdr || cubi_ramfs_read(n, h, sizeof(h), 0) != (long)sizeof(h) ||
	    cub_memcmp(h, "\177ELF\2\1", 6) != 0)
		return false;
	cub_memcpy(&phoff, h + ELF_PHOFF, sizeof(phoff));
	cub_memcpy(ent, h + ELF_PHENTSIZE, sizeof(ent));
	if (ent[0] != ELF_PHENT || ent[1] != pi->phnum)
		return false;
	for (unsigned i = 0; i < pi->phnum; i++)
		if (cubi_ramfs_read(n, ph, ELF_PHENT, phoff + i * ELF_PHENT) != ELF_PHENT ||
		    cub_memcmp(ph, (const void *)(pi->phdr + i * ELF_PHENT), ELF_PHENT) != 0)
			return false;
	return true;
}

/* Finds the program's file at exe, if the tree has it (fs lock held). */
static void find_exe(const struct cubi_proc_image *pi)
{
	struct cubi_rnode *n;
	struct cubi_walk w;

	if (!exe[0] || cubi_path_walk_how(cubi_ramfs_root(), exe, CUBI_WALK_FOLLOW, &w) ||
	    w.node || w.file || !w.len || w.len > CUBI_NAME_MAX ||
	    cubi_ramfs_lookup(w.dir, w.name, w.len, &n) || !is_program(n, pi))
		return;
	cubi_ramfs_get(n);
	cubi_ramfs_get(w.dir);
	exe_node = n;
	exe_dir = w.dir;
	cub_memcpy(exe_name, w.name, w.len);
	exe_name[w.len] = '\0';
	exe_len = w.len;
}

void cubi_procfs_exe_forget(void)
{
	exe_node = exe_dir = NULL;
}

void cubi_procfs_set_program(const struct cubi_proc_image *pi)
{
	prog = *pi;
	exe[0] = '\0';
	if (pi->exe[0] && pi->exe[0] != '/')
		cub_strlcpy(exe, "/", sizeof(exe));
	if (pi->exe[0])
		cub_strlcpy(exe + cub_strlen(exe), pi->exe, sizeof(exe) - cub_strlen(exe));
	prog.exe = exe;
	cubi_fs_lock();
	if (exe_node) {		/* a program before this one (tests) */
		cubi_ramfs_put(exe_node);
		cubi_ramfs_put(exe_dir);
		exe_node = exe_dir = NULL;
	}
	find_exe(pi);
	cubi_fs_unlock();
}

const char *cubi_procfs_exe(void)
{
	return exe;
}

/* Following exe: the program's file, if the tree has it. */
static int exe_follow(struct cubi_rnode *link, uint64_t arg, struct cubi_walk *w)
{
	(void)link, (void)arg;
	if (!exe_node)
		return -CUB_ENOENT;	/* dangling: no file is the program */
	w->node = exe_node;
	w->dir = exe_dir;
	w->name = exe_name;
	w->len = exe_len;
	return 0;
}

/* Following cwd: the working directory, whatever its path now. */
static int cwd_follow(struct cubi_rnode *link, uint64_t arg, struct cubi_walk *w)
{
	(void)link, (void)arg;
	w->node = cubi_fs_cwd ? cubi_fs_cwd : cubi_ramfs_root();
	w->dir = NULL;
	w->name = "";
	w->len = 0;
	return 0;
}

static const struct cubi_rsynth exe_link = { .follow = exe_follow };
static const struct cubi_rsynth cwd_link = { .follow = cwd_follow };

void cubi_procfs_pid_refresh(struct cubi_rnode *dir, uint64_t arg)
{
	struct cubi_pbuf b = { NULL, 0, 0, false };

	(void)arg;
	if (exe_node)
		cubi_procfs_path(&b, exe_node, exe_dir, exe_name, exe_len);
	else
		cubi_pbuf_put(&b, exe, cub_strlen(exe));
	if (!b.oom && b.len)
		cubi_procfs_set_magic(dir, "exe", b.p, b.len, &exe_link, 0);
	b.len = 0;
	cubi_procfs_path(&b, cubi_fs_cwd ? cubi_fs_cwd : cubi_ramfs_root(), NULL, "", 0);
	if (!b.oom && b.len)
		cubi_procfs_set_magic(dir, "cwd", b.p, b.len, &cwd_link, 0);
	cubi_pbuf_free(&b);
}

/* A run of the program's memory, if it is still mapped. */
static void user_bytes(struct cubi_pbuf *b, uintptr_t start, uintptr_t end)
{
	if (end > start && cubi_user_readable(start, end - start))
		cubi_pbuf_put(b, (const void *)start, end - start);
}

void cubi_procfs_cmdline(struct cubi_pbuf *b, int tid)
{
	(void)tid;
	user_bytes(b, prog.arg_start, prog.arg_end);
}

void cubi_procfs_environ(struct cubi_pbuf *b, int tid)
{
	(void)tid;
	user_bytes(b, prog.env_start, prog.env_end);
}

/* Thread tid's name (tid 0: the process's, its first thread's): what
 * prctl(PR_SET_NAME) set, else exe's last component; at most 15 bytes. */
static void put_comm(struct cubi_pbuf *b, int tid)
{
	char name[16];
	unsigned long irq = cub_arch_irq_save();	/* t stays alive */

	cubi_thread_name(cubi_thread_by_tid(tid ? tid : 1), name);
	cub_arch_irq_restore(irq);
	cubi_pbuf_put(b, name, cub_strnlen(name, COMM_MAX));
}

void cubi_procfs_comm(struct cubi_pbuf *b, int tid)
{
	put_comm(b, tid);
	cubi_pbuf_put(b, "\n", 1);
}

/* What status and stat tell of one thread (tid 0: the process, whose
 * signal state is its first thread's). */
struct thread_view {
	int tid;
	bool alive;
	char state;		/* R: the reader itself, else S */
	uint64_t sigmask, pending;
	int nthreads;
	size_t vm_bytes, rss_bytes;
	uint64_t user_ns, sys_ns;	/* CPU time (cputime.c) */
};

static void view_thread(int tid, struct thread_view *v)
{
	struct cubi_thread *me = cubi_thread_current(), *t;
	unsigned long irq;
	int n, *tids = cubi_procfs_tids(&n);

	cub_free(tids);
	*v = (struct thread_view){ .tid = tid ? tid : 1, .nthreads = n, .state = 'S' };
	irq = cub_arch_irq_save();
	if ((t = cubi_thread_by_tid(v->tid)) != NULL) {
		v->alive = true;
		v->sigmask = t->sigmask;
		v->pending = t->pending.bits;
		if (tid)
			cubi_cputime_usage(t, &v->user_ns, &v->sys_ns);
	}
	if (!tid)
		cubi_cputime_usage(NULL, &v->user_ns, &v->sys_ns);
	if (t == me || (!tid && me))
		v->state = 'R';
	cub_arch_irq_restore(irq);
}

/* Adds the mappings' sizes to v (all of a mapping is resident: mm.c
 * allocates eagerly, but for PROT_NONE pages). */
static void view_memory(struct thread_view *v)
{
	struct cubi_vma_info *m = cub_malloc(MAX_MAPS * sizeof(*m));
	uintptr_t lo, hi;
	size_t n;

	if (!m)
		return;
	n = CUB_MIN(cubi_mm_snapshot(m, MAX_MAPS, &lo, &hi), (size_t)MAX_MAPS);
	for (size_t i = 0; i < n; i++)
		v->vm_bytes += m[i].end - m[i].start;
	v->rss_bytes = cubi_mm_resident * CUB_PAGE_SIZE;
	cub_free(m);
}

/* The supplementary groups, as Linux lists them: separated by spaces,
 * in setgroups' sorted order, then the line's end. */
static void put_groups(struct cubi_pbuf *b)
{
	uint32_t g[CUBI_GROUPS_MAX];
	unsigned n = cubi_ids_groups(g);

	for (unsigned i = 0; i < n; i++)
		cubi_pbuf_printf(b, i ? " %u" : "%u", g[i]);
	cubi_pbuf_printf(b, "\n");
}

void cubi_procfs_status(struct cubi_pbuf *b, int tid)
{
	struct thread_view v;

	view_thread(tid, &v);
	view_memory(&v);
	cubi_pbuf_printf(b, "Name:\t");
	put_comm(b, tid);
	cubi_pbuf_printf(b, "\nUmask:\t0%u%u%u\nState:\t%s\nTgid:\t1\nNgid:\t0\n"
			 "Pid:\t%d\nPPid:\t0\nTracerPid:\t0\n"
			 "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t%d\nGroups:\t",
			 (cubi_fs_umask >> 6) & 7, (cubi_fs_umask >> 3) & 7, cubi_fs_umask & 7,
			 v.state == 'R' ? "R (running)" : "S (sleeping)", v.tid, CUBI_FD_MAX);
	put_groups(b);
	cubi_pbuf_printf(b, "VmPeak:\t%8zu kB\nVmSize:\t%8zu kB\nVmRSS:\t%8zu kB\n"
			 "Threads:\t%d\nSigQ:\t0/%d\n",
			 v.vm_bytes / 1024, v.vm_bytes / 1024, v.rss_bytes / 1024,
			 v.nthreads, 63);
	cubi_pbuf_printf(b, "SigPnd:\t%016lx\nShdPnd:\t%016lx\nSigBlk:\t%016lx\n"
			 "SigIgn:\t%016lx\nSigCgt:\t%016lx\n",
			 (unsigned long)v.pending, 0ul, (unsigned long)v.sigmask, 0ul, 0ul);
	cubi_pbuf_printf(b, "CapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\n"
			 "CapEff:\t000001ffffffffff\nCapBnd:\t000001ffffffffff\n"
			 "CapAmb:\t0000000000000000\nCpus_allowed:\t1\n"
			 "Cpus_allowed_list:\t0\nvoluntary_ctxt_switches:\t0\n"
			 "nonvoluntary_ctxt_switches:\t0\n");
}

/* The one-line stat: Linux's 52 fields, those not kept 0. */
void cubi_procfs_stat(struct cubi_pbuf *b, int tid)
{
	struct thread_view v;
	uintptr_t lo, hi;

	view_thread(tid, &v);
	view_memory(&v);
	cubi_mm_snapshot(NULL, 0, &lo, &hi);
	cubi_pbuf_printf(b, "%d (", v.tid);
	put_comm(b, tid);
	/* 3 state .. 19 nice; 14 utime, 15 stime in USER_HZ (100) ticks */
	cubi_pbuf_printf(b, ") %c 0 1 1 0 -1 4194560 0 0 0 0 %lu %lu 0 0 20 0 ", v.state,
			 (unsigned long)(v.user_ns / 10000000), (unsigned long)(v.sys_ns / 10000000));
	/* 20 num_threads .. 28 startstack */
	cubi_pbuf_printf(b, "%d 0 0 %zu %zu 18446744073709551615 0 0 %lu ",
			 v.nthreads, v.vm_bytes, v.rss_bytes / CUB_PAGE_SIZE,
			 (unsigned long)prog.stack_hi);
	/* 29 kstkesp .. 44 cguest_time (31-34: signals) */
	cubi_pbuf_printf(b, "0 0 %lu %lu 0 0 0 0 0 17 0 0 0 0 0 0 ",
			 (unsigned long)v.pending, (unsigned long)v.sigmask);
	/* 45 start_data .. 52 exit_code */
	cubi_pbuf_printf(b, "0 0 %lu %lu %lu %lu %lu 0\n", (unsigned long)lo,
			 (unsigned long)prog.arg_start, (unsigned long)prog.arg_end,
			 (unsigned long)prog.env_start, (unsigned long)prog.env_end);
}

/* The name maps shows for a mapping. */
static const char *map_name(const struct cubi_vma_info *m, uintptr_t lo, uintptr_t hi)
{
	if (m->start >= prog.stack_lo && m->end <= prog.stack_hi && prog.stack_hi)
		return "[stack]";
	if (m->start >= lo && m->end <= hi && hi > lo)
		return "[heap]";
	return "";
}

/* One maps line: "start-end perms offset dev inode" and a name padded
 * to its column, as Linux prints them; a file mapping's shows its
 * offset, inode and the file's path (d_path's), 's' when shared. */
static void map_line(struct cubi_pbuf *b, const struct cubi_vma_info *m, uintptr_t end,
		     const char *name)
{
	size_t before = b->len, col;
	struct cubi_rstat st = { 0 };

	if (m->node)
		cubi_ramfs_stat(m->node, &st);
	cubi_pbuf_printf(b, "%08lx-%08lx %c%c%c%c %08lx 00:%02x %lu",
			 (unsigned long)m->start, (unsigned long)end,
			 m->prot & CUB_PROT_READ ? 'r' : '-', m->prot & CUB_PROT_WRITE ? 'w' : '-',
			 m->prot & CUB_PROT_EXEC ? 'x' : '-', m->shared ? 's' : 'p',
			 (unsigned long)m->offset, m->node ? 1u : 0u, (unsigned long)st.ino);
	col = b->len - before;
	if (name[0] || m->node)
		cubi_pbuf_printf(b, "%*s", (int)(col < MAPS_NAME_COLUMN ? MAPS_NAME_COLUMN - col : 1),
				 "");
	if (m->node)
		cubi_procfs_path(b, m->node, NULL, "", 0);
	else
		cubi_pbuf_put(b, name, cub_strlen(name));
	cubi_pbuf_put(b, "\n", 1);
}

/* Does m continue prev as one Linux vma would (shown as one line)? */
static bool continues(const struct cubi_vma_info *prev, const struct cubi_vma_info *m)
{
	return m->start == prev->end && m->prot == prev->prot && m->node == prev->node &&
	       m->shared == prev->shared &&
	       (!m->node || m->offset == prev->offset + (prev->end - prev->start));
}

/* Mappings mm.c split (mprotect of a part and back) are shown merged
 * when they touch and agree, as Linux merges them. */
void cubi_procfs_maps(struct cubi_pbuf *b, int tid)
{
	struct cubi_vma_info *m = cub_malloc(MAX_MAPS * sizeof(*m));
	uintptr_t lo, hi;
	size_t n;

	(void)tid;
	if (!m) {
		b->oom = true;
		return;
	}
	n = CUB_MIN(cubi_mm_snapshot(m, MAX_MAPS, &lo, &hi), (size_t)MAX_MAPS);
	for (size_t i = 0; i < n;) {
		const char *name = map_name(&m[i], lo, hi);
		size_t j = i + 1;

		while (j < n && continues(&m[j - 1], &m[j]) &&
		       cub_strcmp(map_name(&m[j], lo, hi), name) == 0)
			j++;
		map_line(b, &m[i], m[j - 1].end, name);
		i = j;
	}
	cub_free(m);
}
