/*
 * procfs_gen.c - the system's files in /proc: meminfo (from the frame
 * allocator and the heap), cpuinfo, uptime, loadavg, version, mounts,
 * filesystems, sys/kernel/{osrelease,hostname,ostype,pid_max} and
 * sys/vm/overcommit_memory and sys/fs/pipe-max-size, in Linux's formats. Each writes its whole
 * text when the file is opened (procfs.c); tid is unused here.
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/mem.h>

#include "procfs_impl.h"

#define KB(frames) ((frames) * (CUB_PAGE_SIZE / 1024))

/* One "Name:   value kB" line, aligned as Linux's show_val_kb. */
static void kb_line(struct cubi_pbuf *b, const char *name, size_t kb)
{
	cubi_pbuf_printf(b, "%-15s %8zu kB\n", name, kb);
}

/*
 * Every RAM page belongs to the frame allocator; the heap takes its
 * areas from it. Free: frames nobody has; available: those plus the
 * heap's free bytes, which a program's next allocations reuse before
 * taking frames. Nothing is cached or swapped.
 */
void cubi_procfs_meminfo(struct cubi_pbuf *b, int tid)
{
	static const char *const zero[] = {
		"Buffers:", "Cached:", "SwapCached:", "Active:", "Inactive:",
		"SwapTotal:", "SwapFree:", "Dirty:", "Shmem:",
	};
	struct cub_frame_stats fs;
	struct cub_heap_stats hs;

	(void)tid;
	cub_frame_stats(&fs);
	cub_heap_stats(&hs);
	kb_line(b, "MemTotal:", KB(fs.total));
	kb_line(b, "MemFree:", KB(fs.free));
	kb_line(b, "MemAvailable:", KB(fs.free) + hs.free / 1024);
	for (size_t i = 0; i < CUB_ARRAY_SIZE(zero); i++)
		kb_line(b, zero[i], 0);
}

/* No platform hook tells the processor's make: a generic description
 * of the one CPU cubrt runs on (flags omitted, as allowed). */
void cubi_procfs_cpuinfo(struct cubi_pbuf *b, int tid)
{
	(void)tid;
	cubi_pbuf_printf(b, "processor\t: 0\n"
			 "vendor_id\t: unknown\n"
			 "cpu family\t: 6\n"
			 "model\t\t: 0\n"
			 "model name\t: x86-64 processor (cubrt)\n"
			 "stepping\t: 0\n"
			 "physical id\t: 0\n"
			 "siblings\t: 1\n"
			 "core id\t\t: 0\n"
			 "cpu cores\t: 1\n"
			 "apicid\t\t: 0\n"
			 "fpu\t\t: yes\n"
			 "fpu_exception\t: yes\n"
			 "wp\t\t: yes\n"
			 "address sizes\t: 48 bits physical, 48 bits virtual\n"
			 "\n");
}

/* "seconds.hundredths" of a nanosecond count. */
static void seconds(struct cubi_pbuf *b, uint64_t ns)
{
	cubi_pbuf_printf(b, "%lu.%02lu", (unsigned long)(ns / 1000000000u),
			 (unsigned long)(ns / 10000000u % 100));
}

/* Uptime since boot; the idle time is not counted (0). */
void cubi_procfs_uptime(struct cubi_pbuf *b, int tid)
{
	(void)tid;
	seconds(b, cub_arch_clock_ns());
	cubi_pbuf_printf(b, " 0.00\n");
}

/* No load average is kept: 0, with the threads (one running: the
 * reader) and the newest tid. */
void cubi_procfs_loadavg(struct cubi_pbuf *b, int tid)
{
	int n, last = 1, *tids = cubi_procfs_tids(&n);

	(void)tid;
	for (int i = 0; i < n; i++)
		last = CUB_MAX(last, tids[i]);
	cubi_pbuf_printf(b, "0.00 0.00 0.00 1/%d %d\n", n ? n : 1, last);
	cub_free(tids);
}

void cubi_procfs_version(struct cubi_pbuf *b, int tid)
{
	(void)tid;
	cubi_pbuf_printf(b, "%s version %s (cubrt) %s\n", CUBI_UNAME_SYSNAME,
			 CUBI_UNAME_RELEASE, CUBI_UNAME_VERSION);
}

void cubi_procfs_mounts(struct cubi_pbuf *b, int tid)
{
	(void)tid;
	cubi_pbuf_printf(b, "rootfs / rootfs rw 0 0\n"
			 "proc /proc proc ro,nosuid,nodev,noexec 0 0\n");
}

void cubi_procfs_filesystems(struct cubi_pbuf *b, int tid)
{
	(void)tid;
	cubi_pbuf_printf(b, "nodev\trootfs\nnodev\tproc\n");
}

void cubi_procfs_osrelease(struct cubi_pbuf *b, int tid)
{
	(void)tid;
	cubi_pbuf_printf(b, "%s\n", CUBI_UNAME_RELEASE);
}

void cubi_procfs_hostname(struct cubi_pbuf *b, int tid)
{
	char name[65];

	(void)tid;
	cubi_hostname(name);
	cubi_pbuf_printf(b, "%s\n", name);
}

void cubi_procfs_ostype(struct cubi_pbuf *b, int tid)
{
	(void)tid;
	cubi_pbuf_printf(b, "%s\n", CUBI_UNAME_SYSNAME);
}

/* Linux's limit on 64-bit machines; tids here are 31-bit counters. */
void cubi_procfs_pid_max(struct cubi_pbuf *b, int tid)
{
	(void)tid;
	cubi_pbuf_printf(b, "4194304\n");
}

/* 2, "never overcommit": mmap takes every frame at once (mm.c), so it
 * fails when memory runs out rather than a later touch. */
void cubi_procfs_overcommit(struct cubi_pbuf *b, int tid)
{
	(void)tid;
	cubi_pbuf_printf(b, "2\n");
}

/* F_SETPIPE_SZ's limit (pipe_ring.c), Linux's default: Go's os tests
 * read this file (TestReadFileProc: a /proc file reads whole). */
void cubi_procfs_pipe_max(struct cubi_pbuf *b, int tid)
{
	(void)tid;
	cubi_pbuf_printf(b, "%u\n", cubi_pipe_max_size());
}
