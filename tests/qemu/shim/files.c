/*
 * files.c - files in an unmodified musl program on the shim's in-memory
 * file system, booted with `scripts/run --files tests/qemu/shim/fsroot`:
 * the boot archive's files (stdio reads, stat, mmap, a listing), files made in
 * /tmp (write, read back, append, truncate, seek, pread/pwrite), the
 * directory calls (mkdir, rename, unlink, rmdir, chdir, getcwd, openat),
 * dup/dup2 (stdout redirected into a file and back), symbolic links
 * (the archive's, in fsroot/etc, and new ones) and hard links, /dev/null
 * and /dev/urandom, the errors programs rely on, and /proc (realpath of
 * a relative path, /proc/self/exe, meminfo, maps, status and cmdline
 * through stdio, /proc/self/fd listed and read, fchmodat's O_PATH and
 * /proc/self/fd dance), /proc's magic links (fopen("/dev/stdout") with
 * stdout a pipe, a deleted file reopened through /proc/self/fd/N,
 * /proc/self/exe's ELF: the test boots with the image itself in the
 * tree, selfcpio.sh; chmod of a deleted file and chdir into a renamed
 * directory through their links, a pipe's O_PATH descriptor that opens
 * the pipe again, truncate of a pipe's link, the link's text of a file
 * moved to another directory and then removed), and the rarer file
 * calls (statfs, sendfile, flock, posix_fallocate, utimes, chown);
 * sendfile from a pipe and a socket into a pipe that fills keeps the
 * rest in the source; one directory of 10,000 files (made, found,
 * listed exactly once while 2,000 more arrive under the listing,
 * removed). One line per check, then a summary.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "checks.h"

/* The whole of a small file, NUL-terminated, or NULL. */
static char *slurp(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void boot_archive(void)
{
	char *s = slurp("/etc/greeting.txt");
	struct stat st;
	long sum = 0, x;
	FILE *f;

	check("archive file read", s && strcmp(s, "hello from the boot archive\n") == 0);
	s = slurp("/etc/hosts");
	check("/etc/hosts beside the archive's /etc", s && strstr(s, "127.0.0.1") &&
	      strstr(s, "localhost"));
	f = fopen("/data/numbers.txt", "r");
	while (f && fscanf(f, "%ld", &x) == 1)
		sum += x;
	if (f)
		fclose(f);
	check("archive file of 1000 lines", sum == 500500);
	check("stat of an archive file", stat("/data/numbers.txt", &st) == 0 &&
	      S_ISREG(st.st_mode) && st.st_size == 3893);
	check("stat of an archive directory", stat("/data/sub", &st) == 0 &&
	      S_ISDIR(st.st_mode) && stat("/data/sub/leaf.txt", &st) == 0);
}

static void mapping(void)
{
	int fd = open("/data/numbers.txt", O_RDONLY);
	char *p = mmap(NULL, 3893, PROT_READ, MAP_PRIVATE, fd, 0);

	check("mmap of a file", p != MAP_FAILED && memcmp(p, "1\n2\n3\n", 6) == 0 &&
	      memcmp(p + 3893 - 5, "1000\n", 5) == 0);
	if (p != MAP_FAILED)
		munmap(p, 3893);
	close(fd);
}

static void listing(void)
{
	DIR *d = opendir("/data");
	struct dirent *e;
	int seen = 0, dots = 0;

	while (d && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, "numbers.txt") == 0 && e->d_type == DT_REG)
			seen |= 1;
		else if (strcmp(e->d_name, "sub") == 0 && e->d_type == DT_DIR)
			seen |= 2;
		else if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			dots++;
		else
			seen |= 4;
	}
	if (d)
		closedir(d);
	check("readdir lists a directory", seen == 3 && dots == 2);
}

