/*
 * host_irq.h - the host platform's emulated interrupt line (irq.c).
 * Signal handlers call cubi_host_irq_raise(); the platform's interrupt
 * sources (the one-shot timer) install their dispatch with set_deliver.
 */
#ifndef CUBRT_HOST_IRQ_H
#define CUBRT_HOST_IRQ_H

#include <stdbool.h>

void cubi_host_irq_set_deliver(void (*fn)(void));
void cubi_host_irq_raise(void);
void cubi_host_irq_run(void);
bool cubi_host_irq_pending(void);

#endif
