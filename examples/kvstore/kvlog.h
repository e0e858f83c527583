/*
 * kvlog.h - the key-value store's data: an in-memory table whose every
 * change is first appended to a log on disk, one record per sector, and
 * replayed from the disk at boot (kvlog.c).
 *
 * Locking: none inside; the caller serialises every call (kvstore.c holds
 * one mutex around each command).
 */
#ifndef KVLOG_H
#define KVLOG_H

#include <cubrt/base.h>
#include <cubrt/blk.h>

#define KV_KEY_MAX 64			/* bytes of a key (no spaces) */
#define KV_VAL_MAX 400			/* bytes of a value */

struct kv_stats {
	unsigned long keys;		/* live keys */
	uint64_t log_used, log_cap;	/* sectors: records, room */
	unsigned long replayed;		/* records read back at boot */
};

/* Opens the store on dev (NULL: in memory only, nothing survives) and
 * replays its log. 0, or a cub_blk error. Contexts: task. */
int kv_open(struct cub_blk *dev);

/* Sets key to val (durable on return when on disk): 0, -CUB_EINVAL
 * (lengths: key 1..KV_KEY_MAX, val up to KV_VAL_MAX), -CUB_ENOSPC (the
 * log is full), -CUB_ENOMEM, or the disk's error. */
int kv_set(const char *key, size_t klen, const char *val, size_t vlen);

/* Deletes key: 0, -CUB_ENOENT (no such key), -CUB_EINVAL, -CUB_ENOSPC,
 * or the disk's error. */
int kv_del(const char *key, size_t klen);

/* The value of key: its length (copied into val, cap >= KV_VAL_MAX), or
 * -CUB_ENOENT / -CUB_EINVAL. */
int kv_get(const char *key, size_t klen, char *val, size_t cap);

void kv_stats(struct kv_stats *st);

#endif