static void write_read(void)
{
	FILE *f = fopen("/tmp/out.txt", "w");
	char *s;
	int fd;
	char c[4] = { 0 };

	for (int i = 0; f && i < 3; i++)
		fprintf(f, "line %d\n", i);
	check("fopen w and fclose", f && fclose(f) == 0);
	s = slurp("/tmp/out.txt");
	check("written file reads back", s && strcmp(s, "line 0\nline 1\nline 2\n") == 0);
	f = fopen("/tmp/out.txt", "a");
	if (f) {
		fputs("more\n", f);
		fclose(f);
	}
	s = slurp("/tmp/out.txt");
	check("append", s && strcmp(s, "line 0\nline 1\nline 2\nmore\n") == 0);
	fd = open("/tmp/out.txt", O_RDWR);
	check("lseek SEEK_END", lseek(fd, 0, SEEK_END) == 26);
	check("pread leaves the offset", pread(fd, c, 3, 5) == 3 && strcmp(c, "0\nl") == 0 &&
	      lseek(fd, 0, SEEK_CUR) == 26);
	check("pwrite in the middle", pwrite(fd, "X", 1, 0) == 1);
	check("ftruncate", ftruncate(fd, 4) == 0 && close(fd) == 0);
	s = slurp("/tmp/out.txt");
	check("content after pwrite and truncate", s && strcmp(s, "Xine") == 0);
}

static void directories(void)
{
	char cwd[256];
	struct stat st;
	int dfd, fd;

	check("mkdir", mkdir("/tmp/d", 0755) == 0 && mkdir("/tmp/d/e", 0700) == 0);
	check("mkdir of an existing name: EEXIST", mkdir("/tmp/d", 0755) == -1 && errno == EEXIST);
	check("rename a file into a directory",
	      rename("/tmp/out.txt", "/tmp/d/e/moved.txt") == 0 &&
	      stat("/tmp/out.txt", &st) == -1 && errno == ENOENT &&
	      stat("/tmp/d/e/moved.txt", &st) == 0 && st.st_size == 4);
	check("rmdir of a full directory: ENOTEMPTY", rmdir("/tmp/d/e") == -1 && errno == ENOTEMPTY);
	check("chdir and getcwd", chdir("/tmp/d/e") == 0 && getcwd(cwd, sizeof(cwd)) &&
	      strcmp(cwd, "/tmp/d/e") == 0);
	check("relative open after chdir", access("moved.txt", R_OK) == 0 &&
	      access("../e/./moved.txt", F_OK) == 0);
	dfd = open("/tmp/d", O_RDONLY | O_DIRECTORY);
	fd = openat(dfd, "e/new.txt", O_CREAT | O_WRONLY | O_EXCL, 0644);
	check("openat relative to a directory descriptor", dfd >= 0 && fd >= 0 &&
	      write(fd, "n", 1) == 1 && close(fd) == 0);
	check("O_EXCL on an existing file: EEXIST",
	      openat(dfd, "e/new.txt", O_CREAT | O_EXCL | O_WRONLY, 0644) == -1 && errno == EEXIST);
	close(dfd);
	check("unlink and rmdir", unlink("/tmp/d/e/new.txt") == 0 &&
	      unlink("/tmp/d/e/moved.txt") == 0 && chdir("/") == 0 &&
	      rmdir("/tmp/d/e") == 0 && rmdir("/tmp/d") == 0);
}

static void devices(void)
{
	unsigned char r[32] = { 0 }, zeros[32] = { 0 };
	FILE *f = fopen("/dev/null", "w");
	int fd = open("/dev/urandom", O_RDONLY);

	check("/dev/null swallows writes", f && fprintf(f, "nothing\n") == 8 && fclose(f) == 0);
	check("/dev/urandom gives bytes", fd >= 0 && read(fd, r, sizeof(r)) == sizeof(r) &&
	      memcmp(r, zeros, sizeof(r)) != 0 && close(fd) == 0);
	f = fopen("/dev/stderr", "w");	/* -> /proc/self/fd/2 -> /dev/console */
	check("/dev/stderr reaches the console",
	      f && fprintf(f, "written to /dev/stderr\n") == 23 && fclose(f) == 0);
	fd = open("/dev/console", O_WRONLY);
	check("/dev/console opens the console",
	      fd >= 0 && write(fd, "written to /dev/console\n", 24) == 24 && close(fd) == 0);
}

