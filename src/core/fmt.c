/*
 * fmt.c - the printk-style formatter behind cub_printk and cub_snprintf.
 *
 * Invariants: the formatter keeps no state between calls and never
 * allocates, so it is safe in irq context and inside a panic. Every
 * produced character goes through the sink exactly once and is counted.
 */
#include <limits.h>
#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/string.h>

/*
 * Field widths are clamped to this: a diagnostics formatter has no use for
 * wider fields, and an absurd width from a bad format or '*' argument must
 * not spin for seconds or overflow the int character count.
 */
#define WIDTH_MAX 4096

struct spec {
	bool left, zero;
	int width;
	int prec;		/* -1: none */
	int len;		/* 0 int, 1 long, 2 long long, -1 short, -2 char, 3 size_t */
};

struct out {
	cub_fmt_sink sink;
	void *ctx;
	int count;
};

static void emit(struct out *o, char c)
{
	o->sink(c, o->ctx);
	o->count++;
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		emit(o, c);
}

/* Prints digits (already reversed in tmp) with sign/prefix and padding. */
static void put_number(struct out *o, const struct spec *sp, const char *prefix,
		       const char *rev, int ndig)
{
	int plen = (int)cub_strlen(prefix);
	int fill = sp->width - plen - ndig;

	if (!sp->left && !sp->zero)
		pad(o, ' ', fill);
	while (*prefix)
		emit(o, *prefix++);
	if (!sp->left && sp->zero)
		pad(o, '0', fill);
	while (ndig > 0)
		emit(o, rev[--ndig]);
	if (sp->left)
		pad(o, ' ', fill);
}

static void fmt_unsigned(struct out *o, const struct spec *sp, unsigned long long v,
			 unsigned base, bool upper, const char *prefix)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char rev[24];
	int n = 0;

	do {
		rev[n++] = digits[v % base];
		v /= base;
	} while (v);
	put_number(o, sp, prefix, rev, n);
}

static void fmt_signed(struct out *o, const struct spec *sp, long long v)
{
	unsigned long long mag = v < 0 ? 0ULL - (unsigned long long)v
				       : (unsigned long long)v;

	fmt_unsigned(o, sp, mag, 10, false, v < 0 ? "-" : "");
}

static void fmt_string(struct out *o, const struct spec *sp, const char *s)
{
	int n;

	if (!s)
		s = "(null)";
	n = (int)cub_strnlen(s, sp->prec >= 0 ? (size_t)sp->prec : (size_t)-1);
	if (!sp->left)
		pad(o, ' ', sp->width - n);
	for (int i = 0; i < n; i++)
		emit(o, s[i]);
	if (sp->left)
		pad(o, ' ', sp->width - n);
}

/*
 * Reads decimal digits at *f into *v, saturating at INT_MAX: a malformed
 * format must not overflow (undefined behaviour) while it is parsed.
 */
static const char *parse_digits(const char *f, int *v)
{
	for (; *f >= '0' && *f <= '9'; f++) {
		int d = *f - '0';

		*v = *v > (INT_MAX - d) / 10 ? INT_MAX : *v * 10 + d;
	}
	return f;
}

/* Parses flags, width, precision and length; returns the conversion char. */
static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
	*sp = (struct spec){ .prec = -1 };
	for (;; f++) {
		if (*f == '-')
			sp->left = true;
		else if (*f == '0')
			sp->zero = true;
		else
			break;
	}
	if (*f == '*') {
		int w = va_arg(*ap, int);

		if (w < 0) {
			sp->left = true;
			w = w < -WIDTH_MAX ? WIDTH_MAX : -w;
		}
		sp->width = w;
		f++;
	}
	f = parse_digits(f, &sp->width);
	if (sp->width > WIDTH_MAX)
		sp->width = WIDTH_MAX;
	if (*f == '.') {
		f++;
		sp->prec = 0;
		if (*f == '*') {
			sp->prec = va_arg(*ap, int);
			f++;
		}
		if (sp->prec >= 0)
			f = parse_digits(f, &sp->prec);
		else	/* negative '*' precision: as if none was given */
			while (*f >= '0' && *f <= '9')
				f++;
	}
	if (*f == 'h') {
		sp->len = -1;
		if (*++f == 'h') {
			sp->len = -2;
			f++;
		}
	} else if (*f == 'l') {
		sp->len = 1;
		if (*++f == 'l') {
			sp->len = 2;
			f++;
		}
	} else if (*f == 'z' || *f == 't') {
		sp->len = 3;
		f++;
	}
	if (sp->left)
		sp->zero = false;
	return f;
}

