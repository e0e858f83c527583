/*
 * kvlog.c - the store's table and its log (kvlog.h).
 *
 * The log: sector i of the disk holds record i: a 16-byte header (magic,
 * sequence number i + 1, key length, value length or TOMBSTONE, CRC-32
 * of the header's other fields and the bytes) followed by the key and
 * the value. A set or delete writes its record at the log's end and
 * flushes the disk before it changes the table, so an answered command
 * survives a power cut; a sector is written whole, so a cut mid-write
 * leaves at most that last record torn, and its CRC stops the replay
 * there. Replay reads records from sector 0 until one fails its checks
 * (magic, sequence, lengths, CRC): a zeroed disk is an empty store.
 *
 * The table: chained hashing (FNV-1a), 1024 buckets, an entry allocated
 * per key.
 *
 * Limits: no compaction (the log grows by a sector per change until the
 * disk is full: -CUB_ENOSPC).
 */
#include <cubrt/heap.h>
#include <cubrt/string.h>

#include "kvlog.h"

#define MAGIC 0x4b564c31u		/* "KVL1" */
#define TOMBSTONE 0xffffu
#define HDR 16
#define BUCKETS 1024
#define REPLAY_BATCH 64			/* sectors read at once */

_Static_assert(HDR + KV_KEY_MAX + KV_VAL_MAX <= CUB_BLK_SECTOR, "a record fits a sector");

struct entry {
	struct entry *next;
	uint16_t klen, vlen;
	char data[];			/* key, then value */
};

static struct {
	struct cub_blk *dev;
	uint64_t head, cap;		/* next record's sector, sectors */
	struct entry *bucket[BUCKETS];
	struct kv_stats st;
} kv;

static uint32_t crc32(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc >> 1 ^ (0xedb88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

static void put32(uint8_t *p, uint32_t v)
{
	cub_memcpy(p, &v, 4);		/* the disk's format is x86's order */
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	cub_memcpy(&v, p, 4);
	return v;
}

static uint32_t hash(const char *key, size_t klen)
{
	uint32_t h = 2166136261u;

	while (klen--)
		h = (h ^ (uint8_t)*key++) * 16777619u;
	return h % BUCKETS;
}

/* The link that points at key's entry (or at NULL where it would go). */
static struct entry **find(const char *key, size_t klen)
{
	struct entry **e = &kv.bucket[hash(key, klen)];

	while (*e && ((*e)->klen != klen || cub_memcmp((*e)->data, key, klen)))
		e = &(*e)->next;
	return e;
}

/* The table change of a record (vlen TOMBSTONE: delete). */
static int apply(const char *key, size_t klen, const char *val, size_t vlen)
{
	struct entry **at = find(key, klen), *old = *at, *e;

	if (vlen == TOMBSTONE) {
		if (!old)
			return -CUB_ENOENT;
		*at = old->next;
		cub_free(old);
		kv.st.keys--;
		return 0;
	}
	if (!(e = cub_malloc(sizeof(*e) + klen + vlen)))
		return -CUB_ENOMEM;
	e->klen = (uint16_t)klen;
	e->vlen = (uint16_t)vlen;
	cub_memcpy(e->data, key, klen);
	cub_memcpy(e->data + klen, val, vlen);
	e->next = old ? old->next : NULL;
	*at = e;
	if (old)
		cub_free(old);
	else
		kv.st.keys++;
	return 0;
}

/* Builds record seq in s; returns its CRC field's value. */
static void encode(uint8_t *s, uint32_t seq, const char *key, size_t klen, const char *val,
		   size_t vlen)
{
	size_t n = klen + (vlen == TOMBSTONE ? 0 : vlen);

	cub_memset(s, 0, CUB_BLK_SECTOR);
	put32(s, MAGIC);
	put32(s + 4, seq);
	put32(s + 8, (uint32_t)klen | (uint32_t)vlen << 16);
	cub_memcpy(s + HDR, key, klen);
	if (vlen != TOMBSTONE)
		cub_memcpy(s + HDR + klen, val, vlen);
	put32(s + 12, crc32(crc32(0, s, 12), s + HDR, n));
}

/* Takes record seq from sector s if it is whole: true. */
static bool decode(const uint8_t *s, uint32_t seq)
{
	uint32_t lens = get32(s + 8);
	size_t klen = lens & 0xffff, vlen = lens >> 16;
	size_t n = klen + (vlen == TOMBSTONE ? 0 : vlen);

	if (get32(s) != MAGIC || get32(s + 4) != seq || klen == 0 || klen > KV_KEY_MAX ||
	    (vlen != TOMBSTONE && vlen > KV_VAL_MAX) ||
	    get32(s + 12) != crc32(crc32(0, s, 12), s + HDR, n))
		return false;
	(void)apply((const char *)s + HDR, klen, (const char *)s + HDR + klen, vlen);
	return true;
}

int kv_open(struct cub_blk *dev)
{
	static uint8_t batch[REPLAY_BATCH * CUB_BLK_SECTOR];
	struct cub_blk_info info;
	int rc;

	kv.dev = dev;
	if (!dev)
		return 0;
	if ((rc = cub_blk_info(dev, &info)))
		return rc;
	kv.cap = info.sectors;
	while (kv.head < kv.cap) {
		uint32_t n = (uint32_t)CUB_MIN((uint64_t)REPLAY_BATCH, kv.cap - kv.head);

		if ((rc = cub_blk_read(dev, kv.head, batch, n)))
			return rc;
		for (uint32_t i = 0; i < n; i++) {
			if (!decode(batch + i * CUB_BLK_SECTOR, (uint32_t)kv.head + 1))
				return 0;
			kv.head++;
			kv.st.replayed++;
		}
	}
	return 0;
}

/* Appends the record of a change to the log, durably. */
static int append(const char *key, size_t klen, const char *val, size_t vlen)
{
	static uint8_t s[CUB_BLK_SECTOR];
	int rc;

	if (!kv.dev)
		return 0;
	if (kv.head >= kv.cap)
		return -CUB_ENOSPC;
	encode(s, (uint32_t)kv.head + 1, key, klen, val, vlen);
	if ((rc = cub_blk_write(kv.dev, kv.head, s, 1)) || (rc = cub_blk_flush(kv.dev)))
		return rc;
	kv.head++;
	return 0;
}

int kv_set(const char *key, size_t klen, const char *val, size_t vlen)
{
	int rc;

	if (klen == 0 || klen > KV_KEY_MAX || vlen > KV_VAL_MAX)
		return -CUB_EINVAL;
	if ((rc = append(key, klen, val, vlen)))
		return rc;
	return apply(key, klen, val, vlen);
}

int kv_del(const char *key, size_t klen)
{
	int rc;

	if (klen == 0 || klen > KV_KEY_MAX)
		return -CUB_EINVAL;
	if (!*find(key, klen))
		return -CUB_ENOENT;
	if ((rc = append(key, klen, NULL, TOMBSTONE)))
		return rc;
	return apply(key, klen, NULL, TOMBSTONE);
}

int kv_get(const char *key, size_t klen, char *val, size_t cap)
{
	struct entry *e;

	if (klen == 0 || klen > KV_KEY_MAX || cap < KV_VAL_MAX)
		return -CUB_EINVAL;
	if (!(e = *find(key, klen)))
		return -CUB_ENOENT;
	cub_memcpy(val, e->data + e->klen, e->vlen);
	return e->vlen;
}

void kv_stats(struct kv_stats *st)
{
	*st = kv.st;
	st->log_used = kv.head;
	st->log_cap = kv.cap;
}
