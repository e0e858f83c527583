/*
 * memfd.c - memfd_create and file seals seen by an unmodified musl
 * program: a memfd is an O_RDWR file of no directory (fstat, the
 * /proc/self/fd link "/memfd:NAME (deleted)", MFD_CLOEXEC); the "magic
 * ring buffer" - one page of it mapped twice back to back in a
 * PROT_NONE reservation, so that records written across the seam read
 * back contiguously, and read(2) sees the same bytes; seals in action
 * (F_SEAL_WRITE refused while a writable shared mapping exists, then
 * GROW, SHRINK, WRITE and SEAL against write, ftruncate, fallocate,
 * mmap and mprotect; FUTURE_WRITE leaving an older mapping writable);
 * seals shared by dup and by a descriptor passed with SCM_RIGHTS; the
 * flag and name errors; memory given back at the last close. One line
 * per check, a summary.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "checks.h"

#define PG 4096
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

/* What /proc/self/fd/N says of fd. */
static const char *fd_link(int fd)
{
	static char target[300];
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = '\0';
	return target;
}

/* Lines of /proc/self/maps that name path. */
static int maps_lines(const char *path)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	int n = 0;

	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, " rw-s ") && strstr(line, path);
	if (f)
		fclose(f);
	return n;
}

static long free_pages(void)
{
	struct sysinfo si;

	sysinfo(&si);
	return (long)(si.freeram * si.mem_unit / PG);
}

static void check_create(void)
{
	int fd = memfd_create("hello", MFD_CLOEXEC), nx = memfd_create("nx", MFD_NOEXEC_SEAL);
	char name[260];
	struct stat st;

	check("memfd_create: O_RDWR, close-on-exec", fd >= 0 &&
	      (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR && fcntl(fd, F_GETFD) == FD_CLOEXEC);
	check("fstat: a regular file, mode 0777, size 0, no link",
	      fstat(fd, &st) == 0 && st.st_mode == (S_IFREG | 0777) && st.st_size == 0 &&
	      st.st_nlink == 0);
	check("/proc/self/fd: /memfd:hello (deleted)",
	      strcmp(fd_link(fd), "/memfd:hello (deleted)") == 0);
	check("without MFD_ALLOW_SEALING: F_SEAL_SEAL, no seal added",
	      fcntl(fd, F_GET_SEALS) == F_SEAL_SEAL && fcntl(fd, F_ADD_SEALS, F_SEAL_GROW) == -1 &&
	      errno == EPERM);
	check("MFD_NOEXEC_SEAL: mode 0666, F_SEAL_EXEC, no chmod +x",
	      fstat(nx, &st) == 0 && st.st_mode == (S_IFREG | 0666) &&
	      fcntl(nx, F_GET_SEALS) == F_SEAL_EXEC && fchmod(nx, 0755) == -1 && errno == EPERM);
	memset(name, 'n', sizeof(name));
	name[250] = '\0';
	check("a 250-byte name: EINVAL", memfd_create(name, 0) == -1 && errno == EINVAL);
	check("unknown flags, MFD_HUGETLB: EINVAL",
	      memfd_create("x", 0x100) == -1 && errno == EINVAL &&
	      memfd_create("x", MFD_HUGETLB) == -1 && errno == EINVAL);
	check("a bad name pointer: EFAULT", memfd_create((const char *)8, 0) == -1 && errno == EFAULT);
	close(fd);
	close(nx);
}

/*
 * The ring: a 2-page reservation, then the memfd's one page mapped at
 * both halves. A record that runs past the end of the first half
 * continues in the second, which is the page's start again: the
 * consumer reads every record as one contiguous run, whatever its
 * offset.
 */
static void check_ring(int fd)
{
	char *ring = mmap(NULL, 2 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char rec[100], back[100];
	unsigned head = 0, ok = 1;

	check("the ring: a 2-page PROT_NONE reservation, the page mapped twice",
	      ring != MAP_FAILED && ftruncate(fd, PG) == 0 &&
	      mmap(ring, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == ring &&
	      mmap(ring + PG, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) ==
		      ring + PG);
	if (ring == MAP_FAILED)
		return;
	memcpy(ring + PG - 6, "seam->across", 12);
	check("a write across the boundary reads back contiguously",
	      memcmp(ring + PG - 6, "seam->across", 12) == 0 && memcmp(ring, "across", 6) == 0);
	check("read(2) sees the wrapped bytes",
	      pread(fd, back, 6, 0) == 6 && memcmp(back, "across", 6) == 0 &&
	      pread(fd, back, 6, PG - 6) == 6 && memcmp(back, "seam->", 6) == 0);
	for (int i = 0; i < 500; i++) {		/* 100-byte records round and round */
		memset(rec, 'a' + i % 26, sizeof(rec));
		rec[0] = (char)i;
		memcpy(ring + head, rec, sizeof(rec));
		ok &= memcmp(ring + head, rec, sizeof(rec)) == 0 &&
		      ring[(head + 99) % PG] == rec[99];
		head = (head + sizeof(rec)) % PG;
	}
	check("500 records written round the ring read back whole", ok);
	check("/proc/self/maps: both mappings, rw-s /memfd:ring (deleted)",
	      maps_lines("/memfd:ring (deleted)") == 2);
	check("F_SEAL_WRITE while they are mapped: EBUSY",
	      fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == -1 && errno == EBUSY);
	munmap(ring, 2 * PG);
}

static void check_seals(int fd)
{
	char *ro, *priv, c = 0;

	check("F_SEAL_GROW | F_SEAL_SHRINK",
	      fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK) == 0 &&
	      fcntl(fd, F_GET_SEALS) == (F_SEAL_GROW | F_SEAL_SHRINK));
	check("ftruncate either way: EPERM",
	      ftruncate(fd, 2 * PG) == -1 && errno == EPERM && ftruncate(fd, 10) == -1 &&
	      errno == EPERM);
	check("a write past the end, fallocate past it: EPERM",
	      pwrite(fd, "x", 1, PG) == -1 && errno == EPERM &&
	      fallocate(fd, 0, 0, 2 * PG) == -1 && errno == EPERM);
	check("a write inside the file", pwrite(fd, "in", 2, 100) == 2);
	check("F_SEAL_WRITE once nothing shared is mapped",
	      fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == 0);
	check("write: EPERM", write(fd, "w", 1) == -1 && errno == EPERM);
	check("a writable shared mapping: EPERM",
	      mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED &&
	      errno == EPERM);
	ro = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
	check("a read-only one works, but mprotect cannot make it writable (EACCES)",
	      ro != MAP_FAILED && ro[100] == 'i' &&
	      mprotect(ro, PG, PROT_READ | PROT_WRITE) == -1 && errno == EACCES);
	priv = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	check("a private mapping is a writable copy",
	      priv != MAP_FAILED && (priv[100] = 'P', ro[100] == 'i') &&
	      pread(fd, &c, 1, 100) == 1 && c == 'i');
	check("F_SEAL_SEAL: no more seals",
	      fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL) == 0 &&
	      fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE) == -1 && errno == EPERM &&
	      fcntl(fd, F_GET_SEALS) == (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE));
	munmap(ro, PG);
	munmap(priv, PG);
}

