/*
 * fs_xfer.c - copying between descriptors in the kernel: sendfile and
 * copy_file_range.
 *
 * Both move bytes through a bounce buffer with the descriptor layer's
 * own reads and writes (fd.c), so any readable descriptor feeds any
 * writable one (copy_file_range keeps Linux's rule: regular files
 * only), and they block where read and write would. A reading offset
 * pointer makes the reads positional (pread) and leaves the file
 * position alone. When a write takes fewer bytes than were read (a
 * non-blocking destination filled up), a seekable source is moved back
 * so no byte is lost; from a pipe or socket the bytes read but not
 * written are lost (Linux splices instead and keeps them) — a
 * non-blocking destination fed from a pipe should use read and write.
 */
#include <cubrt/heap.h>
#include <cubrt/string.h>

#include "shim_impl.h"

#define CHUNK (64 * 1024)
#define MAX_RW 0x7ffff000ul	/* Linux's MAX_RW_COUNT */
#define O_APPEND 02000u
#define SEEK_CUR 1

/* One end of a copy: a descriptor and its offset (pos: at the file
 * position instead). */
struct end {
	uint64_t fd;
	bool pos;
	int64_t off;
};

static long end_io(struct end *e, char *buf, size_t n, bool out)
{
	if (e->pos)
		return out ? cubi_fd_write(e->fd, (uintptr_t)buf, n)
			   : cubi_fd_read(e->fd, (uintptr_t)buf, n);
	return cubi_fd_pio(e->fd, (uintptr_t)buf, n, e->off, out);
}

/* Copies up to count bytes: the count, or -errno before any byte. A
 * short read (the end of a file, or all a pipe has now) ends it. */
static long copy(struct end *in, struct end *out, size_t count)
{
	char *buf = count ? cub_malloc(CHUNK) : NULL;
	size_t done = 0;
	long got = 0, put = 0;

	if (count && !buf)
		return -CUB_ENOMEM;
	while (done < count) {
		size_t n = count - done < CHUNK ? count - done : CHUNK;

		if ((got = end_io(in, buf, n, false)) <= 0)
			break;
		put = end_io(out, buf, (size_t)got, true);
		if (put > 0) {
			done += (size_t)put;
			in->off += put;
			out->off += put;
		}
		if (put < got) {
			if (in->pos && cubi_fd_seekable(in->fd))	/* give back */
				cubi_fd_seek(in->fd, put > 0 ? put - got : -got, SEEK_CUR);
			break;
		}
		if ((size_t)got < n)
			break;
	}
	cub_free(buf);
	if (done)
		return (long)done;
	return got < 0 ? got : put < 0 ? put : 0;
}

/* The open flags of fd, or -EBADF. */
static long fd_flags(uint64_t fd)
{
	struct cubi_file *f = cubi_fd_get(fd);
	long flags;

	if (!f)
		return -CUB_EBADF;
	flags = f->flags;
	cubi_file_put(f);
	return flags;
}

static bool readable(long flags)
{
	return (flags & CUBI_O_ACCMODE) != CUBI_O_WRONLY;
}

static bool writable(long flags)
{
	return (flags & CUBI_O_ACCMODE) == CUBI_O_WRONLY ||
	       (flags & CUBI_O_ACCMODE) == CUBI_O_RDWR;
}

/* sendfile(out_fd, in_fd, offset, count): offset NULL reads at in_fd's
 * position; else at *offset (in_fd seekable), which is advanced by the
 * bytes sent while the position stays. */
CUBI_SYS(sendfile)
{
	struct end out = { A0(r), true, 0 }, in = { A1(r), !A2(r), 0 };
	long fin = fd_flags(in.fd), fout = fd_flags(out.fd), rc;
	size_t count = A3(r) > MAX_RW ? MAX_RW : A3(r);

	if (fin < 0 || fout < 0 || !readable(fin) || !writable(fout))
		return -CUB_EBADF;
	if (fout & O_APPEND)
		return -CUB_EINVAL;
	if (!in.pos) {
		if (cubi_copy_in(&in.off, A2(r), sizeof(in.off)))
			return -CUB_EFAULT;
		if (!cubi_fd_seekable(in.fd))
			return -CUB_ESPIPE;
		if (in.off < 0)
			return -CUB_EINVAL;
	}
	rc = copy(&in, &out, count);
	if (!in.pos && rc >= 0 && cubi_copy_out(A2(r), &in.off, sizeof(in.off)))
		return -CUB_EFAULT;
	return rc;
}

/* ---------------------------------------------------- copy_file_range */

/* An end of copy_file_range: a regular file (-EISDIR, -EINVAL), its
 * offset from uoff or, with uoff NULL, its position. */
static long cfr_end(struct end *e, uintptr_t uoff, struct cubi_rstat *st)
{
	long rc = cubi_fd_stat(e->fd, st);

	if (rc)
		return rc;
	if ((st->mode & CUBI_S_IFMT) == CUBI_S_IFDIR)
		return -CUB_EISDIR;
	if ((st->mode & CUBI_S_IFMT) != CUBI_S_IFREG)
		return -CUB_EINVAL;
	if (!uoff) {
		e->pos = true;
		e->off = cubi_fd_seek(e->fd, 0, SEEK_CUR);
		return e->off < 0 ? e->off : 0;
	}
	if (cubi_copy_in(&e->off, uoff, sizeof(e->off)))
		return -CUB_EFAULT;
	return e->off < 0 ? -CUB_EINVAL : 0;
}

/* copy_file_range(fd_in, off_in, fd_out, off_out, len, flags). */
CUBI_SYS(copy_file_range)
{
	struct end in = { A0(r), false, 0 }, out = { A2(r), false, 0 };
	long fin = fd_flags(in.fd), fout = fd_flags(out.fd), rc;
	size_t len = A4(r) > MAX_RW ? MAX_RW : A4(r);
	struct cubi_rstat sin, sout;

	if (A5(r))
		return -CUB_EINVAL;
	if (fin < 0 || fout < 0 || !readable(fin) || !writable(fout) || (fout & O_APPEND))
		return -CUB_EBADF;
	if ((rc = cfr_end(&in, A1(r), &sin)) || (rc = cfr_end(&out, A3(r), &sout)))
		return rc;
	if (sin.ino == sout.ino && (uint64_t)in.off < (uint64_t)out.off + len &&
	    (uint64_t)out.off < (uint64_t)in.off + len)
		return -CUB_EINVAL;	/* overlapping ranges of one file */
	rc = copy(&in, &out, len);
	if (rc >= 0 && A1(r) && cubi_copy_out(A1(r), &in.off, sizeof(in.off)))
		return -CUB_EFAULT;
	if (rc >= 0 && A3(r) && cubi_copy_out(A3(r), &out.off, sizeof(out.off)))
		return -CUB_EFAULT;
	return rc;
}
