/*
 * cubrt/fmt.h - printk-style formatting and console output.
 *
 * Conversions: %d %i %u %x %X %p %s %c %% with the length modifiers
 * hh, h, l, ll, z and t, a field width (number or '*'), the flags '-'
 * (left-justify) and '0' (zero-pad), and a precision for %s ("%.*s").
 * Field widths are capped at 4096. A NULL %s prints "(null)". Unknown conversions are printed verbatim so
 * a bad format string is visible rather than silently eaten.
 *
 * The formatter never allocates and is safe in every context (boot, task,
 * irq); cub_printk() writes through cub_arch_console_putc(), which polls.
 */
#ifndef CUBRT_FMT_H
#define CUBRT_FMT_H

#include <cubrt/base.h>

/* Output sink: called once per produced character. */
typedef void (*cub_fmt_sink)(char c, void *ctx);

/* Formats to a sink; returns the number of characters produced. */
int cub_vformat(cub_fmt_sink sink, void *ctx, const char *fmt, va_list ap);

/*
 * Formats into buf of size n, always NUL-terminated when n > 0. Returns the
 * length the full output would have had (as C99 snprintf), so a result >= n
 * means the output was truncated.
 */
int cub_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap);
int cub_snprintf(char *buf, size_t n, const char *fmt, ...) CUB_PRINTF(3, 4);

/* Formats to the console. Contexts: any. Returns characters written. */
int cub_vprintk(const char *fmt, va_list ap);
int cub_printk(const char *fmt, ...) CUB_PRINTF(1, 2);

/* Writes a string or one character to the console. Contexts: any. */
void cub_puts(const char *s);
void cub_putc(char c);

#endif
