/*
 * procfs_impl.h - what the /proc files share (procfs.c: the tree and
 * open files; procfs_fd.c: /proc/1/fd and paths of nodes; procfs_gen.c:
 * the system's files; procfs_pid.c: the process's and threads' files).
 * Everything here runs under the fs lock.
 */
#ifndef CUBRT_SHIM_PROCFS_IMPL_H
#define CUBRT_SHIM_PROCFS_IMPL_H

#include "fs_impl.h"
#include "procfs.h"

/* Text being generated: grows on the heap; oom once an allocation
 * failed (the open then fails with -ENOMEM: never a truncated file). */
struct cubi_pbuf {
	char *p;
	size_t len, cap;
	bool oom;
};
void cubi_pbuf_put(struct cubi_pbuf *b, const void *s, size_t n);
void cubi_pbuf_printf(struct cubi_pbuf *b, const char *fmt, ...) CUB_PRINTF(2, 3);
void cubi_pbuf_free(struct cubi_pbuf *b);

/* A generated file's text, for thread tid (0: the process's file). */
typedef void (*cubi_procfs_gen)(struct cubi_pbuf *b, int tid);

/* procfs_gen.c: the system's files. */
void cubi_procfs_meminfo(struct cubi_pbuf *b, int tid);
void cubi_procfs_cpuinfo(struct cubi_pbuf *b, int tid);
void cubi_procfs_uptime(struct cubi_pbuf *b, int tid);
void cubi_procfs_loadavg(struct cubi_pbuf *b, int tid);
void cubi_procfs_version(struct cubi_pbuf *b, int tid);
void cubi_procfs_mounts(struct cubi_pbuf *b, int tid);
void cubi_procfs_filesystems(struct cubi_pbuf *b, int tid);
void cubi_procfs_osrelease(struct cubi_pbuf *b, int tid);
void cubi_procfs_hostname(struct cubi_pbuf *b, int tid);
void cubi_procfs_ostype(struct cubi_pbuf *b, int tid);
void cubi_procfs_pid_max(struct cubi_pbuf *b, int tid);
void cubi_procfs_overcommit(struct cubi_pbuf *b, int tid);
void cubi_procfs_pipe_max(struct cubi_pbuf *b, int tid);
/* procfs_net.c: /proc/net's files. */
void cubi_procfs_net_dev(struct cubi_pbuf *b, int tid);
void cubi_procfs_net_route(struct cubi_pbuf *b, int tid);

/* procfs_pid.c: the process's files (and, with a tid, a thread's). */
void cubi_procfs_cmdline(struct cubi_pbuf *b, int tid);
void cubi_procfs_environ(struct cubi_pbuf *b, int tid);
void cubi_procfs_comm(struct cubi_pbuf *b, int tid);
void cubi_procfs_status(struct cubi_pbuf *b, int tid);
void cubi_procfs_stat(struct cubi_pbuf *b, int tid);
void cubi_procfs_maps(struct cubi_pbuf *b, int tid);
/* The program's path as it was started ("" before one started): what
 * /proc/1/exe shows when the program is no file of the tree. */
const char *cubi_procfs_exe(void);
/* /proc/1's refresh hook: the magic links exe (the program's file, when
 * the tree has it: cubi_procfs_set_program) and cwd. */
void cubi_procfs_pid_refresh(struct cubi_rnode *dir, uint64_t arg);
/* Forgets the program's file without a put (populate: the tree is new,
 * the node went with the old one). */
void cubi_procfs_exe_forget(void);
/* The live threads' tids in a heap array (free it; NULL: no memory),
 * *n of them. */
int *cubi_procfs_tids(int *n);

/* procfs_fd.c: /proc/1/fd's refresh hook; the current path of a node
 * (its name now, cubi_ramfs_name_of), appended to b ("/a/b", " (deleted)"
 * after a removed file's last name); (dir, name), what a file was opened
 * by, serve a node with no name (a removed directory). */
void cubi_procfs_fd_refresh(struct cubi_rnode *dir, uint64_t arg);
void cubi_procfs_path(struct cubi_pbuf *b, struct cubi_rnode *n,
		      struct cubi_rnode *dir, const char *name, size_t len);

/* procfs.c: makes `name` in sealed directory dir a link to target
 * (replacing what is there unless it is that link already; refresh
 * hooks and populate only); set_magic: a magic link, sealed with synth
 * (its follow op) and arg. */
int cubi_procfs_set_link(struct cubi_rnode *dir, const char *name,
			 const char *target, size_t tlen);
int cubi_procfs_set_magic(struct cubi_rnode *dir, const char *name,
			  const char *target, size_t tlen,
			  const struct cubi_rsynth *synth, uint64_t arg);
/* cubi_file_where (fs_impl.h) for the open generated files. */
bool cubi_procfs_where(struct cubi_file *f, struct cubi_rnode **node,
		       struct cubi_rnode **dir, const char **name, size_t *len);

#endif
