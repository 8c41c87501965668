/*
 * A small printf: enough conversions for the serial report and error messages, and nothing
 * that needs floating point or a C library.
 *
 * Every character goes through a sink function (fmt_putc_fn), so the same formatter writes
 * to the UART in the kernel and into a buffer for ksnprintf and the host tests.
 */
#include <stdbool.h>

#include "lib/format.h"

/*
 * A field wider than this is almost certainly a bug in a format string; capping it keeps a
 * bad width from producing millions of spaces or overflowing the width arithmetic.
 */
#define FIELD_MAX 4096

enum {
	FLAG_LEFT = 1 << 0,     /* '-': pad on the right */
	FLAG_ZERO = 1 << 1,     /* '0': pad numbers with zeros after the sign or 0x */
};

enum length {
	LEN_INT,
	LEN_LONG,       /* l */
	LEN_LLONG,      /* ll */
	LEN_SIZE,       /* z */
};

/* Where the characters go, and how many we have produced (the return value). */
struct out {
	fmt_putc_fn putc;
	void *arg;
	int count;
};

static void out_char(struct out *o, char c)
{
	o->putc(o->arg, c);
	o->count++;
}

static void out_repeat(struct out *o, char c, int n)
{
	while (n-- > 0)
		out_char(o, c);
}

/*
 * Write one field: an optional prefix (a sign or "0x") and a body, padded to width.  Zero
 * padding goes between prefix and body so that -42 in %05d becomes -0042, not 00-42.  As in C,
 * '-' wins over '0': a left-justified field is padded with spaces on the right.
 */
static void out_field(struct out *o, const char *prefix, const char *body, int body_len,
		      int width, unsigned flags)
{
	int prefix_len = 0;
	int pad;
	int i;

	while (prefix[prefix_len])
		prefix_len++;
	pad = width - prefix_len - body_len;

	if (!(flags & FLAG_LEFT) && !(flags & FLAG_ZERO))
		out_repeat(o, ' ', pad);
	for (i = 0; i < prefix_len; i++)
		out_char(o, prefix[i]);
	if (!(flags & FLAG_LEFT) && (flags & FLAG_ZERO))
		out_repeat(o, '0', pad);
	for (i = 0; i < body_len; i++)
		out_char(o, body[i]);
	if (flags & FLAG_LEFT)
		out_repeat(o, ' ', pad);
}

/*
 * Write the digits of v into the end of buf and return where they start.  buf must hold 20
 * characters, the length of UINT64_MAX in decimal.  Hex uses shifts, so only decimal needs a
 * 64-bit division (a libgcc call on i686).
 */
static char *utoa(char *end, uint64_t v, unsigned base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char *p = end;

	do {
		if (base == 16) {
			*--p = digits[v & 15];
			v >>= 4;
		} else {
			*--p = digits[v % 10];
			v /= 10;
		}
	} while (v);
	return p;
}

static void out_number(struct out *o, uint64_t mag, bool negative, unsigned base, bool upper,
		       const char *prefix, int width, unsigned flags)
{
	char buf[20];
	char *start = utoa(buf + sizeof(buf), mag, base, upper);

	out_field(o, negative ? "-" : prefix, start, (int)(buf + sizeof(buf) - start), width,
		  flags);
}

/* Read the digits of a width or precision, saturating instead of overflowing. */
static int parse_count(const char **pp)
{
	const char *p = *pp;
	int n = 0;

	while (*p >= '0' && *p <= '9') {
		if (n <= FIELD_MAX)
			n = n * 10 + (*p - '0');
		p++;
	}
	*pp = p;
	return n > FIELD_MAX ? FIELD_MAX : n;
}