/* The archive's symbolic links (fsroot/etc) and links made here. */
static void links(void)
{
	char t[64] = { 0 }, *s, *real;
	struct stat st, st2;
	DIR *d = opendir("/etc");
	struct dirent *e;
	int fd, lnk = 0;

	check("readlink of an archive link", readlink("/etc/greeting.link", t, sizeof(t)) == 12 &&
	      memcmp(t, "greeting.txt", 12) == 0);
	check("lstat sees the link, stat its target",
	      lstat("/etc/greeting.link", &st) == 0 && S_ISLNK(st.st_mode) && st.st_size == 12 &&
	      stat("/etc/greeting.link", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 28);
	s = slurp("/etc/greeting.link");
	check("read through a relative link", s && strcmp(s, "hello from the boot archive\n") == 0);
	check("stat through an absolute link", stat("/etc/numbers", &st) == 0 && st.st_size == 3893);
	check("a link to a directory in a path", slurp("/etc/datadir/sub/leaf.txt") != NULL);
	real = realpath("/etc/datadir/sub/../numbers.txt", NULL);
	check("realpath resolves links", real && strcmp(real, "/data/numbers.txt") == 0);
	free(real);
	while (d && (e = readdir(d)) != NULL)
		lnk += e->d_type == DT_LNK;
	if (d)
		closedir(d);
	check("readdir: DT_LNK", lnk == 3);
	check("readlink of a file: EINVAL", readlink("/etc/greeting.txt", t, sizeof(t)) == -1 &&
	      errno == EINVAL);
	check("symlink, dangling", symlink("/tmp/target", "/tmp/dangling") == 0 &&
	      stat("/tmp/dangling", &st) == -1 && errno == ENOENT &&
	      lstat("/tmp/dangling", &st) == 0 && S_ISLNK(st.st_mode));
	check("symlink over a name: EEXIST", symlink("x", "/tmp/dangling") == -1 && errno == EEXIST);
	fd = open("/tmp/dangling", O_CREAT | O_WRONLY, 0644);
	check("O_CREAT through a dangling link makes its target", fd >= 0 &&
	      write(fd, "via link", 8) == 8 && close(fd) == 0 &&
	      (s = slurp("/tmp/target")) && strcmp(s, "via link") == 0);
	check("O_NOFOLLOW on a link: ELOOP",
	      open("/tmp/dangling", O_RDONLY | O_NOFOLLOW) == -1 && errno == ELOOP);
	check("a loop of links: ELOOP", symlink("loop", "/tmp/loop") == 0 &&
	      open("/tmp/loop", O_RDONLY) == -1 && errno == ELOOP);
	check("lchmod of a link: EOPNOTSUPP",
	      fchmodat(AT_FDCWD, "/tmp/loop", 0600, AT_SYMLINK_NOFOLLOW) == -1 &&
	      errno == EOPNOTSUPP);
	check("link: a second name", link("/tmp/target", "/tmp/hard") == 0 &&
	      stat("/tmp/target", &st) == 0 && stat("/tmp/hard", &st2) == 0 &&
	      st.st_ino == st2.st_ino && st.st_nlink == 2);
	check("unlink drops one name", unlink("/tmp/target") == 0 &&
	      stat("/tmp/hard", &st) == 0 && st.st_nlink == 1 &&
	      (s = slurp("/tmp/hard")) && strcmp(s, "via link") == 0);
	check("link of a directory: EPERM", link("/tmp", "/tmp/dirlink") == -1 && errno == EPERM);
	check("unlink removes links, not targets", unlink("/tmp/dangling") == 0 &&
	      unlink("/tmp/loop") == 0 && unlink("/tmp/hard") == 0 &&
	      stat("/data/numbers.txt", &st) == 0);
}

static void errors_and_dup(void)
{
	char *s;
	int fd, saved;

	check("open of a missing file: ENOENT", open("/nope", O_RDONLY) == -1 && errno == ENOENT);
	check("a file as a directory: ENOTDIR",
	      open("/etc/greeting.txt/x", O_RDONLY) == -1 && errno == ENOTDIR);
	check("write-open of a directory: EISDIR", open("/tmp", O_WRONLY) == -1 && errno == EISDIR);
	check("unlink of a directory: EISDIR", unlink("/tmp") == -1 && errno == EISDIR);
	fflush(stdout);
	saved = dup(1);
	fd = open("/tmp/captured", O_CREAT | O_WRONLY | O_TRUNC, 0600);
	dup2(fd, 1);
	close(fd);
	printf("this line goes to a file\n");
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	s = slurp("/tmp/captured");
	check("dup2 redirects stdout into a file", s && strcmp(s, "this line goes to a file\n") == 0);
}

/* statfs, sendfile, flock, posix_fallocate, utimes, chown. */
static void rare_calls(void)
{
	struct timeval tv[2] = { { 1000, 0 }, { 2000, 0 } };
	struct statfs sf;
	struct stat st;
	off_t off = 1;
	int in, out, other;

	check("statfs /tmp: tmpfs with free blocks", statfs("/tmp", &sf) == 0 &&
	      sf.f_type == 0x01021994 && sf.f_bfree > 0 && sf.f_bfree <= sf.f_blocks);
	in = open("/tmp/sf-in", O_CREAT | O_RDWR | O_TRUNC, 0644);
	out = open("/tmp/sf-out", O_CREAT | O_RDWR | O_TRUNC, 0644);
	write(in, "sendfile!", 9);
	check("sendfile from an offset", sendfile(out, in, &off, 100) == 8 && off == 9);
	check("fstatfs of an open file", fstatfs(out, &sf) == 0 && sf.f_type == 0x01021994);
	check("sendfile's bytes arrive", fstat(out, &st) == 0 && st.st_size == 8);
	other = open("/tmp/sf-in", O_RDONLY);
	check("flock: two shared locks", flock(in, LOCK_SH) == 0 && flock(other, LOCK_SH | LOCK_NB) == 0);
	check("flock: exclusive refused with LOCK_NB",
	      flock(other, LOCK_EX | LOCK_NB) == -1 && errno == EWOULDBLOCK);
	close(other);
	check("flock: close dropped the lock", flock(in, LOCK_EX | LOCK_NB) == 0);
	check("posix_fallocate grows a file", posix_fallocate(out, 0, 4096) == 0 &&
	      fstat(out, &st) == 0 && st.st_size == 4096);
	check("utimes sets both times", utimes("/tmp/sf-out", tv) == 0 &&
	      stat("/tmp/sf-out", &st) == 0 && st.st_atime == 1000 && st.st_mtime == 2000);
	check("chown to root; to another user: EPERM", chown("/tmp/sf-out", 0, 0) == 0 &&
	      chown("/tmp/sf-out", 1000, 1000) == -1 && errno == EPERM);
	close(in);
	close(out);
}

/* A non-blocking pipe in d, full but for room bytes; returns how many
 * bytes of filler it holds then (-1: no pipe). */
static long nearly_full(int d[2], size_t room)
{
	static char fill[65536], drop[4096];
	long total = 0, n;

	if (pipe2(d, O_NONBLOCK) != 0)
		return -1;
	memset(fill, 'F', sizeof(fill));
	while ((n = write(d[1], fill, sizeof(fill))) > 0)	/* to the brim */
		total += n;
	if (read(d[0], drop, room) != (long)room)
		return -1;
	return total - (long)room;
}

/* Reads n bytes from fd (non-blocking, all there) and compares. */
static int reads(int fd, const char *want, size_t n)
{
	static char buf[16384];
	size_t have = 0;
	long r = 0;

	while (have < n && (r = read(fd, buf + have, n - have)) > 0)
		have += (size_t)r;
	return have == n && memcmp(buf, want, n) == 0;
}

/* src (non-blocking) holds pat's 10000 bytes: sendfile of all of them
 * into a pipe with room for 1000 sends 1000, and the other 9000 are
 * still in src, in order (before: lost). */
static int keeps_rest(int src, const char *pat)
{
	static char fs[1000];
	int d[2];
	long filler = nearly_full(d, 1000), sent = -1, skip;
	int ok = filler >= 0;

	memset(fs, 'F', sizeof(fs));
	if (ok)
		sent = sendfile(d[1], src, NULL, 10000);
	for (skip = filler; ok && skip > 0; skip -= 1000)	/* the filler */
		ok = reads(d[0], fs, skip < 1000 ? (size_t)skip : 1000);
	ok = ok && sent == 1000 && reads(d[0], pat, 1000) && reads(src, pat + 1000, 9000) &&
	     read(src, fs, 1) < 0 && errno == EAGAIN;
	if (filler >= 0) {
		close(d[0]);
		close(d[1]);
	}
	return ok;
}

/* sendfile from a pipe and a socketpair into a destination that fills:
 * the count is what arrived and the rest stays readable in the source;
 * an eventfd (its counter cannot be given back) is refused. */
static void sendfile_streams(void)
{
	static char pat[10000];
	int p[2], u[2], e;
	uint64_t v = 0;

	for (size_t i = 0; i < sizeof(pat); i++)
		pat[i] = (char)(i * 7 + i / 251);
	check("sendfile from a pipe keeps what the destination did not take",
	      pipe2(p, O_NONBLOCK) == 0 && write(p[1], pat, sizeof(pat)) == sizeof(pat) &&
	      keeps_rest(p[0], pat));
	check("sendfile from a socket keeps what the destination did not take",
	      socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, u) == 0 &&
	      write(u[0], pat, sizeof(pat)) == sizeof(pat) && keeps_rest(u[1], pat));
	e = eventfd(3, EFD_NONBLOCK);
	check("sendfile from an eventfd: EINVAL, the counter kept",
	      sendfile(p[1], e, NULL, 8) < 0 && errno == EINVAL &&
	      read(e, &v, 8) == 8 && v == 3);
	close(e);
	close(p[0]);
	close(p[1]);
	close(u[0]);
	close(u[1]);
}

