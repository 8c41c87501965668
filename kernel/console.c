/*
 * The console: kprintf onto the serial port, and the queue of lines an interrupt handler
 * formats for a task to write (console.h).  Serial terminals want CR LF, so '\n' is expanded
 * here and nowhere else.
 */
#include "kernel/console.h"
#include "lib/format.h"
#include "lib/lineq.h"
#include "kernel/x86.h"
#include "drivers/uart16550.h"

static struct lineq queue;

static void console_putc(void *arg, char c)
{
	(void)arg;
	if (c == '\n')
		uart_putc('\r');
	uart_putc(c);
}

void console_init(void)
{
	uart_init();
	lineq_init(&queue);
}

int kvprintf(const char *fmt, va_list ap)
{
	return fmt_vformat(console_putc, 0, fmt, ap);
}

int kprintf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvprintf(fmt, ap);
	va_end(ap);
	return n;
}

bool console_queue(const char *fmt, ...)
{
	va_list ap;
	bool ok;

	va_start(ap, fmt);
	ok = lineq_vprintf(&queue, fmt, ap);
	va_end(ap);
	return ok;
}

bool console_queued(void)
{
	return lineq_pending(&queue);
}

void console_write_queued(void (*wait)(void))
{
	for (;;) {
		uint32_t flags;
		char c;

		while (!uart_tx_ready()) {
			if (wait)
				wait();
			else
				cpu_relax();
		}
		/*
		 * Interrupts off from taking the character to marking it written: the run ends
		 * with a switch at an interrupt's exit, never to come back to this task, and the
		 * flush after it must go on from the next character, not write this one again.
		 */
		flags = irq_save();
		c = lineq_peek(&queue);
		if (c) {
			console_putc(0, c);
			lineq_advance(&queue);
		}
		irq_restore(flags);
		if (!c)
			return;
		if (wait)
			wait();
	}
}

void console_flush_queued(void)
{
	console_write_queued(0);
	lineq_close(&queue);
	console_write_queued(0);
	if (queue.truncated)
		kprintf("# console: %llu entries cut short at %u characters\n",
			(unsigned long long)queue.truncated, LINEQ_ENTRY_MAX - 1);
}
