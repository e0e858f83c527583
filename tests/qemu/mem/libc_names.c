/*
 * libc_names.c - with -Dlibc_malloc_names=true an application without a C
 * library gets malloc & co. from cubrt's heap. Exit 0 when they work and
 * the blocks are the global heap's.
 */
#include <cubrt/fmt.h>
#include <cubrt/heap.h>
#include <cubrt/runtime.h>
#include <cubrt/string.h>

void *malloc(size_t n);
void free(void *p);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t n);
void *aligned_alloc(size_t align, size_t n);
int posix_memalign(void **out, size_t align, size_t n);
size_t malloc_usable_size(void *p);

#define CHECK(c) do { if (!(c)) { cub_printk("libc names: FAIL: %s\n", #c); return 1; } } while (0)

int cub_main(void)
{
	struct cub_heap_stats st0, st;
	char *p, *q;
	void *a;

	cub_heap_stats(&st0);
	p = malloc(100);
	CHECK(p && malloc_usable_size(p) >= 100);
	cub_strlcpy(p, "kept", 100);
	p = realloc(p, 10000);
	CHECK(p && !cub_strcmp(p, "kept"));
	q = calloc(10, 10);
	CHECK(q && q[99] == 0);
	CHECK(calloc(SIZE_MAX, 2) == NULL);
	a = aligned_alloc(256, 256);
	CHECK(a && (uintptr_t)a % 256 == 0);
	CHECK(posix_memalign((void **)&q, 3, 8) == 22);	/* EINVAL, q kept */
	CHECK(posix_memalign(&a, 64, 100) == 0 && (uintptr_t)a % 64 == 0);
	cub_heap_stats(&st);
	CHECK(st.blocks == st0.blocks + 4);
	free(p);
	free(q);
	free(a);
	free(NULL);
	cub_heap_stats(&st);
	CHECK(st.blocks == st0.blocks + 1);	/* the aligned_alloc block */
	CHECK(cub_heap_check() == 0);
	cub_printk("libc names: ok\n");
	return 0;
}
