/* tmpstack.h - TEMPORARY stack pool (see tmpstack.c). */
#ifndef CUBRT_SCHED_TMPSTACK_H
#define CUBRT_SCHED_TMPSTACK_H

#include <cubrt/base.h>

void *cubi_tmpstack_alloc(size_t size);
void cubi_tmpstack_free(void *p, size_t size);

#endif
