/*
 * persist_store.c - the two snapshot slots on a disk (persist.h is the
 * interface; docs/blk.md, "A persisted directory on a disk", has the
 * format for other tools).
 *
 * Layout: the disk's sectors are halved; slot A starts at sector 0,
 * slot B at sector S/2 (S the disk's sectors, rounded down). Each slot
 * is one header sector followed by the payload's sectors (the last one
 * zero-padded). The header, little-endian:
 *     0  8 bytes  magic "CUBPRST1"
 *     8  u32      version, 1
 *    12  u32      slot number, 0 (A) or 1 (B)
 *    16  u64      generation, from 1, one more each snapshot
 *    24  u64      payload length in bytes
 *    32  u32      CRC-32 of the payload
 *    36  u32      CRC-32 of bytes 0..35
 *    40..511      zero
 * A blank disk (zeros) has no valid slot: an empty directory.
 *
 * Crash safety: a snapshot overwrites only the slot that does not hold
 * the newest valid generation, writing the payload, flushing, then the
 * header, then flushing. Until that last flush the newest is still the
 * other slot's; a torn write (payload or header) fails its CRC and the
 * slot is ignored. So the disk always shows one whole snapshot, the
 * newest that was completely written.
 *
 * Memory: open allocates the payload it hands over (boot, not a
 * blocking path); save writes from the caller's buffer, through a
 * sector on the stack for the header and the payload's partial tail.
 *
 * Invariants: s->slot is -1 iff s->gen is 0; otherwise that slot's
 * header and payload on the disk hold generation s->gen, s->len bytes
 * with CRC s->crc, and the other slot holds a lower generation or none.
 * Locking: none here; the caller serialises (persist.c's mutex).
 */
#include <cubrt/heap.h>
#include <cubrt/string.h>

#include "persist.h"

#define SECTOR CUB_BLK_SECTOR
#define MAGIC "CUBPRST1"
#define VERSION 1
#define HDR_CRC_AT 36

struct hdr {
	int at;				/* the slot it was read from */
	uint32_t slot;
	uint64_t gen, len;
	uint32_t crc;
};

uint32_t cubi_crc32(const void *p, size_t n)
{
	static const uint32_t nib[16] = {
		0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190,
		0x6b6b51f4, 0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344,
		0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278,
		0xbdbdf21c,
	};
	const uint8_t *b = p;
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= b[i];
		c = (c >> 4) ^ nib[c & 15];
		c = (c >> 4) ^ nib[c & 15];
	}
	return ~c;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> 8 * i);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static uint64_t slot_lba(const struct cubi_pstore *s, int slot)
{
	return slot ? s->slot_sectors : 0;
}

uint64_t cubi_pstore_capacity(const struct cubi_pstore *s)
{
	return (s->slot_sectors - 1) * SECTOR;
}

static void encode(uint8_t sec[SECTOR], const struct hdr *h)
{
	cub_memset(sec, 0, SECTOR);
	cub_memcpy(sec, MAGIC, 8);
	put32(sec + 8, VERSION);
	put32(sec + 12, h->slot);
	put64(sec + 16, h->gen);
	put64(sec + 24, h->len);
	put32(sec + 32, h->crc);
	put32(sec + HDR_CRC_AT, cubi_crc32(sec, HDR_CRC_AT));
}

/* Slot `slot`'s header: 0 with *h when it checks out (the payload is
 * not read yet), 1 when it does not, -CUB_EIO. */
static int read_hdr(const struct cubi_pstore *s, int slot, struct hdr *h)
{
	uint8_t sec[SECTOR];

	if (cub_blk_read(s->dev, slot_lba(s, slot), sec, 1))
		return -CUB_EIO;
	if (cub_memcmp(sec, MAGIC, 8) || get32(sec + 8) != VERSION ||
	    get32(sec + HDR_CRC_AT) != cubi_crc32(sec, HDR_CRC_AT))
		return 1;
	h->at = slot;
	h->slot = get32(sec + 12);
	h->gen = get64(sec + 16);
	h->len = get64(sec + 24);
	h->crc = get32(sec + 32);
	if (h->slot != (uint32_t)slot || h->gen == 0 || h->len > cubi_pstore_capacity(s))
		return 1;
	return 0;
}

