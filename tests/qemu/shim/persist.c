/*
 * persist.c - a Linux program whose /data survives a reboot
 * (CUBRT_PERSIST=vda:/data; src/shim/persist.c). Run three times on one
 * disk image by persist_host.py, with the mode as its argument:
 *   write  (a blank disk) /data is there and empty; /dev/vda refuses
 *          writers (EBUSY) and takes readers; makes files (one empty,
 *          one with an old mtime), a directory with a file, a symbolic
 *          link, a second name dir/hard for hello.txt (a hard link), fsyncs a file and the directory; then writes late.txt
 *          without any fsync: the exit's snapshot must keep it;
 *   read   everything of the first boot is back (bytes, modes, mtime,
 *          the link's target, dir/hard hello.txt's file); a file larger than a slot makes fsync
 *          fail with ENOSPC; boot2.txt is written and fsynced;
 *   old    (after the host tore the newest slot) the first boot's
 *          state: late.txt there, boot2.txt not.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "checks.h"

#define OLD_MTIME 1234567890
#define LATE "written after the last fsync"

static int entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static int put(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd >= 0 && write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int holds(const char *path, const char *text)
{
	char buf[128] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(text) && !strcmp(buf, text);
}

static int mode_is(const char *path, mode_t type_perm)
{
	struct stat st;

	return lstat(path, &st) == 0 && st.st_mode == type_perm;
}

static void first_boot(void)
{
	struct timeval tv[2] = { { OLD_MTIME, 0 }, { OLD_MTIME, 0 } };
	int fd, dfd, vda;

	check("/data is there, empty", entries("/data") == 0);
	errno = 0;
	check("/dev/vda refuses a writer: EBUSY",
	      open("/dev/vda", O_RDWR) == -1 && errno == EBUSY);
	vda = open("/dev/vda", O_RDONLY);
	check("/dev/vda takes a reader", vda >= 0);
	close(vda);
	fd = put("/data/hello.txt", "hello, disk", 0640);
	check("write hello.txt", fd >= 0);
	check("utimes hello.txt", utimes("/data/hello.txt", tv) == 0);
	check("mkdir dir", mkdir("/data/dir", 0750) == 0);
	close(put("/data/dir/nested.txt", "nested", 0600));
	close(put("/data/empty", "", 0644));
	check("symlink", symlink("dir/nested.txt", "/data/link") == 0);
	check("hard link", link("/data/hello.txt", "/data/dir/hard") == 0);
	check("fsync hello.txt", fsync(fd) == 0);
	close(fd);
	dfd = open("/data/dir", O_RDONLY | O_DIRECTORY);
	check("fsync the directory", dfd >= 0 && fsync(dfd) == 0);
	close(dfd);
	fd = put("/data/late.txt", LATE, 0644);
	check("write late.txt (no fsync)", fd >= 0);
	close(fd);
}

static void first_boot_state(void)
{
	struct stat st, st2;
	char buf[64] = "";

	check("hello.txt is back", holds("/data/hello.txt", "hello, disk"));
	check("its mode", mode_is("/data/hello.txt", S_IFREG | 0640));
	check("its mtime", stat("/data/hello.txt", &st) == 0 && st.st_mtime == OLD_MTIME);
	check("dir is back", mode_is("/data/dir", S_IFDIR | 0750));
	check("dir/nested.txt", holds("/data/dir/nested.txt", "nested") &&
	      mode_is("/data/dir/nested.txt", S_IFREG | 0600));
	check("the empty file", mode_is("/data/empty", S_IFREG | 0644) &&
	      stat("/data/empty", &st) == 0 && st.st_size == 0);
	check("the link", readlink("/data/link", buf, sizeof(buf)) == 14 &&
	      !memcmp(buf, "dir/nested.txt", 14) && holds("/data/link", "nested"));
	check("late.txt (the exit's snapshot)", holds("/data/late.txt", LATE));
	check("dir/hard: hello.txt's file, two names",
	      stat("/data/hello.txt", &st) == 0 && stat("/data/dir/hard", &st2) == 0 &&
	      st.st_ino == st2.st_ino && st.st_nlink == 2 && holds("/data/dir/hard", "hello, disk"));
}

static void second_boot(void)
{
	static char big[600 * 1024];	/* more than a slot of a 1 MiB disk */
	int fd;

	first_boot_state();
	memset(big, 'b', sizeof(big));
	fd = open("/data/too-big", O_WRONLY | O_CREAT, 0644);
	check("write too-big", fd >= 0 && write(fd, big, sizeof(big)) == sizeof(big));
	errno = 0;
	check("fsync of too much: ENOSPC", fsync(fd) == -1 && errno == ENOSPC);
	close(fd);
	check("unlink too-big", unlink("/data/too-big") == 0);
	fd = put("/data/boot2.txt", "second boot", 0644);
	check("write and fsync boot2.txt", fd >= 0 && fsync(fd) == 0);
	close(fd);
}

static void third_boot(void)
{
	first_boot_state();
	check("no boot2.txt (its snapshot was torn)",
	      access("/data/boot2.txt", F_OK) == -1 && errno == ENOENT);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (!strcmp(mode, "write"))
		first_boot();
	else if (!strcmp(mode, "read"))
		second_boot();
	else if (!strcmp(mode, "old"))
		third_boot();
	else
		check("a mode: write, read or old", 0);
	printf("persist %s: %d of %d checks passed\n", mode, passed, total);
	return passed == total ? 0 : 1;
}
