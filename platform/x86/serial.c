/*
 * serial.c - COM1 16550 UART console (115200 8N1, FIFOs on).
 *
 * Output polls the transmit-holding-register-empty bit, so it works in any
 * context, with interrupts off and inside a fault report. Input is polled
 * at boot; once the interrupt controllers are up, cubi_x86_serial_irq_init
 * switches it to the receive interrupt (ISA line 4): the handler moves
 * every received byte into a ring buffer and wakes the console reader
 * (src/irq/console.c), and cub_arch_console_getc() takes from the ring.
 *
 * Invariants: rx_head - rx_tail <= RX_SIZE (free-running indices, both
 * advanced with interrupts disabled); no received byte is dropped: while
 * the ring is full, bytes stay in the UART and the sender waits.
 * Locking: readers hold interrupts disabled while they take a byte, the
 * handler runs with them disabled: one CPU, so the ring needs no more.
 */
#include <cubrt/arch.h>
#include <cubrt/irq.h>

#include "../../src/irq/irq_chip.h"
#include "intr.h"
#include "x86.h"

#define COM1 0x3F8
#define REG_DATA 0
#define REG_IER 1
#define REG_FCR 2
#define REG_IIR 2
#define REG_LCR 3
#define REG_MCR 4
#define REG_LSR 5
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20
#define IER_RX 0x01
#define RX_SIZE 1024u		/* a power of two */

static unsigned char rx_ring[RX_SIZE];
static volatile unsigned rx_head, rx_tail;
static bool fifo;		/* 16550 mode (else 16450: no FIFO) */

static void rx_put(unsigned char b)
{
	rx_ring[rx_head++ % RX_SIZE] = b;
}

/*
 * Moves received bytes into the ring while it has room. A byte that
 * finds the ring full stays in the UART (which then holds the sender
 * back) until a reader makes room and calls this again.
 * Contexts: any, interrupts disabled. Returns whether it moved any.
 */
static bool rx_fill(void)
{
	bool got = false;

	while (rx_head - rx_tail < RX_SIZE &&
	       (inb(COM1 + REG_LSR) & LSR_DATA_READY)) {
		rx_put(inb(COM1 + REG_DATA));
		got = true;
	}
	return got;
}

/*
 * Contexts: boot (first thing). Enabling the FIFO clears the receiver,
 * so when a byte is already waiting (QEMU delivers piped input at once)
 * the UART stays in 16450 mode (one-byte receiver) and nothing is lost.
 */
void cubi_x86_serial_init(void)
{
	bool keep = inb(COM1 + REG_LSR) & LSR_DATA_READY;

	outb(COM1 + REG_IER, 0x00);	/* no UART interrupts yet */
	outb(COM1 + REG_LCR, 0x80);	/* DLAB: divisor follows */
	outb(COM1 + REG_DATA, 0x01);	/* 115200 baud */
	outb(COM1 + REG_IER, 0x00);
	outb(COM1 + REG_LCR, 0x03);	/* 8 bits, no parity, 1 stop */
	if (!keep)
		outb(COM1 + REG_FCR, 0xC7);	/* FIFO on, cleared, 14-byte trigger */
	outb(COM1 + REG_MCR, 0x0B);	/* DTR, RTS, OUT2 (irq gate) */
	fifo = !keep;
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

/* Contexts: any. */
int cub_arch_console_getc(void)
{
	unsigned long s = cub_arch_irq_save();
	int c = -CUB_EAGAIN;

	if (rx_head == rx_tail)
		rx_fill();	/* polled mode, or bytes held back while full */
	if (rx_head != rx_tail)
		c = rx_ring[rx_tail++ % RX_SIZE];
	cub_arch_irq_restore(s);
	return c;
}

/* The receive interrupt: drain the FIFO into the ring. Contexts: irq. */
static void serial_irq(void *ctx)
{
	bool got;

	(void)ctx;
	got = rx_fill();
	(void)inb(COM1 + REG_IIR);	/* acknowledge any other cause */
	if (got)
		cubi_irq_console_input();
}

/*
 * Switches console input to the receive interrupt; keeps polling when
 * COM1's line cannot be routed. Contexts: boot, interrupts disabled,
 * after the controllers.
 */
void cubi_x86_serial_irq_init(void)
{
	if (cubi_irq_register_runtime(CUB_IRQ_COM1, serial_irq, NULL, "com1"))
		return;
	if (fifo)
		outb(COM1 + REG_FCR, 0x01);	/* 1-byte trigger, no clearing */
	outb(COM1 + REG_IER, IER_RX);
	cubi_irq_console_set_irq_driven();
}
