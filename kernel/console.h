#ifndef TICKGUEST_CONSOLE_H
#define TICKGUEST_CONSOLE_H

#include <stdarg.h>
#include <stdbool.h>

void console_init(void);
int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int kvprintf(const char *fmt, va_list ap);

/*
 * Lines formatted now and written later (lib/lineq.h), for an interrupt handler: the UART
 * is polled, and at 115200 baud a line takes some 10 ms to go out, more than a tick at most
 * rates, all of it with every interrupt held off.  One entry: a line, or lines that must not
 * be split, separated by '\n', without the last newline.  Returns false when the queue was
 * full and the entry was dropped (its lines counted, and told where they were).
 */
bool console_queue(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Lines are queued that are not all written yet. */
bool console_queued(void);
/*
 * From a task, interrupts on: write what is queued.  wait (NULL: spin) is called while the
 * UART is busy and between characters: the console task probes for stolen time there, as
 * every busy loop does.
 */
void console_write_queued(void (*wait)(void));
/* After the run, from kmain: the rest of the queue, and what it dropped or cut short. */
void console_flush_queued(void);

#endif
