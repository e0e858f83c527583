/*
 * cubrt/list.h - intrusive circular doubly linked list.
 *
 * Invariants: an initialised list head points to itself when empty; every
 * linked node satisfies n->next->prev == n and n->prev->next == n. A node
 * that is not on any list has been cub_list_init()ed (or removed with
 * cub_list_del(), which re-initialises it), so cub_list_linked() tells.
 * The list does no locking: the owner of the list says what protects it.
 */
#ifndef CUBRT_LIST_H
#define CUBRT_LIST_H

#include <cubrt/base.h>

struct cub_list {
	struct cub_list *next, *prev;
};

#define CUB_LIST_INIT(name) { &(name), &(name) }

static inline void cub_list_init(struct cub_list *l)
{
	l->next = l;
	l->prev = l;
}

static inline bool cub_list_empty(const struct cub_list *l)
{
	return l->next == l;
}

/* True when the node is on some list (it was not removed or never added). */
static inline bool cub_list_linked(const struct cub_list *n)
{
	return n->next != n;
}

static inline void cubi_list_insert(struct cub_list *n, struct cub_list *prev,
				    struct cub_list *next)
{
	n->prev = prev;
	n->next = next;
	prev->next = n;
	next->prev = n;
}

/* Adds n at the front of head. */
static inline void cub_list_push_front(struct cub_list *head, struct cub_list *n)
{
	cubi_list_insert(n, head, head->next);
}

/* Adds n at the back of head (FIFO order with cub_list_pop_front). */
static inline void cub_list_push_back(struct cub_list *head, struct cub_list *n)
{
	cubi_list_insert(n, head->prev, head);
}

/* Unlinks n and leaves it self-linked, so removing twice is harmless. */
static inline void cub_list_del(struct cub_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	cub_list_init(n);
}

/* Removes and returns the first node, or NULL when the list is empty. */
static inline struct cub_list *cub_list_pop_front(struct cub_list *head)
{
	struct cub_list *n = head->next;

	if (n == head)
		return NULL;
	cub_list_del(n);
	return n;
}

static inline struct cub_list *cub_list_first(const struct cub_list *head)
{
	return head->next == head ? NULL : head->next;
}

#define cub_list_for_each(pos, head) \
	for ((pos) = (head)->next; (pos) != (head); (pos) = (pos)->next)

/* Safe against removal of pos during the walk. */
#define cub_list_for_each_safe(pos, tmp, head) \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head); \
	     (pos) = (tmp), (tmp) = (pos)->next)

#endif
