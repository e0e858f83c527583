/*
 * test_shim_pstore.c - what the persisted directory is made of, over
 * the host port's file-backed disks ($CUBRT_HOST_DISK):
 *  - the cpio writer (src/shim/cpio_write.c): a tree of files (empty
 *    ones too), directories (empty ones too), symbolic links, a file
 *    with three names in two directories (hard links) and one with a
 *    second name outside the packed directory, a device node and a deep
 *    path packed and unpacked again by cubi_cpio_unpack: names, modes,
 *    sizes, bytes, link targets, mtimes, the hard links one file again
 *    (one inode, nlink 3); repacking gives the same bytes; a short
 *    buffer is never overrun; errors;
 *  - the slots (src/shim/persist_store.c): A/B alternation, the highest
 *    generation chosen, a torn newest slot (payload or header) ignored,
 *    a slot copied into the other ignored, both bad = blank, -ENOSPC
 *    for an oversize snapshot leaving the disk as it was, small and
 *    read-only disks.
 */
#include "persistfix.h"

/* ------------------------------------------------------ the cpio writer */

static char big[100000];

/* /src: every kind of node the writer knows, and one it skips. */
static void build_tree(struct cubi_rnode *root)
{
	struct cubi_rnode *src = mk(root, "src", CUBI_S_IFDIR | 0755, 10), *d, *n;
	char name[8];

	n = mk(src, "empty", CUBI_S_IFREG | 0600, 1000);
	n = mk(src, "hello.txt", CUBI_S_IFREG | 0644, 0);
	assert_int_equal(cubi_ramfs_write(n, "hello", 5, 0), 5);
	assert_int_equal(cubi_ramfs_set_times(n, UINT64_MAX, 2000 * NS), 0);
	assert_int_equal(cubi_ramfs_link(n, src, "hl", 2), 0);
	mk(src, "emptydir", CUBI_S_IFDIR | 0700, 3000);
	d = mk(src, "sub", CUBI_S_IFDIR | 0750, 0);
	assert_int_equal(cubi_ramfs_link(n, d, "hl3", 3), 0);
	n = mk(src, "out", CUBI_S_IFREG | 0600, 0);	/* a name outside too */
	assert_int_equal(cubi_ramfs_write(n, "o", 1, 0), 1);
	assert_int_equal(cubi_ramfs_set_times(n, UINT64_MAX, 1500 * NS), 0);
	assert_int_equal(cubi_ramfs_link(n, root, "outside", 7), 0);
	assert_int_equal(cubi_ramfs_symlink(d, "link", 4, "../hello.txt", 12, &n), 0);
	assert_int_equal(cubi_ramfs_set_times(n, UINT64_MAX, 4000 * NS), 0);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + 3);
	n = mk(d, "big", CUBI_S_IFREG | 0640, 0);
	assert_int_equal(cubi_ramfs_write(n, big, sizeof(big), 0), sizeof(big));
	assert_int_equal(cubi_ramfs_set_times(n, UINT64_MAX, 5000 * NS), 0);
	assert_int_equal(cubi_ramfs_set_times(d, UINT64_MAX, 6000 * NS), 0);
	assert_int_equal(cubi_ramfs_mknod(src, "null", 4, 0666, 0x103, &n), 0);
	d = src;
	for (int i = 0; i < DEEP; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		d = mk(d, name, CUBI_S_IFDIR | 0711, 0);
	}
	n = mk(d, "leaf", CUBI_S_IFREG | 0444, 7000);
	assert_int_equal(cubi_ramfs_write(n, "deep", 4, 0), 4);
	assert_int_equal(cubi_ramfs_set_times(n, UINT64_MAX, 7000 * NS), 0);
	d = src;
	for (int i = 0; i < DEEP; i++) {	/* after their children came */
		snprintf(name, sizeof(name), "d%d", i);
		d = get(d, name);
		assert_int_equal(cubi_ramfs_set_times(d, UINT64_MAX, (8000 + i) * NS), 0);
	}
	assert_int_equal(cubi_ramfs_set_times(src, UINT64_MAX, 10 * NS), 0);
}