/* True when directory path lists name. */
static int lists(const char *path, const char *name)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int seen = 0;

	while (d && (e = readdir(d)) != NULL)
		seen |= strcmp(e->d_name, name) == 0;
	if (d)
		closedir(d);
	return seen;
}

/* argv0: the program's name, as the image gives it (musl_files). */
static void proc(const char *argv0)
{
	char buf[256], path[64], want[64], *s, *real;
	unsigned long kb = 0;
	struct stat st;
	ssize_t n;
	int fd;
	FILE *f;

	chdir("/data/sub");
	real = realpath("../numbers.txt", NULL);
	check("realpath of a relative path", real && strcmp(real, "/data/numbers.txt") == 0);
	free(real);
	chdir("/");
	n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	snprintf(want, sizeof(want), "/%s", argv0);
	check("/proc/self/exe names the program", strcmp(buf, want) == 0);
	f = fopen("/proc/meminfo", "r");
	check("/proc/meminfo's MemTotal", f && fgets(buf, sizeof(buf), f) &&
	      sscanf(buf, "MemTotal: %lu kB", &kb) == 1 && kb > 1024);
	if (f)
		fclose(f);
	s = slurp("/proc/self/maps");
	check("/proc/self/maps shows the stack", s && strstr(s, "rw-p 00000000 00:00 0") &&
	      strstr(s, "[stack]"));
	s = slurp("/proc/self/status");
	snprintf(want, sizeof(want), "Name:\t%.15s\n", argv0);
	check("/proc/self/status", s && strncmp(s, want, strlen(want)) == 0 &&
	      strstr(s, "\nPid:\t1\n"));
	s = slurp("/proc/self/cmdline");
	check("/proc/self/cmdline", s && strcmp(s, argv0) == 0);
	fd = open("/data/numbers.txt", O_RDONLY);
	snprintf(path, sizeof(path), "%d", fd);
	check("/proc/self/fd lists the descriptors", lists("/proc/self/fd", "0") &&
	      lists("/proc/self/fd", path));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	check("/proc/self/fd/N names the file", strcmp(buf, "/data/numbers.txt") == 0);
	close(fd);
	check("a closed descriptor leaves /proc/self/fd", readlink(path, buf, sizeof(buf)) < 0 &&
	      errno == ENOENT);
	fd = open("/tmp/modes", O_CREAT | O_WRONLY, 0644);
	close(fd);
	check("fchmodat AT_SYMLINK_NOFOLLOW (O_PATH, /proc/self/fd)",
	      fchmodat(AT_FDCWD, "/tmp/modes", 0600, AT_SYMLINK_NOFOLLOW) == 0 &&
	      stat("/tmp/modes", &st) == 0 && (st.st_mode & 0777) == 0600);
	check("/proc is read-only", mkdir("/proc/x", 0755) < 0 && errno == ENOENT &&
	      unlink("/proc/meminfo") < 0 && errno == EPERM &&
	      open("/proc/meminfo", O_WRONLY) < 0 && errno == EACCES);
}

