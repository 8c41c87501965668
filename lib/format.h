/*
 * printf-style formatting without a C library.  Pure code: the kernel uses it for kprintf and
 * the host unit tests check it directly.
 *
 * Conversions: %d %i %u %x %X %c %s %p %%; flags '-' and '0'; a field width (digits or '*');
 * a precision for %s; length modifiers l, ll and z.  The kernel has no floating point, so
 * fixed-point figures are printed with fmt_fixed() and %s.
 */
#ifndef TICKGUEST_FORMAT_H
#define TICKGUEST_FORMAT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*fmt_putc_fn)(void *arg, char c);

/* Format into the sink; returns the number of characters produced. */
int fmt_vformat(fmt_putc_fn putc, void *arg, const char *fmt, va_list ap);

/* Like snprintf: always NUL-terminates when n > 0; returns the untruncated length. */
int ksnprintf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int kvsnprintf(char *buf, size_t n, const char *fmt, va_list ap);

/*
 * Write a fixed-point number: value counts units of 10^-frac_digits, so
 * fmt_fixed(buf, n, -66667, 4) gives "-6.6667" and fmt_fixed(buf, n, 5, 3) gives "0.005".
 * Returns buf.
 */
const char *fmt_fixed(char *buf, size_t n, int64_t value, unsigned frac_digits);

#endif
