/*
 * cksum.c - the Internet checksum (RFC 1071): the one's-complement of the
 * one's-complement sum of 16-bit big-endian words, an odd last byte
 * padded with zero. Sums are kept unfolded in 32 bits between calls:
 * each cubi_cksum_add adds at most 0x2fffd (its bulk folded to 16 bits,
 * plus a tail of at most two words), whatever its length (a reassembled
 * datagram: up to 64 KiB), so a caller may chain thousands of calls and
 * the pseudo header before cubi_cksum_fold without an overflow.
 */
#include "net_impl.h"

/* The one's-complement sum of the 16-bit words of [b, b+len) in the
 * machine's byte order, folded to 16 bits: four bytes a load into a
 * 64-bit accumulator (no carry is lost below 2^32 loads), the end-around
 * carries added at the end; a tail of 1..3 bytes is done by the caller. */
static uint32_t native_sum(const uint8_t *b, size_t len)
{
	uint64_t acc = 0;
	uint32_t w;

	for (; len >= 4; b += 4, len -= 4) {
		__builtin_memcpy(&w, b, 4);
		acc += w;
	}
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint32_t)acc;
}

/* Contexts: any. */
uint32_t cubi_cksum_add(uint32_t sum, const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t bulk = len & ~(size_t)3, i;
	uint32_t s = native_sum(b, bulk);

	/* RFC 1071 (B): the sum of byte-swapped words is the byte-swapped
	 * sum, so a little-endian machine's sum swapped is the big-endian. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	s = (s >> 8 | s << 8) & 0xffff;
#endif
	sum += s;
	for (i = bulk; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

/* Contexts: any. */
uint16_t cubi_cksum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Contexts: any. */
uint32_t cubi_cksum_pseudo(cub_ip4_t src, cub_ip4_t dst, uint8_t proto,
			   uint16_t len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
	       proto + len;
}