/* Writes through fopen("/dev/stdout") with stdout a pipe; what the
 * pipe got (NUL-terminated) into buf. */
static void stdout_pipe(char *buf, size_t size)
{
	int p[2], saved = -1;
	ssize_t n = -1;
	FILE *f;

	fflush(stdout);
	if (pipe(p) == 0 && (saved = dup(1)) >= 0 && dup2(p[1], 1) == 1) {
		if ((f = fopen("/dev/stdout", "w")) != NULL) {
			fputs("into the pipe", f);
			fclose(f);
		}
		dup2(saved, 1);
		close(p[1]);
		n = read(p[0], buf, size - 1);
		close(p[0]);
	}
	if (saved >= 0)
		close(saved);
	buf[n > 0 ? n : 0] = '\0';
}

/* /proc's magic links lead to objects, not to their text. argv0: the
 * program's name; the boot archive holds the image as /<argv0>. */
static void magic_links(const char *argv0)
{
	char buf[32], path[64], moved[64];
	struct stat st;
	int fd, re;
	ssize_t n;

	stdout_pipe(buf, sizeof(buf));
	check("fopen(\"/dev/stdout\") with stdout a pipe", strcmp(buf, "into the pipe") == 0);
	fd = open("/tmp/gone", O_CREAT | O_RDWR, 0644);
	n = write(fd, "still here", 10);
	unlink("/tmp/gone");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	re = open(path, O_RDONLY);
	n = n == 10 && re >= 0 ? read(re, buf, 10) : -1;
	check("a deleted file reopens through /proc/self/fd/N",
	      n == 10 && memcmp(buf, "still here", 10) == 0 && stat(path, &st) == 0 &&
	      st.st_nlink == 0);
	close(re);
	close(fd);
	snprintf(path, sizeof(path), "/%s", argv0);
	snprintf(moved, sizeof(moved), "/%s.moved", argv0);
	fd = rename(path, moved) == 0 ? open("/proc/self/exe", O_RDONLY) : -1;
	n = fd >= 0 ? read(fd, buf, 4) : -1;
	check("/proc/self/exe opens the program's ELF (renamed)",
	      n == 4 && memcmp(buf, "\177ELF", 4) == 0 &&
	      readlink("/proc/self/exe", path, sizeof(path)) == (ssize_t)strlen(moved));
	close(fd);
}

