/*
 * socket_unix.c - the names of AF_UNIX sockets: bind to a path (a
 * socket node in the file system) or to an abstract name (sun_path
 * starting with a NUL byte: in memory only, gone with the socket), and
 * connect's (and a SOCK_DGRAM send's) lookup of the socket a name leads
 * to. socket.c, socket_conn.c and socket_addr.c do the rest as for TCP
 * (listen, the connection, accept, getsockname); the data go through
 * socket_stream.c's rings (SOCK_STREAM) or socket_umsg.c's messages.
 *
 * A socket bound by bind has an id and sits on unix_names. A path's node
 * carries that id (cubi_ramfs_mksock) and lives until the program unlinks
 * it: connect resolves the path to the id under the fs lock and then,
 * inside the fd layer's critical section, looks the id up among the live
 * sockets. A node whose socket has closed finds none (-ECONNREFUSED, as
 * on Linux). No pointer leads from the tree to a socket or back, so the
 * node and the socket may each outlive the other.
 *
 * Semantics (Linux's unix_bind, unix_find_other):
 *  - An address is 2 < addrlen <= 110 bytes with sun_family AF_UNIX,
 *    else -EINVAL. A path is sun_path up to its first NUL or addrlen - 2
 *    bytes; getsockname shows it with its NUL (addrlen strlen + 3; 111
 *    for a 108-byte path, as on Linux). An abstract name is all addrlen -
 *    2 bytes, NULs included. bind with addrlen 2 (autobind) picks an
 *    abstract name "\0" + 5 hex digits (0 if the socket has a name).
 *  - bind to a path creates the node, mode S_IFSOCK | 0777 & ~umask;
 *    -EADDRINUSE when the name exists (a stale node too: unlink is the
 *    program's job), the walk's errors (-ENOENT, -ENOTDIR, ...), then
 *    -EINVAL when the socket has a name already (the node is removed
 *    again). An abstract bind: -EINVAL when named, -EADDRINUSE when the
 *    name is taken.
 *  - connect's lookup: -EINVAL for a bad address, the walk's errors,
 *    -ECONNREFUSED when the node is no socket node (a regular file, a
 *    directory) or the abstract name is unbound; socket_conn.c then refuses
 *    when the id finds no live listening socket.
 *
 * Choices: ids are 32 bits, never 0, unique among the sockets on
 * unix_names; after 2^32 binds a stale node could carry the id of a new
 * socket and connect to it (a program would have to keep a stale node
 * that long). The socket holds its names (its own, its peer's) by value,
 * so getpeername works after the peer has gone, as on Linux.
 *
 * Invariants: s is on unix_names iff s->in_table (bound by bind); then
 * s->un_len > 0 and s->un_id != 0, no other socket on the list has its
 * id, nor (an abstract name) its name. An accepted socket has its
 * listener's name (un_len > 0) but is on no list.
 *
 * Locking: unix_names, next_id, next_auto and the sockets' fields under
 * the fd layer's critical section (interrupts disabled). A path bind or
 * lookup also holds the fs lock (taken first, with interrupts enabled:
 * ramfs allocates) around the walk and the node: naming the socket
 * happens in a critical section inside it, and rechecks that the socket
 * is still unnamed (another thread may have bound it meanwhile).
 */
#include <cubrt/arch.h>
#include <cubrt/list.h>
#include <cubrt/string.h>

#include "fs_impl.h"
#include "socket.h"

#define AUTO_NAMES 0x100000u	/* autobind's names: 5 hex digits */

static struct cub_list unix_names = CUB_LIST_INIT(unix_names);
static uint32_t next_id = 1;
static uint32_t next_auto;

static struct cubi_sock *of_link(struct cub_list *l)
{
	return cub_container_of(l, struct cubi_sock, link);
}

struct cubi_sock *cubi_unix_find(uint32_t id)
{
	struct cub_list *pos;

	cub_list_for_each(pos, &unix_names)
		if (of_link(pos)->un_id == id)
			return of_link(pos);
	return NULL;
}

/* The socket bound to abstract name (n bytes, '\0' first), or NULL
 * (irq off). */
static struct cubi_sock *find_abstract(const char *name, size_t n)
{
	struct cub_list *pos;

	cub_list_for_each(pos, &unix_names) {
		struct cubi_sock *s = of_link(pos);

		if (s->un_len == n && !s->un_name[0] && cub_memcmp(s->un_name, name, n) == 0)
			return s;
	}
	return NULL;
}

/* An id no socket on unix_names has (irq off). */
static uint32_t new_id(void)
{
	uint32_t id;

	do
		id = next_id++;
	while (!id || cubi_unix_find(id));
	return id;
}

void cubi_unix_saddr(struct cubi_saddr *sa, const char *name, size_t n)
{
	cub_memset(sa, 0, sizeof(*sa));
	sa->b[0] = CUBI_AF_UNIX;
	cub_memcpy(sa->b + 2, name, n);
	sa->len = 2 + (uint32_t)n;
}

/* The name a sockaddr_un gives, into name: its length (a path with its
 * NUL, or an abstract name), 0 for addrlen 2 (autobind), or -EINVAL. */
