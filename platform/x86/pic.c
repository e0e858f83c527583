/*
 * pic.c - the legacy 8259 pair (master 0x20, slave 0xA0).
 *
 * Invariants: after init both chips deliver on VEC_PIC..VEC_PIC+15 and
 * imr mirrors their mask registers (bit n = ISA irq n masked); the slave's
 * cascade (master irq 2) is unmasked exactly when a slave line is.
 * Locking: callers hold interrupts disabled (the mask registers are a
 * read-modify-write shared with handlers).
 */
#include "intr.h"
#include "x86.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xA0
#define PIC2_DATA 0xA1
#define OCW3_READ_ISR 0x0B
#define PIC_EOI 0x20

static uint16_t imr = 0xFFFF;

static void io_wait(void)
{
	outb(0x80, 0);
}

static void write_imr(void)
{
	uint16_t m = imr;

	if ((m & 0xFF00) != 0xFF00)
		m &= (uint16_t)~(1u << 2);	/* cascade */
	outb(PIC1_DATA, (uint8_t)m);
	outb(PIC2_DATA, (uint8_t)(m >> 8));
}

/* Contexts: boot, interrupts disabled. */
void cubi_x86_pic_init(void)
{
	outb(PIC1_CMD, 0x11);		/* ICW1: init, ICW4 follows */
	io_wait();
	outb(PIC2_CMD, 0x11);
	io_wait();
	outb(PIC1_DATA, VEC_PIC);	/* ICW2: vector base */
	io_wait();
	outb(PIC2_DATA, VEC_PIC + 8);
	io_wait();
	outb(PIC1_DATA, 4);		/* ICW3: slave on irq 2 */
	io_wait();
	outb(PIC2_DATA, 2);
	io_wait();
	outb(PIC1_DATA, 1);		/* ICW4: 8086 mode */
	io_wait();
	outb(PIC2_DATA, 1);
	io_wait();
	imr = 0xFFFF;
	write_imr();
}

/* Contexts: any, interrupts disabled. */
void cubi_x86_pic_set_masked(unsigned irq, bool masked)
{
	if (masked)
		imr |= (uint16_t)(1u << irq);
	else
		imr &= (uint16_t)~(1u << irq);
	write_imr();
}

/* Contexts: irq. */
void cubi_x86_pic_eoi(unsigned irq)
{
	if (irq >= 8)
		outb(PIC2_CMD, PIC_EOI);
	outb(PIC1_CMD, PIC_EOI);
}

/*
 * An irq 7 (or 15) whose in-service bit is clear was withdrawn before the
 * CPU acknowledged it: spurious, no EOI to its chip (a spurious 15 still
 * took the master's cascade line, which needs one). Contexts: irq.
 */
bool cubi_x86_pic_spurious(unsigned irq)
{
	uint16_t port = irq >= 8 ? PIC2_CMD : PIC1_CMD;
	uint8_t isr;

	outb(port, OCW3_READ_ISR);
	isr = inb(port);
	if (isr & (1u << (irq & 7)))
		return false;
	if (irq >= 8)
		outb(PIC1_CMD, PIC_EOI);
	return true;
}