/* The calls other than open through magic links act on the object. */
static void magic_calls(void)
{
	char path[64], cwd[64], text[64], c;
	struct stat st;
	int fd, d, p[2], op, w;
	ssize_t n1, n2;

	fd = open("/tmp/gone2", O_CREAT | O_RDWR, 0644);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	check("chmod of a deleted file through /proc/self/fd/N",
	      unlink("/tmp/gone2") == 0 && chmod(path, 0600) == 0 &&
	      fstat(fd, &st) == 0 && (st.st_mode & 07777) == 0600);
	close(fd);
	mkdir("/tmp/here", 0755);
	d = open("/tmp/here", O_RDONLY | O_DIRECTORY);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", d);
	check("chdir(\"/proc/self/fd/N\") of a renamed directory",
	      rename("/tmp/here", "/tmp/there") == 0 && chdir(path) == 0 &&
	      getcwd(cwd, sizeof(cwd)) && strcmp(cwd, "/tmp/there") == 0);
	chdir("/");
	close(d);
	fd = open("/tmp/there/f", O_CREAT | O_RDWR, 0644);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	mkdir("/tmp/elsewhere", 0755);
	n1 = rename("/tmp/there/f", "/tmp/elsewhere/g") == 0 ?
	     readlink(path, text, sizeof(text)) : -1;
	check("/proc/self/fd/N follows a move to another directory",
	      n1 == 16 && memcmp(text, "/tmp/elsewhere/g", 16) == 0);
	n2 = unlink("/tmp/elsewhere/g") == 0 ? readlink(path, text, sizeof(text)) : -1;
	check("and shows its last name once removed",
	      n2 == 26 && memcmp(text, "/tmp/elsewhere/g (deleted)", 26) == 0);
	close(fd);
	rmdir("/tmp/elsewhere");
	rmdir("/tmp/there");
	if (pipe(p) != 0)
		p[0] = p[1] = -1;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
	op = open(path, O_PATH);
	check("truncate of a pipe's link: EINVAL", truncate(path, 0) == -1 && errno == EINVAL);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", op);
	w = open(path, O_WRONLY);
	check("a pipe's O_PATH descriptor opens the pipe again",
	      op >= 0 && fstat(op, &st) == 0 && S_ISFIFO(st.st_mode) &&
	      read(op, &c, 1) == -1 && errno == EBADF &&
	      write(w, "p", 1) == 1 && read(p[0], &c, 1) == 1 && c == 'p');
	close(w);
	close(op);
	close(p[0]);
	close(p[1]);
}