/* What build_tree made, found under top (the copy of /src). */
static void check_tree(struct cubi_rnode *top)
{
	struct cubi_rnode *d, *n;
	static char buf[100000];
	struct cubi_rstat st;
	char name[8];
	size_t tlen;

	n = get(top, "empty");
	expect_node(n, CUBI_S_IFREG | 0600, 0, 1000);
	n = get(top, "hello.txt");
	expect_node(n, CUBI_S_IFREG | 0644, 5, 2000);
	assert_int_equal(cubi_ramfs_read(n, buf, 10, 0), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_ptr_equal(get(top, "hl"), n);	/* one file, three names */
	cubi_ramfs_stat(n, &st);
	assert_int_equal(st.nlink, 3);
	expect_node(get(top, "emptydir"), CUBI_S_IFDIR | 0700, 2 * 32, 3000);
	d = get(top, "sub");
	assert_ptr_equal(get(d, "hl3"), n);
	expect_node(d, CUBI_S_IFDIR | 0750, 5 * 32, 6000);
	n = get(top, "out");		/* its other name was not packed */
	expect_node(n, CUBI_S_IFREG | 0600, 1, 1500);
	cubi_ramfs_stat(n, &st);
	assert_int_equal(st.nlink, 1);
	n = get(d, "link");
	expect_node(n, CUBI_S_IFLNK | 0777, 12, 4000);
	assert_string_equal(cubi_ramfs_link_target(n, &tlen), "../hello.txt");
	n = get(d, "big");
	expect_node(n, CUBI_S_IFREG | 0640, sizeof(big), 5000);
	assert_int_equal(cubi_ramfs_read(n, buf, sizeof(buf), 0), sizeof(big));
	assert_memory_equal(buf, big, sizeof(big));
	assert_int_equal(cubi_ramfs_lookup(top, "null", 4, &n), -CUB_ENOENT);
	d = top;
	for (int i = 0; i < DEEP; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		d = get(d, name);
		expect_node(d, CUBI_S_IFDIR | 0711, 0, 8000 + (uint64_t)i);
	}
	n = get(d, "leaf");
	expect_node(n, CUBI_S_IFREG | 0444, 4, 7000);
	assert_int_equal(cubi_ramfs_read(n, buf, 10, 0), 4);
	assert_memory_equal(buf, "deep", 4);
}

static void roundtrip_body(void)
{
	struct cubi_rnode *root, *dst;
	struct cubi_cpio_stats st, st2;
	uint8_t *a, *b;
	long n, m;

	cubi_fs_lock();
	root = cubi_ramfs_root();
	build_tree(root);
	n = cubi_cpio_write(get(root, "src"), NULL, 0, &st);
	assert_true(n > (long)sizeof(big));
	assert_int_equal(n % 4, 0);
	assert_int_equal(st.files, 5);		/* empty, hello, out, big, leaf */
	assert_int_equal(st.hardlinks, 2);	/* hl, sub/hl3 */
	assert_int_equal(st.bytes, 5 + 1 + sizeof(big) + 4);
	assert_int_equal(st.dirs, 2 + DEEP);
	assert_int_equal(st.links, 1);
	a = malloc((size_t)n + 16);
	memset(a, 0xee, (size_t)n + 16);
	assert_int_equal(cubi_cpio_write(get(root, "src"), a, 100, NULL), n);
	for (int i = 100; i < n + 16; i++)	/* a short buffer: not a byte past */
		assert_int_equal(a[i], 0xee);
	assert_int_equal(cubi_cpio_write(get(root, "src"), a, (size_t)n, NULL), n);
	assert_int_equal(a[n], 0xee);
	assert_memory_equal(a, "070701", 6);
	assert_memory_equal(a + n - 14, "TRAILER!!!", 10);
	dst = mk(root, "dst", CUBI_S_IFDIR | 0755, 0);
	assert_int_equal(cubi_cpio_unpack(a, (size_t)n, dst, NULL), 5 + 2 + 1 + 2 + DEEP);
	check_tree(dst);
	m = cubi_cpio_write(dst, NULL, 0, &st2);
	assert_int_equal(m, n);
	assert_memory_equal(&st, &st2, sizeof(st));
	b = malloc((size_t)m);
	assert_int_equal(cubi_cpio_write(dst, b, (size_t)m, NULL), m);
	assert_memory_equal(a, b, (size_t)n);	/* the same tree, the same bytes */
	cubi_fs_unlock();
	free(a);
	free(b);
}

static void test_cpio_roundtrip(void **state)
{
	(void)state;
	run_fresh(roundtrip_body, false);
}

static void cpio_errors_body(void)
{
	struct cubi_rnode *root, *d, *n;
	struct cubi_cpio_stats st;
	char name[256];
	uint8_t buf[200];

	cubi_fs_lock();
	root = cubi_ramfs_root();
	d = mk(root, "e", CUBI_S_IFDIR | 0755, 0);
	assert_int_equal(cubi_cpio_write(d, NULL, 0, &st), 124);	/* the trailer */
	assert_int_equal(st.files + st.dirs + st.links, 0);
	assert_int_equal(cubi_cpio_write(d, buf, sizeof(buf), NULL), 124);
	assert_int_equal(cubi_cpio_unpack(buf, 124, d, NULL), 0);
	n = mk(d, "f", CUBI_S_IFREG | 0644, 0);
	assert_int_equal(cubi_cpio_write(n, NULL, 0, NULL), -CUB_ENOTDIR);
	memset(name, 'n', 255);
	name[255] = '\0';
	for (int i = 0; i < 17; i++)	/* 17 * 256 bytes: past 4095 */
		d = mk(d, name, CUBI_S_IFDIR | 0755, 0);
	assert_int_equal(cubi_cpio_write(get(root, "e"), NULL, 0, NULL), -CUB_ENAMETOOLONG);
	cubi_fs_unlock();
}

static void test_cpio_errors(void **state)
{
	(void)state;
	run_fresh(cpio_errors_body, false);
}

/* ------------------------------------------------------------ the slots */

static struct cub_blk *disk0(void)
{
	struct cub_blk *dev;

	assert_int_equal(cub_blk_open(0, &dev), 0);
	return dev;
}

/* Opens the store and checks what it finds: generation gen, holding
 * text (NULL: blank). */
static void expect_store(struct cubi_pstore *s, uint64_t gen, const char *text)
{
	void *p;
	size_t len;

	assert_int_equal(cubi_pstore_open(s, disk0(), &p, &len), 0);
	assert_int_equal(s->gen, gen);
	if (!text) {
		assert_null(p);
		assert_int_equal(len, 0);
		assert_int_equal(s->slot, -1);
		return;
	}
	assert_int_equal(len, strlen(text));
	assert_memory_equal(p, text, len);
	cub_free(p);
}

static void save(struct cubi_pstore *s, const char *text, int slot)
{
	assert_int_equal(cubi_pstore_save(s, text, strlen(text)), 0);
	assert_int_equal(s->slot, slot);
	assert_int_equal(disk_gen(slot), s->gen);
}

static void slots_body(void)
{
	struct cubi_pstore s;

	expect_store(&s, 0, NULL);			/* all zeros: blank */
	assert_int_equal(cubi_pstore_capacity(&s), CAPACITY);
	save(&s, "one", 0);
	assert_int_equal(s.gen, 1);
	expect_store(&s, 1, "one");
	save(&s, "two", 1);
	expect_store(&s, 2, "two");
	assert_int_equal(disk_gen(0), 1);		/* the old one stays */
	save(&s, "three", 0);
	expect_store(&s, 3, "three");
	save(&s, "four", 1);
	/* Torn newest payload (slot B, gen 4): gen 3 wins. */
	flip_byte(SLOT_BYTES + 512 + 2);
	expect_store(&s, 3, "three");
	assert_int_equal(s.slot, 0);
	save(&s, "five", 1);				/* over the torn one */
	assert_int_equal(s.gen, 4);
	expect_store(&s, 4, "five");
	/* Torn newest header: the generation field changed, CRC wrong. */
	flip_byte(SLOT_BYTES + 16);
	expect_store(&s, 3, "three");
	/* Both bad: blank; the next snapshot is generation 1 in A. */
	flip_byte(512);
	expect_store(&s, 0, NULL);
	save(&s, "again", 0);
	assert_int_equal(s.gen, 1);
	expect_store(&s, 1, "again");
}

static void test_slots(void **state)
{
	(void)state;
	make_disks(1, DISK_SIZE, "");
	run_fresh(slots_body, false);
	drop_disks(1);
}

/* A whole valid slot (header and payload) copied into the other slot
 * does not count there: its header names the slot it belongs to. */
static void wrong_slot_body(void)
{
	struct cubi_pstore s;
	uint8_t sec[1024];

	expect_store(&s, 0, NULL);
	save(&s, "aaaa", 0);
	save(&s, "bbbb", 1);
	save(&s, "cccc", 0);			/* gen 3 in A, 2 in B */
	assert_int_equal(pread(hfds[0], sec, 1024, 0), 1024);
	assert_int_equal(pwrite(hfds[0], sec, 1024, SLOT_BYTES), 1024);
	assert_int_equal(disk_gen(1), 3);	/* B's claims 3 now */
	flip_byte(512);				/* A torn: B's copy must not count */
	expect_store(&s, 0, NULL);
}

static void test_wrong_slot(void **state)
{
	(void)state;
	make_disks(1, DISK_SIZE, "");
	run_fresh(wrong_slot_body, false);
	drop_disks(1);
}

static char huge[CAPACITY + 1];

static void nospace_body(void)
{
	struct cubi_pstore s;
	void *was;

	expect_store(&s, 0, NULL);
	save(&s, "first", 0);
	save(&s, "second", 1);
	was = disk_copy();
	memset(huge, 'h', sizeof(huge));
	assert_int_equal(cubi_pstore_save(&s, huge, CAPACITY + 1), -CUB_ENOSPC);
	assert_int_equal(s.gen, 2);
	assert_int_equal(s.slot, 1);
	disk_same(was);
	free(was);
	expect_store(&s, 2, "second");
	assert_int_equal(cubi_pstore_save(&s, huge, CAPACITY), 0);	/* just fits */
	huge[CAPACITY] = '\0';
	expect_store(&s, 3, huge);
	assert_int_equal(s.slot, 0);
}

static void test_nospace(void **state)
{
	(void)state;
	make_disks(1, DISK_SIZE, "");
	run_fresh(nospace_body, false);
	drop_disks(1);
}

static void small_body(void)
{
	struct cubi_pstore s;
	void *p;
	size_t len;

	assert_int_equal(cubi_pstore_open(&s, disk0(), &p, &len), -CUB_EINVAL);
	assert_int_equal(cubi_pstore_open(&s, NULL, &p, &len), -CUB_EINVAL);
}

static void test_small_disk(void **state)
{
	(void)state;
	make_disks(1, 3 * 512 + 100, "");		/* 3 sectors */
	run_fresh(small_body, false);
	drop_disks(1);
}

static void ro_body(void)
{
	struct cubi_pstore s;
	void *p;
	size_t len;

	assert_int_equal(cubi_pstore_open(&s, disk0(), &p, &len), -CUB_EROFS);
}

static void test_ro_disk(void **state)
{
	(void)state;
	make_disks(1, DISK_SIZE, ":ro");
	run_fresh(ro_body, false);
	drop_disks(1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpio_roundtrip),
		cmocka_unit_test(test_cpio_errors),
		cmocka_unit_test(test_slots),
		cmocka_unit_test(test_wrong_slot),
		cmocka_unit_test(test_nospace),
		cmocka_unit_test(test_small_disk),
		cmocka_unit_test(test_ro_disk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
