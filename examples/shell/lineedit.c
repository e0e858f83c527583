/*
 * lineedit.c - the line editor (see lineedit.h for the keys).
 *
 * Redrawing is deliberately simple: after an edit other than appending at
 * the end, the whole line is rewritten ("\r", prompt, text, erase to end
 * of line) and the cursor moved back; appending just echoes the byte.
 */
#include <cubrt/fmt.h>
#include <cubrt/irq.h>
#include <cubrt/string.h>

#include "lineedit.h"

enum key {
	K_NONE = 0x100, K_UP, K_DOWN, K_LEFT, K_RIGHT, K_HOME, K_END, K_DEL,
};

#define CTRL(c) ((c) & 0x1F)
#define ESC 0x1B

void lineedit_init(struct lineedit *e)
{
	cub_memset(e, 0, sizeof(*e));
}

static int getbyte(struct lineedit *e)
{
	if (e->pend_at == e->pend_n) {
		int n = cub_console_read(e->pending, sizeof(e->pending));

		if (n <= 0)
			return -1;
		e->pend_at = 0;
		e->pend_n = (size_t)n;
	}
	return e->pending[e->pend_at++];
}

/* ESC [ or ESC O was read: the rest of a cursor-key sequence. */
static int escape_seq(struct lineedit *e, int intro)
{
	int c = getbyte(e), num = 0;

	if (intro == 'O')
		return c == 'H' ? K_HOME : c == 'F' ? K_END : K_NONE;
	while (c >= '0' && c <= '9') {
		num = num * 10 + (c - '0');
		c = getbyte(e);
	}
	switch (c) {
	case 'A': return K_UP;
	case 'B': return K_DOWN;
	case 'C': return K_RIGHT;
	case 'D': return K_LEFT;
	case 'H': return K_HOME;
	case 'F': return K_END;
	case '~':
		return num == 1 || num == 7 ? K_HOME : num == 4 || num == 8 ? K_END :
		       num == 3 ? K_DEL : K_NONE;
	default: return K_NONE;
	}
}

static int getkey(struct lineedit *e)
{
	for (;;) {
		int c = getbyte(e);

		if (c < 0)
			return CTRL('C');
		if (c == '\n' && e->after_cr) {
			e->after_cr = false;
			continue;
		}
		e->after_cr = c == '\r';
		if (c == ESC) {
			int i = getbyte(e);

			return i == '[' || i == 'O' ? escape_seq(e, i) : K_NONE;
		}
		return c;
	}
}

static void redraw(const struct lineedit *e, const char *prompt)
{
	cub_printk("\r%s%s\x1b[K", prompt, e->buf);
	if (e->len > e->cur)
		cub_printk("\x1b[%luD", (unsigned long)(e->len - e->cur));
}

static void insert(struct lineedit *e, char c)
{
	if (e->len + 1 >= LE_MAX)
		return;
	cub_memmove(e->buf + e->cur + 1, e->buf + e->cur, e->len - e->cur + 1);
	e->buf[e->cur++] = c;
	e->len++;
}

/* Removes [from, to) from the line and puts the cursor at from. */
static void cut(struct lineedit *e, size_t from, size_t to)
{
	cub_memmove(e->buf + from, e->buf + to, e->len - to + 1);
	e->len -= to - from;
	e->cur = from;
}

static void set_line(struct lineedit *e, const char *s)
{
	cub_strlcpy(e->buf, s, LE_MAX);
	e->len = e->cur = cub_strlen(e->buf);
}

/* Up/Down: *pos counts back from the newest entry (0 = the live line). */
static void history(struct lineedit *e, int dir, unsigned *pos, char *saved)
{
	unsigned want = *pos + (dir > 0 ? 1 : 0) - (dir < 0 ? 1 : 0);

	if ((dir < 0 && *pos == 0) || want > e->hist_n)
		return;
	if (*pos == 0)
		cub_strlcpy(saved, e->buf, LE_MAX);
	*pos = want;
	set_line(e, want ? e->hist[(e->hist_head - want) % LE_HISTORY] : saved);
}

static void remember(struct lineedit *e)
{
	if (!e->len || (e->hist_n &&
	    !cub_strcmp(e->hist[(e->hist_head - 1) % LE_HISTORY], e->buf)))
		return;
	cub_strlcpy(e->hist[e->hist_head++ % LE_HISTORY], e->buf, LE_MAX);
	if (e->hist_n < LE_HISTORY)
		e->hist_n++;
}

/* Applies one editing key other than Enter, ^C or a plain append. */
static void edit(struct lineedit *e, int k, unsigned *hpos, char *saved)
{
	size_t w;

	switch (k) {
	case 0x7F: case CTRL('H'):
		if (e->cur)
			cut(e, e->cur - 1, e->cur);
		break;
	case K_DEL:
		if (e->cur < e->len)
			cut(e, e->cur, e->cur + 1);
		break;
	case K_LEFT: if (e->cur) e->cur--; break;
	case K_RIGHT: if (e->cur < e->len) e->cur++; break;
	case K_HOME: case CTRL('A'): e->cur = 0; break;
	case K_END: case CTRL('E'): e->cur = e->len; break;
	case CTRL('U'): cut(e, 0, e->cur); break;
	case CTRL('K'): e->buf[e->len = e->cur] = 0; break;
	case CTRL('W'):
		for (w = e->cur; w && e->buf[w - 1] == ' '; w--)
			;
		for (; w && e->buf[w - 1] != ' '; w--)
			;
		cut(e, w, e->cur);
		break;
	case K_UP: history(e, 1, hpos, saved); break;
	case K_DOWN: history(e, -1, hpos, saved); break;
	default:
		if (k >= ' ' && k < 0x7F)
			insert(e, (char)k);
		break;
	}
}

int lineedit_read(struct lineedit *e, const char *prompt, char *out, size_t n)
{
	static char saved[LE_MAX];
	unsigned hpos = 0;
	int k;

	e->len = e->cur = 0;
	e->buf[0] = 0;
	cub_printk("%s", prompt);
	for (;;) {
		k = getkey(e);
		if (k == '\r' || k == '\n')
			break;
		if (k == CTRL('C')) {
			cub_printk("^C\n");
			return -CUB_ECANCELED;
		}
		if (k >= ' ' && k < 0x7F && e->cur == e->len && e->len + 1 < LE_MAX) {
			insert(e, (char)k);
			cub_putc((char)k);	/* appending: just echo */
			continue;
		}
		edit(e, k, &hpos, saved);
		redraw(e, prompt);
	}
	cub_printk("\n");
	remember(e);
	cub_strlcpy(out, e->buf, n);
	return (int)CUB_MIN(e->len, n - 1);
}
