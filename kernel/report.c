/* TAP version 13 output; the format is documented in docs/report.md. */
#include <stdarg.h>
#include "kernel/report.h"
#include "kernel/console.h"
#include "lib/format.h"

static unsigned checks, failed, skipped;       /* checks: numbered so far */

/*
 * Held output (report_hold): a device's checks are made while it measures and printed when it
 * is done, and a check's number is its place in the printed report, so a held check line keeps
 * a NUMBER_MARK where its number goes and gets the number when it is released.
 */
#define HOLD_BYTES      (96 * 1024)
#define NUMBER_MARK     '\x01'
static struct {
	bool on;
	unsigned checks;        /* held check lines, not yet numbered */
	size_t len;
	bool full;              /* something did not fit: the rest is dropped too */
	char buf[HOLD_BYTES];
} held;

static void vout(const char *fmt, va_list ap)
{
	va_list copy;
	int n;

	if (!held.on) {
		kvprintf(fmt, ap);
		return;
	}
	if (held.full)
		return;
	va_copy(copy, ap);
	n = kvsnprintf(held.buf + held.len, sizeof(held.buf) - held.len, fmt, copy);
	va_end(copy);
	if (n < 0 || held.len + (size_t)n >= sizeof(held.buf)) {
		held.full = true;       /* cut at a piece's start, never inside a line's piece */
		return;
	}
	held.len += (size_t)n;
}

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vout(fmt, ap);
	va_end(ap);
}

/* "ok N - " or "not ok N - ": the number now, or a mark for it when held. */
static void verdict(bool ok)
{
	if (held.on) {
		held.checks++;
		out("%s %c - ", ok ? "ok" : "not ok", NUMBER_MARK);
	} else {
		out("%s %u - ", ok ? "ok" : "not ok", ++checks);
	}
}

void report_hold(void)
{
	held.on = true;
}

/* The held checks take the numbers after those printed meanwhile, in the order made.  A
 * check line cut off by a full buffer still counts, so the plan stays true to what was made. */
void report_release(void)
{
	unsigned marks = 0;

	held.on = false;
	for (size_t i = 0; i < held.len; i++) {
		if (held.buf[i] == NUMBER_MARK) {
			kprintf("%u", ++checks);
			marks++;
		} else {
			kprintf("%c", held.buf[i]);
		}
	}
	if (held.full) {
		kprintf("\n# report: %u held checks did not fit in %u bytes and were dropped\n",
			held.checks - marks, HOLD_BYTES);
		checks += held.checks - marks;
		failed++;       /* a report with checks missing cannot pass */
	}
	held.len = 0;
	held.full = false;
	held.checks = 0;
}

void report_begin(void)
{
	kprintf("TAP version 13\n");
}

/* A line straight to the console, never held: the prefix, the caller's format, the newline. */
static void vline(const char *prefix, const char *fmt, va_list ap)
{
	kprintf("%s", prefix);
	kvprintf(fmt, ap);
	kprintf("\n");
}

void report_banner(const char *key, const char *fmt, ...)
{
	va_list ap;

	kprintf("# %s: ", key);
	va_start(ap, fmt);
	vline("", fmt, ap);
	va_end(ap);
}

void report_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline("# ", fmt, ap);
	va_end(ap);
}

/* One TAP test line: the verdict and number, the description, the directive (SKIP) if any. */
static void vtest_line(bool ok, const char *directive, const char *why, const char *fmt, va_list ap)
{
	verdict(ok);
	vout(fmt, ap);
	if (directive)
		out(" # %s %s\n", directive, why);
	else
		out("\n");
}

bool report_check(bool ok, const char *fmt, ...)
{
	va_list ap;

	if (!ok)
		failed++;
	va_start(ap, fmt);
	vtest_line(ok, NULL, NULL, fmt, ap);
	va_end(ap);
	return ok;
}

void report_skip(const char *why, const char *fmt, ...)
{
	va_list ap;

	skipped++;
	va_start(ap, fmt);
	vtest_line(true, "SKIP", why, fmt, ap);
	va_end(ap);
}

void report_yaml_begin(void)
{
	out("  ---\n");
}

/*
 * A plain YAML scalar cannot hold ": " or " #" (they would start a mapping or a comment), nor
 * begin with an indicator YAML gives a meaning to; such a value is written double-quoted.  A
 * leading [ or { is left alone: the report writes flow lists on purpose.
 */
static bool yaml_needs_quotes(const char *v)
{
	static const char indicators[] = "!&*#|>@`\"'%";

	if (!*v)
		return true;
	for (const char *i = indicators; *i; i++)
		if (*v == *i)
			return true;
	if ((*v == '-' || *v == '?' || *v == ':') && (v[1] == ' ' || !v[1]))
		return true;
	for (; *v; v++)
		if ((v[0] == ':' && (v[1] == ' ' || !v[1])) || (v[0] == ' ' && v[1] == '#'))
			return true;
	return false;
}

void report_yaml(const char *key, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!yaml_needs_quotes(buf)) {
		out("  %s: %s\n", key, buf);
		return;
	}
	out("  %s: \"", key);
	for (const char *c = buf; *c; c++)
		out(*c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
	out("\"\n");
}

void report_yaml_u64(const char *key, uint64_t v)
{
	out("  %s: %llu\n", key, (unsigned long long)v);
}

void report_yaml_fixed(const char *key, int64_t value, unsigned frac_digits)
{
	char buf[32];

	out("  %s: %s\n", key, fmt_fixed(buf, sizeof(buf), value, frac_digits));
}

void report_yaml_end(void)
{
	out("  ...\n");
}

void report_bail(enum exit_status status, const char *fmt, ...)
{
	va_list ap;

	if (held.len || held.checks)
		report_release();       /* what was measured before the end is still worth reading */
	va_start(ap, fmt);
	vline("Bail out! ", fmt, ap);
	va_end(ap);
	exit_guest(status);
}

void report_finish(void)
{
	if (held.len || held.checks)
		report_release();
	kprintf("1..%u\n", checks);
	if (failed)
		exit_guest(EXIT_FAILED);
	if (checks == skipped)
		exit_guest(EXIT_SKIPPED);
	exit_guest(EXIT_PASSED);
}
