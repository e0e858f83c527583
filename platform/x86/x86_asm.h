/* x86_asm.h - constants shared by the platform's .S files and C code. */
#ifndef CUBRT_X86_ASM_H
#define CUBRT_X86_ASM_H

#define BOOT_STACK_SIZE (32 * 1024)

#endif
