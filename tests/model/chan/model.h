/*
 * model.h - shared state of the channel model test: the real channels,
 * the reference model of them (model_ref.c) and the workers' view
 * (model_chan.c). Everything runs on one CPU, one coroutine at a time, so
 * nothing here needs locking.
 */
#ifndef CHAN_MODEL_H
#define CHAN_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cubrt/chan.h>

#define NCORO 12
#define NCHAN 5
#define MAXCAP 8
#define MAXSZ 128
#define MAXK 4
#define QMAX (NCORO * MAXK)

extern const size_t caps[NCHAN];
extern const size_t sizes[NCHAN];

struct val {
	unsigned char b[MAXSZ];
};

struct qent {
	int coro, k;
};

struct mchan {
	bool closed;
	struct val buf[MAXCAP];
	int head, len;
	struct qent sendq[QMAX], recvq[QMAX];
	int nsend, nrecv;
};

struct mcase {
	int chan;		/* -1: disabled */
	unsigned dir;
	struct val v;		/* value to send */
};

/* A worker as the model sees it. */
struct mcoro {
	bool live, parked;
	struct mcase cases[MAXK];
	int ncase;
	/* Filled when the model completes the parked operation. */
	bool done, ok;
	int fired;
	struct val got;
};

extern struct cub_chan chans[NCHAN];
extern unsigned char bufs[NCHAN][MAXCAP * MAXSZ];
extern struct mchan model[NCHAN];
extern struct mcoro mc[NCORO];
extern uint64_t seed, ops_done;
extern int running;
extern unsigned long long n_sent, n_recv, n_closed_recv, n_close, n_block;

/* Reports a mismatch with the seed to replay it, and exits 1. */
void die(const char *what, int who);

/* The reference model (model_ref.c). m_send/m_recv require readiness. */
bool m_can_send(int c);
bool m_can_recv(int c);
bool m_send(int c, const struct val *v);
bool m_recv(int c, struct val *out);
int m_close(int c);
void m_park(int self);
bool others_runnable(int self);

#endif
