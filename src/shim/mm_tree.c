/*
 * mm_tree.c - where the mapping table (mm_table.c) keeps its vmas: an
 * AVL tree of vma nodes ordered by address, each node also knowing the
 * free gap below its vma, in a pool of nodes that lives in frames.
 *
 * Why this shape. The table had been a sorted array: a lookup was a
 * binary search, but every insert, split, merge or remove shifted the
 * tail, so n munmaps from the front of n mappings moved O(n^2) bytes.
 * Linux allows 65,530 mappings, and Go's runtime and musl's malloc make
 * many. Here lookup, insert, remove and the step to a neighbour are
 * O(log n) whatever the mapping count (an AVL tree's height stays under
 * 1.45 log2(n + 2)), and so is the search for a free gap: every node
 * keeps the gap between its vma's start and the previous vma's end, and
 * the largest such gap in its subtree (as Linux's vma tree does), so the
 * lowest gap of a length is found by descending only into subtrees that
 * have one. An AVL tree of separate nodes rather than a B-tree of
 * frame-sized nodes: a vma's node never moves while others are added
 * (a split leaves the left half where it was), and the code is a few
 * short routines; the price is 96 bytes a vma against 48 in an array.
 *
 * The pool: node k of the n in use is first_nodes[k] (k < FIRST, in
 * .bss) or slot (k - FIRST) % PER of frame (k - FIRST) / PER (frames
 * taken by cub_frame_alloc, as the array's frames were, never the heap:
 * the calls run with interrupts off). The nodes in use are always
 * 0..n-1: a freed node's slot takes the last node (its neighbours'
 * links follow it), and a frame whose slots are all past n goes back at
 * once, so the memory follows the mapping count, a burst of mappings
 * keeps no frames, and the table never fills up with holes.
 *
 * Invariants: the tree's in-order walk is the vmas sorted by start
 * (disjoint, so by end too); every node's h is its subtree's height and
 * its children's heights differ by one at most; gap = start - previous
 * vma's end (start itself for the first) and maxgap = the largest gap in
 * the subtree; the n nodes in use are exactly pool nodes 0..n-1.
 * cubi_mm_tree_check verifies all of them (the unit test does, after
 * every step).
 * Locking: the memory calls' critical section (irq off: mm_impl.h).
 */
#include <cubrt/arch.h>
#include <cubrt/mem.h>

#include "mm_impl.h"

#define MAX_VMAS 65530		/* Linux's default vm.max_map_count */
#define FIRST 1024		/* nodes in .bss; the rest in frames */
#define PG CUB_PAGE_SIZE

struct vnode {
	struct cubi_mm_vma v;	/* first: a vma's address is its node's */
	struct vnode *l, *r, *up;
	uintptr_t gap, maxgap;
	int h;			/* 1 for a leaf */
};

#define PER (PG / sizeof(struct vnode))			/* nodes a frame */
#define CHUNKS ((MAX_VMAS - FIRST + PER - 1) / PER)

static struct vnode first_nodes[FIRST];
static struct vnode *chunks[CHUNKS];
static struct vnode *root;
static size_t n;
size_t cubi_mm_tree_visits;

static struct vnode *node_at(size_t k)
{
	return k < FIRST ? &first_nodes[k] : &chunks[(k - FIRST) / PER][(k - FIRST) % PER];
}

static int height(const struct vnode *t)
{
	return t ? t->h : 0;
}

static uintptr_t maxgap(const struct vnode *t)
{
	return t ? t->maxgap : 0;
}

/* t's h and maxgap from its children's. */
static void pull(struct vnode *t)
{
	int hl = height(t->l), hr = height(t->r);
	uintptr_t g = CUB_MAX(maxgap(t->l), maxgap(t->r));

	t->h = 1 + CUB_MAX(hl, hr);
	t->maxgap = CUB_MAX(t->gap, g);
}

/* Puts c where child old of parent up was (the root when up is NULL). */
static void relink(struct vnode *up, const struct vnode *old, struct vnode *c)
{
	if (!up)
		root = c;
	else if (up->l == old)
		up->l = c;
	else
		up->r = c;
	if (c)
		c->up = up;
}

/* x's right child takes x's place, x becoming its left; the new top. */
static struct vnode *rotate_left(struct vnode *x)
{
	struct vnode *y = x->r;

