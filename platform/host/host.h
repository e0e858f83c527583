/*
 * host.h - private interface of the host platform (cubrt as a Linux
 * process). Unit tests include it for the test hooks below.
 */
#ifndef CUBRT_HOST_H
#define CUBRT_HOST_H

#include <cubrt/base.h>

/*
 * Test hook: when set, cub_arch_exit() calls fn(status) instead of ending
 * the process. fn must not return (tests longjmp out of it, e.g. to check
 * that a misuse panics). Pass NULL to restore the default.
 */
void cubi_host_set_exit_hook(void (*fn)(int status));

/*
 * Test hook: when buf is non-NULL, console output is appended to buf
 * (NUL-terminated, truncated at size) instead of going to stdout.
 */
void cubi_host_capture_console(char *buf, size_t size);

/*
 * Test hook: when set, cub_arch_symbol() asks fn (host binaries carry no
 * symbol table the process reads itself; a test can use dladdr on an
 * executable linked with -rdynamic). Pass NULL to restore the default.
 */
void cubi_host_set_symbolizer(const char *(*fn)(uintptr_t addr, uintptr_t *off));

/* Sets the string cub_arch_cmdline() returns (host main joins argv). */
void cubi_host_set_cmdline(const char *s);

#endif