#define BIG_N 10000
#define BIG_MORE 2000

static void big_name(char *buf, int i)
{
	snprintf(buf, 64, "/tmp/big/%s%d", i % 2 ? "obj-" : "f", i);
}

/* Lists /tmp/big, making the BIG_MORE files after the first half of the
 * listing; counts each name seen. 0, or -1 for a name it never made. */
static int big_list(unsigned char *seen)
{
	DIR *d = opendir("/tmp/big");
	struct dirent *e;
	char path[64];
	int n = 0, fd;

	while (d && (e = readdir(d)) != NULL) {
		int i = atoi(e->d_name + strcspn(e->d_name, "0123456789"));

		if (e->d_name[0] == '.')
			continue;
		if (i < 0 || i >= BIG_N + BIG_MORE)
			return -1;
		seen[i]++;
		if (++n == BIG_N / 2)
			for (int j = BIG_N; j < BIG_N + BIG_MORE; j++) {
				big_name(path, j);
				if ((fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600)) < 0)
					return -1;
				close(fd);
			}
	}
	return d && closedir(d) == 0 ? 0 : -1;
}

static void big_directory(void)
{
	static unsigned char seen[BIG_N + BIG_MORE];
	struct stat st;
	char path[64];
	int made = 0, found = 0, once = 1, gone = 0, fd;

	mkdir("/tmp/big", 0755);
	for (int i = 0; i < BIG_N; i++) {
		big_name(path, i);
		if ((fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600)) >= 0)
			made += write(fd, &i, sizeof(i)) == sizeof(i) && close(fd) == 0;
	}
	for (int i = BIG_N - 1; i >= 0; i--) {
		big_name(path, i);
		found += stat(path, &st) == 0 && st.st_size == sizeof(i);
	}
	check("10,000 files in one directory made and found",
	      made == BIG_N && found == BIG_N);
	check("listed while 2,000 more arrive", big_list(seen) == 0);
	for (int i = 0; i < BIG_N + BIG_MORE; i++)
		once &= seen[i] == 1 || (i >= BIG_N && seen[i] == 0);
	check("each listed exactly once", once);
	for (int k = 0; k < 2; k++)	/* odd ones, then even ones */
		for (int i = 1 - k; i < BIG_N + BIG_MORE; i += 2) {
			big_name(path, i);
			gone += unlink(path) == 0 && stat(path, &st) == -1 &&
				errno == ENOENT;
		}
	check("all removed", gone == BIG_N + BIG_MORE && rmdir("/tmp/big") == 0);
}

int main(int argc, char **argv)
{
	boot_archive();
	mapping();
	listing();
	write_read();
	directories();
	errors_and_dup();
	links();
	devices();
	rare_calls();
	sendfile_streams();
	proc(argc ? argv[0] : "");
	magic_links(argc ? argv[0] : "");
	magic_calls();
	big_directory();
	printf("files: %d of %d checks passed\n", passed, total);
	return passed == total ? 0 : 1;
}