/* FUTURE_WRITE: a mapping made before keeps writing; nothing new may. */
static void check_future_write(void)
{
	int fd = memfd_create("future", MFD_ALLOW_SEALING);
	char *old = MAP_FAILED, *late, c = 0;

	if (fd >= 0 && ftruncate(fd, PG) == 0)
		old = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	check("F_SEAL_FUTURE_WRITE with a writable mapping",
	      old != MAP_FAILED && fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE) == 0);
	if (old == MAP_FAILED)
		return;
	old[7] = 'F';
	check("the older mapping still writes the file",
	      pread(fd, &c, 1, 7) == 1 && c == 'F');
	late = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
	check("write(2) and new writable mappings: EPERM; a late read-only one stays so",
	      write(fd, "x", 1) == -1 && errno == EPERM &&
	      mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED &&
	      late != MAP_FAILED && late[7] == 'F' &&
	      mprotect(late, PG, PROT_READ | PROT_WRITE) == -1 && errno == EACCES);
	munmap(old, PG);
	munmap(late, PG);
	close(fd);
}

/* Seals belong to the file: dup'd and passed descriptors see them. */
static void check_passing(void)
{
	int fd = memfd_create("passed", MFD_ALLOW_SEALING), sv[2], dup_fd, got = -1;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	char byte = 'm';
	struct iovec v = { &byte, 1 };
	struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	struct stat a, b;

	dup_fd = dup(fd);
	check("a seal added through a dup shows on the original",
	      fcntl(dup_fd, F_ADD_SEALS, F_SEAL_SHRINK) == 0 &&
	      fcntl(fd, F_GET_SEALS) == F_SEAL_SHRINK);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &fd, sizeof(int));
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 && sendmsg(sv[0], &m, 0) == 1 &&
	    recvmsg(sv[1], &m, 0) == 1 && (h = CMSG_FIRSTHDR(&m)) && h->cmsg_type == SCM_RIGHTS)
		memcpy(&got, CMSG_DATA(h), sizeof(int));
	check("SCM_RIGHTS: the same memfd, its seals, its link",
	      got >= 0 && got != fd && fstat(got, &a) == 0 && fstat(fd, &b) == 0 &&
	      a.st_ino == b.st_ino && fcntl(got, F_GET_SEALS) == F_SEAL_SHRINK &&
	      strcmp(fd_link(got), "/memfd:passed (deleted)") == 0);
	check("a seal added by the receiver holds for the sender",
	      fcntl(got, F_ADD_SEALS, F_SEAL_WRITE) == 0 && write(fd, "x", 1) == -1 &&
	      errno == EPERM);
	close(got);
	close(dup_fd);
	close(sv[0]);
	close(sv[1]);
	close(fd);
}

/* The last close gives the file's memory back. */
static void check_freed(void)
{
	static char chunk[64 * PG];
	long f0 = free_pages(), f1, f2;
	int fd = memfd_create("big", 0);

	memset(chunk, 'b', sizeof(chunk));
	for (int i = 0; i < 16; i++)
		(void)write(fd, chunk, sizeof(chunk));	/* 4 MiB */
	f1 = free_pages();
	close(fd);
	f2 = free_pages();
	check("4 MiB written takes its frames, the last close returns them",
	      f0 - f1 >= 1000 && f2 - f1 >= 1000);
}

int main(void)
{
	int fd = memfd_create("ring", MFD_ALLOW_SEALING);

	check_create();
	check("memfd_create with MFD_ALLOW_SEALING: no seals",
	      fd >= 0 && fcntl(fd, F_GET_SEALS) == 0);
	check_ring(fd);
	check_seals(fd);
	close(fd);
	check_future_write();
	check_passing();
	check_freed();
	printf("memfd: %d of %d checks passed\n", passed, total);
	return passed == total ? 0 : 1;
}
