#ifndef TICKGUEST_PANIC_H
#define TICKGUEST_PANIC_H

#include "kernel/trap.h"

/* Internal error: print the reason and a back-trace, exit with the panic status. */
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* A CPU exception: the full register dump of docs/report.md, then the panic status. */
void panic_exception(const struct trapframe *tf) __attribute__((noreturn));

/* The #DF task's code (kernel/gdt.c): the same dump, of the state the task switch saved, and
 * the stack that overflowed when the fault was an overflow into a guard page. */
void panic_double_fault(void) __attribute__((noreturn));

#endif