	x->r = y->l;
	if (y->l)
		y->l->up = x;
	relink(x->up, x, y);
	y->l = x;
	x->up = y;
	pull(x);
	pull(y);
	return y;
}

static struct vnode *rotate_right(struct vnode *x)
{
	struct vnode *y = x->l;

	x->l = y->r;
	if (y->r)
		y->r->up = x;
	relink(x->up, x, y);
	y->r = x;
	x->up = y;
	pull(x);
	pull(y);
	return y;
}

/* From t up to the root: heights and gaps recomputed, each node out of
 * balance rotated back (one or two rotations), as after any insert,
 * removal or gap change below t. O(height). */
static void settle(struct vnode *t)
{
	for (; t; t = t->up) {
		int bf;

		cubi_mm_tree_visits++;
		pull(t);
		bf = height(t->l) - height(t->r);
		if (bf > 1) {
			if (height(t->l->l) < height(t->l->r))
				rotate_left(t->l);
			t = rotate_right(t);
		} else if (bf < -1) {
			if (height(t->r->r) < height(t->r->l))
				rotate_right(t->r);
			t = rotate_left(t);
		}
	}
}

/* A node's vma (v is its first member), NULL for none. */
static struct cubi_mm_vma *vma_of(struct vnode *t)
{
	return t ? &t->v : NULL;
}

static struct vnode *leftmost(struct vnode *t)
{
	while (t && t->l) {
		cubi_mm_tree_visits++;
		t = t->l;
	}
	return t;
}

static struct vnode *rightmost(struct vnode *t)
{
	while (t && t->r) {
		cubi_mm_tree_visits++;
		t = t->r;
	}
	return t;
}

struct cubi_mm_vma *cubi_mm_vma_first(void)
{
	return vma_of(leftmost(root));
}

struct cubi_mm_vma *cubi_mm_vma_last(void)
{
	return vma_of(rightmost(root));
}

struct cubi_mm_vma *cubi_mm_vma_next(const struct cubi_mm_vma *v)
{
	struct vnode *t = (struct vnode *)v;

	if (t->r)
		return vma_of(leftmost(t->r));
	while (t->up && t->up->r == t) {
		cubi_mm_tree_visits++;
		t = t->up;
	}
	return vma_of(t->up);
}

struct cubi_mm_vma *cubi_mm_vma_prev(const struct cubi_mm_vma *v)
{
	struct vnode *t = (struct vnode *)v;

	if (t->l)
		return vma_of(rightmost(t->l));
	while (t->up && t->up->l == t) {
		cubi_mm_tree_visits++;
		t = t->up;
	}
	return vma_of(t->up);
}

struct cubi_mm_vma *cubi_mm_vma_find(uintptr_t addr)
{
	struct vnode *best = NULL;

	for (struct vnode *t = root; t;) {
		cubi_mm_tree_visits++;
		if (t->v.end > addr) {
			best = t;
			t = t->l;
		} else {
			t = t->r;
		}
	}
	return vma_of(best);
}

struct cubi_mm_vma *cubi_mm_vma_at(uintptr_t addr)
{
	struct cubi_mm_vma *v = cubi_mm_vma_find(addr);

	return v && v->start <= addr ? v : NULL;
}

size_t cubi_mm_vma_count(void)
{
	return n;
}

size_t cubi_mm_tree_frames(void)
{
	return n > FIRST ? (n - FIRST + PER - 1) / PER : 0;
}

/* The gap below t's vma: from the previous vma's end (0 for the first). */
static void set_gap(struct vnode *t)
{
	const struct cubi_mm_vma *p = cubi_mm_vma_prev(&t->v);

	t->gap = t->v.start - (p ? p->end : 0);
}

struct cubi_mm_vma *cubi_mm_tree_add(const struct cubi_mm_vma *v)
{
	struct vnode *z, *up = NULL, **link = &root;
	struct cubi_mm_vma *next;

	if (n == MAX_VMAS)
		return NULL;
	if (n >= FIRST && (n - FIRST) % PER == 0) {	/* the next frame */
		uintptr_t pa = cub_frame_alloc(0);

		if (!pa)
			return NULL;
		chunks[(n - FIRST) / PER] = (struct vnode *)pa;
	}
	z = node_at(n++);
	while (*link) {
		cubi_mm_tree_visits++;
		up = *link;
		link = v->start < up->v.start ? &up->l : &up->r;
	}
	*z = (struct vnode){ .v = *v, .up = up, .h = 1 };
	*link = z;
	set_gap(z);
	settle(z);
	if ((next = cubi_mm_vma_next(&z->v))) {
		set_gap((struct vnode *)next);
		settle((struct vnode *)next);
	}
	return &z->v;
}

