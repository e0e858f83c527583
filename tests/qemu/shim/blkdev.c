/*
 * blkdev.c - a Linux program using /dev/vda with ordinary calls: open,
 * fstat (S_ISBLK, 253:0), ioctl BLKGETSIZE64 and BLKSSZGET, lseek
 * (SEEK_END is the size), pwrite/pread at odd offsets (a partial sector,
 * a write across two sectors), write at the end (cut short), past it
 * (ENOSPC), reads past it (0), fsync and fdatasync, and a read-only
 * descriptor refusing writes (EBADF); and reads what the host put in the
 * image before the boot ("written by the host" at 300000). Run by tests/qemu/blk/blk_host.py
 * ("shim") on a 1 MiB image, which then checks the file's bytes: "hello,
 * disk" at 1000, "across" at 4093, "tail" in the last 4 bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "checks.h"

#define SIZE (1 << 20)
/* Linux's numbers (<linux/fs.h>, which musl does not ship). */
#define BLKSSZGET 0x1268
#define BLKGETSIZE64 0x80081272

static void layout(int fd)
{
	struct stat st;
	uint64_t size = 0;
	int ssz = 0;

	check("fstat says a block device 253:0", fstat(fd, &st) == 0 &&
	      S_ISBLK(st.st_mode) && major(st.st_rdev) == 253 &&
	      minor(st.st_rdev) == 0);
	check("stat of /dev/vda agrees", stat("/dev/vda", &st) == 0 &&
	      S_ISBLK(st.st_mode) && st.st_rdev == makedev(253, 0));
	check("BLKGETSIZE64", ioctl(fd, BLKGETSIZE64, &size) == 0 && size == SIZE);
	check("BLKSSZGET", ioctl(fd, BLKSSZGET, &ssz) == 0 && ssz == 512);
	check("lseek SEEK_END is the size", lseek(fd, 0, SEEK_END) == SIZE);
	check("no /dev/vdb", access("/dev/vdb", F_OK) != 0 && errno == ENOENT);
}

static void transfers(int fd)
{
	char buf[64];

	check("pwrite at 1000", pwrite(fd, "hello, disk", 11, 1000) == 11);
	check("pread it back", pread(fd, buf, 11, 1000) == 11 &&
	      !memcmp(buf, "hello, disk", 11));
	check("the sector around it is intact", pread(fd, buf, 10, 990) == 10 &&
	      !memcmp(buf, "\0\0\0\0\0\0\0\0\0\0", 10));
	check("lseek and write across sectors 7 and 8",
	      lseek(fd, 4093, SEEK_SET) == 4093 && write(fd, "across", 6) == 6 &&
	      lseek(fd, 0, SEEK_CUR) == 4099);
	check("read it back", lseek(fd, -6, SEEK_CUR) == 4093 &&
	      read(fd, buf, 6) == 6 && !memcmp(buf, "across", 6));
	check("a write at the end is cut short",
	      pwrite(fd, "tail!!", 6, SIZE - 4) == 4);
	errno = 0;
	check("a write past the end: ENOSPC",
	      pwrite(fd, "x", 1, SIZE) == -1 && errno == ENOSPC);
	check("a read past the end returns 0", pread(fd, buf, 8, SIZE + 512) == 0);
	check("a read at the end is cut", pread(fd, buf, 8, SIZE - 4) == 4 &&
	      !memcmp(buf, "tail", 4));
	check("read what the host wrote at 300000",
	      pread(fd, buf, 19, 300000) == 19 &&
	      !memcmp(buf, "written by the host", 19));
	check("fsync", fsync(fd) == 0);
	check("fdatasync", fdatasync(fd) == 0);
}

int main(void)
{
	int fd = open("/dev/vda", O_RDWR), ro;

	check("open /dev/vda", fd >= 0);
	if (fd < 0)
		return 1;
	layout(fd);
	transfers(fd);
	check("close", close(fd) == 0);
	ro = open("/dev/vda", O_RDONLY);
	errno = 0;
	check("a read-only descriptor refuses writes: EBADF",
	      ro >= 0 && write(ro, "x", 1) == -1 && errno == EBADF);
	close(ro);
	printf("blkdev: %d of %d checks passed\n", passed, total);
	return passed == total ? 0 : 1;
}
