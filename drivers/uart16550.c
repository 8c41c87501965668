/*
 * 16550 UART on COM1, transmit only: the console and the report channel.
 *
 * Registers and bits follow the National Semiconductor PC16550D datasheet.  The line is
 * 115200 baud, 8 data bits, no parity, 1 stop bit.  The kernel polls the Line Status Register
 * instead of taking UART interrupts: the report must get out even from the panic path with
 * interrupts off, and a polled write cannot be lost to a masked IRQ.
 */
#include "drivers/uart16550.h"
#include "kernel/x86.h"

#define COM1            0x3f8
#define UART_CLOCK_HZ   115200      /* 1.8432 MHz / 16: the divisor latch divides this */
#define UART_BAUD       115200

/* Register offsets from the base port. With DLAB set, 0 and 1 are the divisor latch. */
#define UART_THR        0       /* transmitter holding register (write) */
#define UART_DLL        0       /* divisor latch, low byte (DLAB = 1) */
#define UART_IER        1       /* interrupt enable */
#define UART_DLM        1       /* divisor latch, high byte (DLAB = 1) */
#define UART_FCR        2       /* FIFO control (write) */
#define UART_LCR        3       /* line control */
#define UART_MCR        4       /* modem control */
#define UART_LSR        5       /* line status */
#define UART_SCR        7       /* scratch */

#define UART_LCR_WLS8   0x03    /* 8 data bits, 1 stop bit, no parity */
#define UART_LCR_DLAB   0x80
#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR  0x06    /* clear receive and transmit FIFOs */
#define UART_MCR_DTR    0x01
#define UART_MCR_RTS    0x02
#define UART_LSR_THRE   0x20    /* transmitter holding register (or FIFO) empty */

static bool uart_present;

static inline void uart_out(unsigned reg, uint8_t v) { outb(COM1 + reg, v); }
static inline uint8_t uart_in(unsigned reg) { return inb(COM1 + reg); }

bool uart_init(void)
{
	const uint16_t divisor = UART_CLOCK_HZ / UART_BAUD;

	/* No UART answers with 0xff on every port; the scratch register tells us one is there. */
	uart_out(UART_SCR, 0x5a);
	if (uart_in(UART_SCR) != 0x5a)
		return false;

	uart_out(UART_IER, 0);
	uart_out(UART_LCR, UART_LCR_DLAB);
	uart_out(UART_DLL, divisor & 0xff);
	uart_out(UART_DLM, divisor >> 8);
	uart_out(UART_LCR, UART_LCR_WLS8);
	uart_out(UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR);
	uart_out(UART_MCR, UART_MCR_DTR | UART_MCR_RTS);
	uart_present = true;
	return true;
}

bool uart_tx_ready(void)
{
	/* THRE: the holding register, or with the FIFO on (uart_init) the whole FIFO, is empty,
	 * so a byte goes in without waiting, and with the FIFO the two of a CR LF do. */
	return !uart_present || (uart_in(UART_LSR) & UART_LSR_THRE);
}

void uart_putc(char c)
{
	if (!uart_present)
		return;
	while (!uart_tx_ready())
		cpu_relax();
	uart_out(UART_THR, (uint8_t)c);
}
