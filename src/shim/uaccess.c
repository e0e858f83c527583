/*
 * uaccess.c - checked access to the program's memory.
 *
 * Every pointer a program passes is checked against the page tables
 * (cub_arch_addr_readable/writable) before the shim touches it, so a bad
 * pointer yields -EFAULT instead of a fault inside cubrt. With demand
 * paging a good pointer may lead to absent pages: a failed check pages
 * the range in (cubi_mm_populate) and checks again. One address
 * space and one CPU: a range checked here stays mapped until the handler
 * returns unless the handler itself blocks (handlers copy in before they
 * block and re-check before copying out).
 */
#include <cubrt/arch.h>
#include <cubrt/string.h>

#include "shim_impl.h"

bool cubi_user_readable(uintptr_t p, size_t len)
{
	if (len == 0)
		return true;
	return p >= CUB_PAGE_SIZE &&
	       (cub_arch_addr_readable(p, len) ||
		(cubi_mm_populate(p, len, CUB_PROT_READ) && cub_arch_addr_readable(p, len)));
}

bool cubi_user_writable(uintptr_t p, size_t len)
{
	if (len == 0)
		return true;
	return p >= CUB_PAGE_SIZE &&
	       (cub_arch_addr_writable(p, len) ||
		(cubi_mm_populate(p, len, CUB_PROT_WRITE) && cub_arch_addr_writable(p, len)));
}

int cubi_copy_in(void *dst, uintptr_t src, size_t len)
{
	if (!cubi_user_readable(src, len))
		return -CUB_EFAULT;
	cub_memcpy(dst, (const void *)src, len);
	return 0;
}

int cubi_copy_out(uintptr_t dst, const void *src, size_t len)
{
	if (!cubi_user_writable(dst, len))
		return -CUB_EFAULT;
	cub_memcpy((void *)dst, src, len);
	return 0;
}

int cubi_copy_str_in(char *dst, uintptr_t src, size_t max)
{
	for (size_t i = 0; i < max; i++) {
		/* Check page by page: a string may end just before a hole. */
		if ((i == 0 || (src + i) % CUB_PAGE_SIZE == 0) &&
		    !cubi_user_readable(src + i, 1))
			return -CUB_EFAULT;
		dst[i] = ((const char *)src)[i];
		if (!dst[i])
			return 0;
	}
	return -CUB_ERANGE;
}
