#ifndef TICKGUEST_CONSOLE_H
#define TICKGUEST_CONSOLE_H

#include <stdarg.h>

void console_init(void);
int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int kvprintf(const char *fmt, va_list ap);

#endif