static long long arg_signed(const struct spec *sp, va_list *ap)
{
	switch (sp->len) {
	case 1: return va_arg(*ap, long);
	case 2: return va_arg(*ap, long long);
	case 3: return (long long)va_arg(*ap, ptrdiff_t);
	case -1: return (short)va_arg(*ap, int);
	case -2: return (signed char)va_arg(*ap, int);
	default: return va_arg(*ap, int);
	}
}

static unsigned long long arg_unsigned(const struct spec *sp, va_list *ap)
{
	switch (sp->len) {
	case 1: return va_arg(*ap, unsigned long);
	case 2: return va_arg(*ap, unsigned long long);
	case 3: return va_arg(*ap, size_t);
	case -1: return (unsigned short)va_arg(*ap, unsigned);
	case -2: return (unsigned char)va_arg(*ap, unsigned);
	default: return va_arg(*ap, unsigned);
	}
}

/* Handles one conversion; returns false for an unknown one. */
static bool convert(struct out *o, struct spec *sp, char c, va_list *ap)
{
	switch (c) {
	case 'd':
	case 'i':
		fmt_signed(o, sp, arg_signed(sp, ap));
		return true;
	case 'u':
		fmt_unsigned(o, sp, arg_unsigned(sp, ap), 10, false, "");
		return true;
	case 'x':
	case 'X':
		fmt_unsigned(o, sp, arg_unsigned(sp, ap), 16, c == 'X', "");
		return true;
	case 'p':
		fmt_unsigned(o, sp, (uintptr_t)va_arg(*ap, void *), 16, false, "0x");
		return true;
	case 's':
		fmt_string(o, sp, va_arg(*ap, const char *));
		return true;
	case 'c': {
		char ch[2] = { (char)va_arg(*ap, int), 0 };
		struct spec cs = *sp;

		cs.prec = 1;
		if (!ch[0]) {	/* a NUL character still counts as one */
			pad(o, ' ', sp->left ? 0 : sp->width - 1);
			emit(o, 0);
			pad(o, ' ', sp->left ? sp->width - 1 : 0);
			return true;
		}
		fmt_string(o, &cs, ch);
		return true;
	}
	case '%':
		emit(o, '%');
		return true;
	default:
		return false;
	}
}

int cub_vformat(cub_fmt_sink sink, void *ctx, const char *fmt, va_list ap)
{
	struct out o = { sink, ctx, 0 };
	va_list aq;

	va_copy(aq, ap);
	while (*fmt) {
		const char *start = fmt;
		struct spec sp;

		if (*fmt != '%') {
			emit(&o, *fmt++);
			continue;
		}
		fmt = parse_spec(fmt + 1, &sp, &aq);
		if (*fmt && convert(&o, &sp, *fmt, &aq)) {
			fmt++;
			continue;
		}
		/* Unknown or truncated conversion: show it as written. */
		while (start < fmt)
			emit(&o, *start++);
		if (*fmt)
			emit(&o, *fmt++);
	}
	va_end(aq);
	return o.count;
}

struct bufsink {
	char *buf;
	size_t n, pos;
};

static void buf_put(char c, void *ctx)
{
	struct bufsink *b = ctx;

	if (b->pos + 1 < b->n)
		b->buf[b->pos] = c;
	b->pos++;
}

int cub_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
	struct bufsink b = { buf, n, 0 };
	int len = cub_vformat(buf_put, &b, fmt, ap);

	if (n > 0)
		buf[b.pos < n ? b.pos : n - 1] = '\0';
	return len;
}

int cub_snprintf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = cub_vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return len;
}

static void console_put(char c, void *ctx)
{
	(void)ctx;
	cub_arch_console_putc(c);
}

int cub_vprintk(const char *fmt, va_list ap)
{
	return cub_vformat(console_put, NULL, fmt, ap);
}

int cub_printk(const char *fmt, ...)
{
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = cub_vprintk(fmt, ap);
	va_end(ap);
	return len;
}

void cub_puts(const char *s)
{
	while (*s)
		cub_arch_console_putc(*s++);
}

void cub_putc(char c)
{
	cub_arch_console_putc(c);
}
