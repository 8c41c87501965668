/*
 * The console: kprintf onto the serial port.  Serial terminals want CR LF, so '\n' is expanded
 * here and nowhere else.
 */
#include "kernel/console.h"
#include "kernel/format.h"
#include "drivers/uart16550.h"

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
