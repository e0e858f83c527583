/*
 * host_irq.h - the host platform's emulated interrupt line (irq.c) and
 * clock (clock.c). Signal handlers call cubi_host_irq_raise(); the
 * platform's interrupt sources (the one-shot timer, timer.c) install their
 * dispatch with set_deliver.
 */
#ifndef CUBRT_HOST_IRQ_H
#define CUBRT_HOST_IRQ_H

#include <stdbool.h>
#include <stdint.h>

/* Sets the interrupt handler irq.c runs (timer.c's dispatch) and returns
 * the one it replaces, so that a test that plays a device for a moment
 * can give the timer its interrupts back. */
typedef void (*cubi_host_deliver_fn)(void);
cubi_host_deliver_fn cubi_host_irq_set_deliver(cubi_host_deliver_fn fn);
/* From a signal handler (ucontext: its third argument): take the
 * interrupt now if enabled, else mark it pending (taken when interrupts
 * are enabled again). raise is the same without a context (no irq-exit
 * hook). */
void cubi_host_irq_signal(void *ucontext);
void cubi_host_irq_raise(void);
/* irqexit.S: runs the irq-exit hook on the interrupted stack. */
void cubi_host_irq_exit(void);
/* Runs the handler in irq context, interrupts disabled, no exit hook
 * (cub_arch_idle uses it). */
void cubi_host_irq_run(void);
bool cubi_host_irq_pending(void);
/* timer.c: true while cub_arch_idle waits in sigsuspend (the sampling
 * profiler's idle, sample.c). */
extern volatile int cubi_host_idling;

/* clock.c: raw CLOCK_MONOTONIC, and its value at cub_arch_clock_ns() 0. */
uint64_t cubi_host_monotonic_ns(void);
uint64_t cubi_host_clock_base(void);

#endif