/* Slot h's payload into a new buffer: 0 and *out, 1 (its CRC does not
 * match: torn), -CUB_EIO, -CUB_ENOMEM. */
static int read_payload(const struct cubi_pstore *s, const struct hdr *h, void **out)
{
	uint64_t n = (h->len + SECTOR - 1) / SECTOR;
	uint8_t *buf = cub_malloc(n ? n * SECTOR : 1);

	if (!buf)
		return -CUB_ENOMEM;
	if (n && cub_blk_read(s->dev, slot_lba(s, h->at) + 1, buf, (uint32_t)n)) {
		cub_free(buf);
		return -CUB_EIO;
	}
	if (cubi_crc32(buf, (size_t)h->len) != h->crc) {
		cub_free(buf);
		return 1;
	}
	*out = buf;
	return 0;
}

/* Tries slot h (a valid header): 0 and the store set to it, 1 when its
 * payload is torn, or an error. */
static int take(struct cubi_pstore *s, const struct hdr *h, void **payload, size_t *len)
{
	int rc = read_payload(s, h, payload);

	if (rc)
		return rc;
	s->gen = h->gen;
	s->slot = h->at;
	s->len = h->len;
	s->crc = h->crc;
	*len = (size_t)h->len;
	return 0;
}

int cubi_pstore_open(struct cubi_pstore *s, struct cub_blk *dev, void **payload,
		     size_t *len)
{
	struct cub_blk_info info;
	struct hdr h[2];
	int ok[2], first;

	if (!s || !dev || !payload || !len || cub_blk_info(dev, &info))
		return -CUB_EINVAL;
	if (info.sectors < CUBI_PSTORE_MIN_SECTORS)
		return -CUB_EINVAL;
	if (info.read_only)
		return -CUB_EROFS;
	*s = (struct cubi_pstore){ dev, info.sectors / 2, 0, -1, 0, 0 };
	*payload = NULL;
	*len = 0;
	for (int i = 0; i < 2; i++)
		if ((ok[i] = read_hdr(s, i, &h[i])) < 0)
			return ok[i];
	/* The newer valid header first; the other if its payload is torn. */
	first = ok[0] == 0 && (ok[1] != 0 || h[0].gen >= h[1].gen) ? 0 : 1;
	for (int k = 0; k < 2; k++) {
		int i = k ? 1 - first : first, rc;

		if (ok[i] != 0)
			continue;
		if ((rc = take(s, &h[i], payload, len)) <= 0)
			return rc;
	}
	return 0;
}

/* The payload's sectors at lba: the whole ones straight from the
 * buffer, the partial tail through a zeroed sector. */
static int write_payload(struct cubi_pstore *s, uint64_t lba, const uint8_t *p, size_t len)
{
	size_t whole = len / SECTOR, tail = len % SECTOR;
	uint8_t sec[SECTOR];

	if (whole && cub_blk_write(s->dev, lba, p, (uint32_t)whole))
		return -CUB_EIO;
	if (!tail)
		return 0;
	cub_memset(sec, 0, SECTOR);
	cub_memcpy(sec, p + whole * SECTOR, tail);
	return cub_blk_write(s->dev, lba + whole, sec, 1) ? -CUB_EIO : 0;
}

int cubi_pstore_save(struct cubi_pstore *s, const void *payload, size_t len)
{
	int at = s->slot == 0 ? 1 : 0;
	struct hdr h = { at, (uint32_t)at, s->gen + 1, len, cubi_crc32(payload, len) };
	uint64_t lba = slot_lba(s, at);
	uint8_t sec[SECTOR];

	if (len > cubi_pstore_capacity(s))
		return -CUB_ENOSPC;
	if (write_payload(s, lba + 1, payload, len) || cub_blk_flush(s->dev))
		return -CUB_EIO;
	encode(sec, &h);
	if (cub_blk_write(s->dev, lba, sec, 1) || cub_blk_flush(s->dev))
		return -CUB_EIO;
	s->gen = h.gen;
	s->slot = at;
	s->len = len;
	s->crc = h.crc;
	return 0;
}
