/*
 * ssp.c - musl's start keeps cubrt's stack-protector guard.
 *
 * The program is linked into cubrt's image, so musl's __stack_chk_guard
 * is the word cubrt's own frames are checked against; musl's start sets
 * it from AT_RANDOM's first 8 bytes with byte 1 cleared. Coroutines the
 * shim started before the program (the network's receiver, the DHCP
 * keeper, ARP announcements) hold protected frames across that start, so
 * the shim passes cubrt's guard, bytes 0 and 1 zero, as those bytes: the
 * value musl writes is the one it found. Before that, an announcement's
 * timed wait returning after the start crashed the machine.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

extern uintptr_t __stack_chk_guard;	/* musl's, shared with cubrt */

int main(void)
{
	const void *at = (const void *)getauxval(AT_RANDOM);
	uint64_t first = 0;
	int kept, zero;

	if (at)
		memcpy(&first, at, sizeof(first));
	kept = at && first == __stack_chk_guard;
	zero = (__stack_chk_guard & 0xFFFF) == 0 && __stack_chk_guard != 0;
	printf("ssp: guard kept %s, low bytes zero %s\n", kept ? "true" : "false",
	       zero ? "true" : "false");
	return kept && zero ? 0 : 1;
}