/* Pool node t is out of the tree: the last node in use moves into its
 * slot, and a frame no node uses any more goes back. */
static void pool_free(struct vnode *t)
{
	struct vnode *last = node_at(--n);

	if (last != t) {
		*t = *last;
		relink(t->up, last, t);
		if (t->l)
			t->l->up = t;
		if (t->r)
			t->r->up = t;
	}
	if (n >= FIRST && (n - FIRST) % PER == 0) {
		cub_frame_free((uintptr_t)chunks[(n - FIRST) / PER]);
		chunks[(n - FIRST) / PER] = NULL;
	}
}

void cubi_mm_tree_del(struct cubi_mm_vma *v)
{
	struct vnode *z = (struct vnode *)v, *gone = z, *c, *next;
	const struct cubi_mm_vma *prev = cubi_mm_vma_prev(v);
	uintptr_t below = prev ? prev->end : 0;	/* where the next one's gap starts */

	next = (struct vnode *)cubi_mm_vma_next(v);
	if (z->l && z->r) {	/* z takes its successor's vma; that node goes */
		gone = next;
		z->v = next->v;
		z->gap = z->v.start - below;
		next = NULL;	/* z: an ancestor of gone, settled with it */
	}
	c = gone->l ? gone->l : gone->r;
	relink(gone->up, gone, c);
	settle(gone->up);
	if (next) {	/* its gap now starts where the previous vma ends */
		next->gap = next->v.start - below;
		settle(next);
	}
	pool_free(gone);
}

/* The first node of subtree t (in order) with a gap of len, or NULL:
 * only subtrees whose maxgap says they hold one are entered. */
static struct vnode *first_fit(struct vnode *t, uintptr_t len)
{
	while (t && t->maxgap >= len) {
		cubi_mm_tree_visits++;
		if (maxgap(t->l) >= len)
			t = t->l;
		else if (t->gap >= len)
			return t;
		else
			t = t->r;
	}
	return NULL;
}

uintptr_t cubi_mm_tree_gap_after(const struct cubi_mm_vma *v, size_t len)
{
	struct vnode *t = (struct vnode *)v, *w = first_fit(t->r, len);

	/* Up from v: a parent we reach from its left comes after all seen
	 * so far, then its right subtree. */
	for (; !w && t->up; t = t->up) {
		cubi_mm_tree_visits++;
		if (t->up->l == t)
			w = t->up->gap >= len ? t->up : first_fit(t->up->r, len);
	}
	return w ? w->v.start - w->gap : cubi_mm_vma_last()->end;
}

/* Subtree t's invariants (mm_tree.c's header): its height, or -1; *lo
 * the end of the vma before it (updated to its last one's end), *count
 * its nodes. */
static int check(const struct vnode *t, const struct vnode *up, uintptr_t *lo, size_t *count)
{
	int hl, hr;

	if (!t)
		return 0;
	if (t->up != up || (hl = check(t->l, t, lo, count)) < 0)
		return -1;
	if (t->v.start < *lo || t->v.end <= t->v.start || t->gap != t->v.start - *lo)
		return -1;
	*lo = t->v.end;
	++*count;
	if ((hr = check(t->r, t, lo, count)) < 0 || hl - hr > 1 || hr - hl > 1 ||
	    t->h != 1 + CUB_MAX(hl, hr) ||
	    t->maxgap != CUB_MAX(t->gap, CUB_MAX(maxgap(t->l), maxgap(t->r))))
		return -1;
	return t->h;
}

int cubi_mm_tree_check(void)
{
	uintptr_t lo = 0;
	size_t count = 0;
	int h = check(root, NULL, &lo, &count);

	if (h < 0 || count != n)
		return -1;
	for (size_t k = 0; k < n; k++) {	/* the pool holds them all */
		const struct vnode *t = node_at(k);

		if (t->up ? t->up->l != t && t->up->r != t : root != t)
			return -1;
	}
	return h;
}