int fmt_vformat(fmt_putc_fn putc, void *arg, const char *fmt, va_list ap)
{
	struct out o = { putc, arg, 0 };
	const char *p;

	for (p = fmt; *p; p++) {
		unsigned flags = 0;
		int width = 0;
		int precision = -1;     /* -1: none given */
		enum length len = LEN_INT;
		int64_t sval;
		uint64_t uval;
		const char *s;
		char c;

		if (*p != '%') {
			out_char(&o, *p);
			continue;
		}
		p++;

		for (;; p++) {
			if (*p == '-')
				flags |= FLAG_LEFT;
			else if (*p == '0')
				flags |= FLAG_ZERO;
			else
				break;
		}

		if (*p == '*') {
			width = va_arg(ap, int);
			p++;
			/* C says a negative '*' width means '-' with the positive width. */
			if (width < 0) {
				flags |= FLAG_LEFT;
				width = width < -FIELD_MAX ? FIELD_MAX : -width;
			}
			if (width > FIELD_MAX)
				width = FIELD_MAX;
		} else {
			width = parse_count(&p);
		}

		if (*p == '.') {
			p++;
			if (*p == '*') {
				precision = va_arg(ap, int);
				p++;
				if (precision < 0)      /* as if no precision was given */
					precision = -1;
			} else {
				precision = parse_count(&p);
			}
		}

		if (*p == 'l') {
			p++;
			len = LEN_LONG;
			if (*p == 'l') {
				p++;
				len = LEN_LLONG;
			}
		} else if (*p == 'z') {
			p++;
			len = LEN_SIZE;
		}

		/*
		 * Each va_arg names the exact promoted type the caller passed: long is 64 bits on
		 * the x86-64 host and 32 bits in the i686 kernel, and reading the wrong width would
		 * take the wrong bytes off the argument list.
		 */
		switch (*p) {
		case 'd':
		case 'i':
			switch (len) {
			case LEN_LONG:
				sval = va_arg(ap, long);
				break;
			case LEN_LLONG:
				sval = va_arg(ap, long long);
				break;
			case LEN_SIZE:
				/* the signed type with the width of size_t */
				sval = va_arg(ap, ptrdiff_t);
				break;
			default:
				sval = va_arg(ap, int);
				break;
			}
			/* Negate in unsigned arithmetic so INT64_MIN does not overflow. */
			uval = sval < 0 ? 0 - (uint64_t)sval : (uint64_t)sval;
			out_number(&o, uval, sval < 0, 10, false, "", width, flags);
			break;

		case 'u':
		case 'x':
		case 'X':
			switch (len) {
			case LEN_LONG:
				uval = va_arg(ap, unsigned long);
				break;
			case LEN_LLONG:
				uval = va_arg(ap, unsigned long long);
				break;
			case LEN_SIZE:
				uval = va_arg(ap, size_t);
				break;
			default:
				uval = va_arg(ap, unsigned int);
				break;
			}
			out_number(&o, uval, false, *p == 'u' ? 10 : 16, *p == 'X', "", width,
				   flags);
			break;

		case 'p':
			uval = (uintptr_t)va_arg(ap, void *);
			out_number(&o, uval, false, 16, false, "0x", width, flags);
			break;

		case 'c':
			c = (char)va_arg(ap, int);
			out_field(&o, "", &c, 1, width, flags & FLAG_LEFT);
			break;

		case 's': {
			int n = 0;

			s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			/* Stop at the precision without reading past it: s need not be
			 * NUL-terminated when a precision is given. */
			while ((precision < 0 || n < precision) && s[n])
				n++;
			out_field(&o, "", s, n, width, flags & FLAG_LEFT);
			break;
		}

		case '%':
			out_char(&o, '%');
			break;

		case '\0':
			/* A lone '%' at the end: show it and stop, rather than read past the NUL. */
			out_char(&o, '%');
			return o.count;

		default:
			/* Unknown conversion: print it as written so the mistake is visible. */
			out_char(&o, '%');
			out_char(&o, *p);
			break;
		}
	}
	return o.count;
}

/* The buffer sink: keeps the first n - 1 characters and counts the rest. */
struct buf_sink {
	char *buf;
	size_t n;
	size_t pos;
};

static void buf_putc(void *arg, char c)
{
	struct buf_sink *b = arg;

	if (b->pos + 1 < b->n)
		b->buf[b->pos] = c;
	b->pos++;
}

int kvsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
	struct buf_sink b = { buf, n, 0 };
	int len = fmt_vformat(buf_putc, &b, fmt, ap);

	if (n > 0)
		buf[b.pos < n ? b.pos : n - 1] = '\0';
	return len;
}

int ksnprintf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = kvsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return len;
}

/*
 * Printing the digits of |value| and putting the decimal point frac_digits from the right
 * needs no powers of ten, so any frac_digits works and nothing can overflow.
 */
const char *fmt_fixed(char *buf, size_t n, int64_t value, unsigned frac_digits)
{
	struct buf_sink b = { buf, n, 0 };
	char digits[20];
	char *start;
	unsigned len;
	unsigned i;

	if (n == 0)
		return buf;

	start = utoa(digits + sizeof(digits), value < 0 ? 0 - (uint64_t)value : (uint64_t)value,
		     10, false);
	len = (unsigned)(digits + sizeof(digits) - start);

	if (value < 0)
		buf_putc(&b, '-');
	if (len <= frac_digits) {
		/* Only a fraction: 5 with 3 digits is 0.005. */
		buf_putc(&b, '0');
		buf_putc(&b, '.');
		/* Stop once the buffer is full: a huge frac_digits must not spin for ages. */
		for (i = len; i < frac_digits && b.pos + 1 < b.n; i++)
			buf_putc(&b, '0');
		for (i = 0; i < len; i++)
			buf_putc(&b, start[i]);
	} else {
		for (i = 0; i < len; i++) {
			if (frac_digits && i == len - frac_digits)
				buf_putc(&b, '.');
			buf_putc(&b, start[i]);
		}
	}
	buf[b.pos < n ? b.pos : n - 1] = '\0';
	return buf;
}
