/*
 * cksum.c - the Internet checksum (RFC 1071): the one's-complement of the
 * one's-complement sum of 16-bit big-endian words, an odd last byte
 * padded with zero. Sums are kept unfolded in 32 bits; every caller adds
 * at most a frame (1514 bytes, 757 words of at most 0xffff), so the sum
 * cannot overflow before cubi_cksum_fold.
 */
#include "net_impl.h"

/* Contexts: any. */
uint32_t cubi_cksum_add(uint32_t sum, const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
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
