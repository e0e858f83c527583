/*
 * persist.h - a directory of a Linux program's tree that survives a
 * reboot (docs/shim.md, "Files that survive a reboot"; the on-disk
 * format: docs/blk.md).
 *
 * CUBRT_PERSIST=vda:/data in the program's environment names a disk and
 * a directory. The directory lives in ramfs like any other; it is
 * restored from the disk before the program's first instruction and
 * written to it as a whole (a cpio archive, cpio_write.c) at sync
 * points: fsync/fdatasync of a file or directory inside it, sync(),
 * syncfs(), and the program's exit. The disk holds two slots, A and B;
 * a snapshot goes to the slot that does not hold the newest valid
 * generation and becomes the newest only once it is flushed, so a crash
 * at any point leaves the previous snapshot.
 *
 * Three parts:
 *  - persist_cfg.c: the variable's parser (pure, host-tested);
 *  - persist_store.c: the two slots on a disk (headers, CRC-32,
 *    choosing, writing), over src/blk, knowing nothing of files;
 *  - persist.c: the shim's side (restore at start, the sync points,
 *    the disk kept from /dev/vda writers).
 */
#ifndef CUBRT_SHIM_PERSIST_H
#define CUBRT_SHIM_PERSIST_H

#include <cubrt/blk.h>

#include "fd.h"

#define CUBI_PERSIST_VAR "CUBRT_PERSIST"
#define CUBI_PERSIST_PATH_MAX 255	/* bytes of the directory's path */

/* ---------------------------------------------------------- persist_cfg.c */

struct cubi_persistcfg {
	unsigned disk;			/* 0 = vda, 1 = vdb, ... */
	char disk_name[4];		/* "vda" */
	char path[CUBI_PERSIST_PATH_MAX + 1];	/* "/data", NUL-terminated */
};

/*
 * Parses a CUBRT_PERSIST value "DISK:PATH": DISK vda..vdd (a disk
 * cub_blk_open may know), PATH absolute, 2..CUBI_PERSIST_PATH_MAX bytes,
 * components separated by single slashes, no trailing slash, no "." or
 * "..", not "/" itself and not inside /proc or /dev (generated trees).
 * 0 and *c, or -CUB_EINVAL (NULL or anything else). Contexts: any.
 */
int cubi_persistcfg_parse(const char *v, struct cubi_persistcfg *c);

/* The value of CUBRT_PERSIST in envp (NULL-terminated), or NULL. */
const char *cubi_persistcfg_find(char *const envp[]);

/* -------------------------------------------------------- persist_store.c */

/* The newest valid snapshot on a disk, as cubi_pstore_open found it and
 * cubi_pstore_save keeps it. The caller serialises calls on one store. */
struct cubi_pstore {
	struct cub_blk *dev;
	uint64_t slot_sectors;		/* sectors a slot spans, its header
					 * included: half the disk */
	uint64_t gen;			/* newest valid generation; 0: blank */
	int slot;			/* the slot holding it (0 A, 1 B);
					 * -1: none */
	uint64_t len;			/* its payload's bytes */
	uint32_t crc;			/* its payload's CRC-32 */
};

#define CUBI_PSTORE_MIN_SECTORS 4	/* two slots of a header and a sector */

/* CRC-32 (IEEE 802.3, reflected 0xEDB88320, as zlib's crc32(0, p, n)). */
uint32_t cubi_crc32(const void *p, size_t n);

/*
 * Reads both slots of dev and picks the valid one with the highest
 * generation (a slot is valid when its header's magic, slot number and
 * CRC check out, its length fits and its payload's CRC matches). 0 with
 * *s filled and, when a slot was valid, *payload (cub_malloc'd, the
 * caller frees it) and *len; a disk with no valid slot (blank, or both
 * torn) gives *payload NULL, *len 0, s->gen 0. -CUB_EINVAL: NULL
 * arguments or a disk under CUBI_PSTORE_MIN_SECTORS; -CUB_EROFS: a
 * read-only disk; -CUB_EIO: a read failed; -CUB_ENOMEM. Contexts: task.
 */
int cubi_pstore_open(struct cubi_pstore *s, struct cub_blk *dev, void **payload,
		     size_t *len);

/* The bytes a slot's payload may have: (slot_sectors - 1) * 512. */
uint64_t cubi_pstore_capacity(const struct cubi_pstore *s);

/*
 * Writes payload (len bytes) as generation s->gen + 1 into the slot not
 * holding the newest (A when there is none): the payload's sectors, a
 * flush, the header, a flush; then it is the newest (*s says so).
 * -CUB_ENOSPC when len exceeds the capacity (nothing written);
 * -CUB_EIO when a write or flush failed (the slot is then torn or
 * stale and *s still names the previous snapshot, which is untouched).
 * Contexts: task.
 */
int cubi_pstore_save(struct cubi_pstore *s, const void *payload, size_t len);

/* ------------------------------------------------------------ persist.c */

/*
 * Sets persistence up for a program with environment envp, once, before
 * it runs: parses CUBRT_PERSIST, opens the disk, restores the newest
 * snapshot into the directory (made, with its missing parents, if
 * absent) and prints one console line: what was restored, that the disk
 * was blank, or why there is no persistence (a bad value, no such disk,
 * a read-only or too small disk, a read error, an archive that does not
 * unpack). Without the variable nothing happens. Contexts: task, no lock
 * held.
 */
void cubi_persist_up(char *const envp[]);

/* True when disk i holds the persisted directory: /dev/vdX refuses
 * opening it for writing (-CUB_EBUSY; blkdev.c). Contexts: any. */
bool cubi_persist_owns(unsigned disk);

/*
 * Takes a snapshot when the directory's archive differs from the newest
 * on the disk: 0 (written, or nothing changed, or no persistence),
 * -CUB_ENOSPC (larger than a slot; nothing changed), -CUB_EIO (a disk
 * error, or the path is no longer a directory), -CUB_ENOMEM (no memory
 * for the archive). Contexts: task, no fs lock held.
 */
long cubi_persist_sync(void);

/* fsync/fdatasync's part: cubi_persist_sync when f's node is the
 * persisted directory or inside it, else 0. Contexts: task, no fs lock
 * held. */
long cubi_persist_fsync(struct cubi_file *f);

/* The program's exit: a last snapshot; a failure is told on the
 * console, as is a snapshot written. Contexts: task, no fs lock held. */
void cubi_persist_exit(void);

/* Forgets the persistence set up (host tests, before another
 * cubi_persist_up). */
void cubi_persist_reset(void);

#endif
