/*
 * libc_malloc.c - the standard allocation names over the global heap, for
 * applications that link no C library (meson option libc_malloc_names,
 * bare metal only: with musl linked, musl's own malloc must stay).
 * Contexts: as cub_malloc (task/boot; panics in irq context).
 */
#include <cubrt/heap.h>

void *malloc(size_t n);
void free(void *p);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t n);
void *aligned_alloc(size_t align, size_t n);
void *memalign(size_t align, size_t n);
int posix_memalign(void **out, size_t align, size_t n);
size_t malloc_usable_size(void *p);

void *malloc(size_t n)
{
	return cub_malloc(n);
}

void free(void *p)
{
	cub_free(p);
}

void *calloc(size_t n, size_t size)
{
	return cub_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	return cub_realloc(p, n);
}

void *aligned_alloc(size_t align, size_t n)
{
	return cub_aligned_alloc(align, n);
}

void *memalign(size_t align, size_t n)
{
	return cub_aligned_alloc(align, n);
}

/* POSIX: align must be a power of two multiple of sizeof(void *); cubrt's
 * heap aligns up to a page (larger: EINVAL). */
int posix_memalign(void **out, size_t align, size_t n)
{
	void *p;

	if (align < sizeof(void *) || (align & (align - 1)) || align > CUB_PAGE_SIZE)
		return CUB_EINVAL;
	p = cub_aligned_alloc(align, n);
	if (!p)
		return CUB_ENOMEM;
	*out = p;
	return 0;
}

size_t malloc_usable_size(void *p)
{
	return cub_malloc_usable_size(p);
}
