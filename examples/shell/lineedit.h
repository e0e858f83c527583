/*
 * lineedit.h - a small line editor for a serial terminal (VT100/ANSI).
 *
 * Keys: printable characters insert at the cursor; Backspace (DEL or ^H)
 * and Delete remove; Left/Right, Home/End (and ^A/^E) move; ^U kills to
 * the start, ^K to the end, ^W the word before the cursor; Up/Down walk
 * the history; ^C cancels the line; Enter accepts it. Escape sequences:
 * ESC [ A..D, ESC [ H / F, ESC O H / F, ESC [ 1~ 3~ 4~ 7~ 8~.
 */
#ifndef SHELL_LINEEDIT_H
#define SHELL_LINEEDIT_H

#include <cubrt/base.h>

#define LE_MAX 200		/* longest line */
#define LE_HISTORY 16		/* remembered lines */

/*
 * Invariants: 0 <= cur <= len < LE_MAX and buf[len] == 0; hist holds the
 * last hist_n accepted non-empty lines, hist[(hist_head - 1) % LE_HISTORY]
 * the newest; pending[pend_at..pend_n) are read but unprocessed bytes.
 */
struct lineedit {
	char buf[LE_MAX];
	size_t len, cur;
	char hist[LE_HISTORY][LE_MAX];
	unsigned hist_head, hist_n;
	unsigned char pending[64];
	size_t pend_at, pend_n;
	bool after_cr;		/* swallow the \n of a \r\n pair */
};

void lineedit_init(struct lineedit *e);

/*
 * Shows prompt and edits one line; copies it to out (NUL-terminated,
 * at most n-1 bytes) and returns its length, or -CUB_ECANCELED on ^C.
 * Accepted non-empty lines enter the history. Contexts: task.
 */
int lineedit_read(struct lineedit *e, const char *prompt, char *out, size_t n);

#endif
