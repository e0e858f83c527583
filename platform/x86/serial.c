/*
 * serial.c - COM1 16550 UART console, polled (115200 8N1, FIFOs on).
 *
 * Output polls the transmit-holding-register-empty bit, so it works in any
 * context, with interrupts off and inside a fault report. Input polling is
 * the boot-time path; interrupt-driven input builds on cub_arch_console_getc.
 */
#include <cubrt/arch.h>

#include "x86.h"

#define COM1 0x3F8
#define REG_DATA 0
#define REG_IER 1
#define REG_FCR 2
#define REG_LCR 3
#define REG_MCR 4
#define REG_LSR 5
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20

void cubi_x86_serial_init(void)
{
	outb(COM1 + REG_IER, 0x00);	/* no UART interrupts yet */
	outb(COM1 + REG_LCR, 0x80);	/* DLAB: divisor follows */
	outb(COM1 + REG_DATA, 0x01);	/* 115200 baud */
	outb(COM1 + REG_IER, 0x00);
	outb(COM1 + REG_LCR, 0x03);	/* 8 bits, no parity, 1 stop */
	outb(COM1 + REG_FCR, 0xC7);	/* FIFO on, cleared, 14-byte trigger */
	outb(COM1 + REG_MCR, 0x0B);	/* DTR, RTS, OUT2 (irq gate) */
}

static void tx(char c)
{
	while (!(inb(COM1 + REG_LSR) & LSR_THR_EMPTY))
		;
	outb(COM1 + REG_DATA, (uint8_t)c);
}

void cub_arch_console_putc(char c)
{
	if (c == '\n')
		tx('\r');
	tx(c);
}

int cub_arch_console_getc(void)
{
	if (!(inb(COM1 + REG_LSR) & LSR_DATA_READY))
		return -CUB_EAGAIN;
	return inb(COM1 + REG_DATA);
}