static long parse(const uint8_t *a, int len, char name[CUBI_SUN_NAME])
{
	size_t n = (size_t)len - 2, k = 0;

	if (len < 2 || (unsigned)len > CUBI_SUN_SIZE || cubi_sa_family(a) != CUBI_AF_UNIX)
		return -CUB_EINVAL;
	if (a[2] == 0) {
		cub_memcpy(name, a + 2, n);
		return (long)n;		/* abstract, or 0: autobind */
	}
	while (k < n && a[2 + k])
		k++;
	cub_memcpy(name, a + 2, k);
	name[k] = '\0';
	return (long)k + 1;
}

/* Gives s the name (n bytes; a path's node carries id, an abstract name
 * gets a fresh one: id 0), irq off. 0, -EINVAL (named already),
 * -EADDRINUSE (the abstract name is taken). */
static long name_locked(struct cubi_sock *s, const char *name, size_t n, uint32_t id)
{
	if (s->un_len)
		return -CUB_EINVAL;
	if (!name[0] && find_abstract(name, n))
		return -CUB_EADDRINUSE;
	s->un_id = id ? id : new_id();
	cub_memcpy(s->un_name, name, n);
	s->un_len = (uint8_t)n;
	s->in_table = true;
	cub_list_push_back(&unix_names, &s->link);
	return 0;
}

/* Autobind (irq off): the first free name from next_auto on; a socket
 * with a name keeps it (0, as on Linux). */
static long autobind_locked(struct cubi_sock *s)
{
	static const char hex[] = "0123456789abcdef";
	char name[6];

	if (s->un_len)
		return 0;
	for (unsigned i = 0; i < AUTO_NAMES; i++) {
		unsigned v = next_auto++ % AUTO_NAMES;

		name[0] = '\0';
		for (int d = 0; d < 5; d++)
			name[1 + d] = hex[(v >> (16 - 4 * d)) & 0xf];
		if (!find_abstract(name, sizeof(name)))
			return name_locked(s, name, sizeof(name), 0);
	}
	return -CUB_EADDRINUSE;
}

struct bind_args {
	struct cubi_sock *s;
	const char *name;	/* the path with its NUL */
	size_t n;
};

/* A path bind (fs lock held): the node, then the name. */
static long bind_op(struct cubi_rnode *start, const char *path, void *arg)
{
	struct bind_args *b = arg;
	struct cubi_rnode *node;
	struct cubi_walk w;
	unsigned long irq;
	uint32_t id;
	long rc = cubi_path_walk(start, path, &w);

	if (rc)
		return rc;
	if (!w.len || cubi_ramfs_lookup(w.dir, w.name, w.len, &node) == 0)
		return -CUB_EADDRINUSE;	/* Linux: mknod's EEXIST */
	if (w.slash)
		return -CUB_ENOENT;	/* "x/" creates no socket */
	irq = cub_arch_irq_save();
	id = new_id();
	cub_arch_irq_restore(irq);
	rc = cubi_ramfs_mksock(w.dir, w.name, w.len, 0777 & ~cubi_fs_umask, id, &node);
	if (rc)
		return rc;
	irq = cub_arch_irq_save();
	rc = name_locked(b->s, b->name, b->n, id);
	cub_arch_irq_restore(irq);
	if (rc)			/* named meanwhile: take the node back */
		cubi_ramfs_unlink(w.dir, w.name, w.len, false);
	return rc;
}

long cubi_unix_bind(struct cubi_sock *s, const uint8_t *a, int len)
{
	char name[CUBI_SUN_NAME];
	long n = parse(a, len, name);
	struct bind_args b = { s, name, (size_t)n };
	unsigned long irq;

	if (n < 0)
		return n;
	if (n > 0 && name[0])
		return cubi_fs_kpath_call(name, bind_op, &b);
	irq = cub_arch_irq_save();
	n = n ? name_locked(s, name, (size_t)n, 0) : autobind_locked(s);
	cub_arch_irq_restore(irq);
	return n;
}

/* connect's path (fs lock held): the id its socket node carries. A
 * magic link's object outside the tree (/proc/self/fd/N of a socket or
 * pipe) is bound to no name: refused, as on Linux. */
static long lookup_op(struct cubi_rnode *start, const char *path, void *arg)
{
	uint32_t *id = arg;
	struct cubi_rnode *n;
	struct cubi_file *f;
	int rc = cubi_path_resolve_obj(start, path, CUBI_WALK_FOLLOW, &n, &f);

	if (rc)
		return rc;
	*id = f ? 0 : cubi_ramfs_sock_id(n);
	return *id ? 0 : -CUB_ECONNREFUSED;
}

long cubi_unix_lookup(const uint8_t *a, int len, uint32_t *id)
{
	char name[CUBI_SUN_NAME];
	long n = parse(a, len, name);
	unsigned long irq;
	struct cubi_sock *s;

	if (n <= 0)
		return n ? n : -CUB_EINVAL;	/* addrlen 2 names nothing */
	if (name[0])
		return cubi_fs_kpath_call(name, lookup_op, id);
	irq = cub_arch_irq_save();
	s = find_abstract(name, (size_t)n);
	*id = s ? s->un_id : 0;
	cub_arch_irq_restore(irq);
	return *id ? 0 : -CUB_ECONNREFUSED;
}
