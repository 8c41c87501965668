/* TAP version 13 output; the format is documented in docs/report.md. */
#include <stdarg.h>
#include "kernel/report.h"
#include "kernel/console.h"
#include "kernel/format.h"

static unsigned checks, failed, skipped;

void report_begin(void)
{
	kprintf("TAP version 13\n");
}

void report_banner(const char *key, const char *fmt, ...)
{
	va_list ap;

	kprintf("# %s: ", key);
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
}

void report_note(const char *fmt, ...)
{
	va_list ap;

	kprintf("# ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
}

bool report_check(bool ok, const char *fmt, ...)
{
	va_list ap;

	checks++;
	if (!ok)
		failed++;
	kprintf("%s %u - ", ok ? "ok" : "not ok", checks);
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	return ok;
}

void report_skip(const char *why, const char *fmt, ...)
{
	va_list ap;

	checks++;
	skipped++;
	kprintf("ok %u - ", checks);
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf(" # SKIP %s\n", why);
}

bool report_todo(bool ok, const char *why, const char *fmt, ...)
{
	va_list ap;

	checks++;
	kprintf("%s %u - ", ok ? "ok" : "not ok", checks);
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf(" # TODO %s\n", why);
	return ok;
}

void report_yaml_begin(void)
{
	kprintf("  ---\n");
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
		kprintf("  %s: %s\n", key, buf);
		return;
	}
	kprintf("  %s: \"", key);
	for (const char *c = buf; *c; c++)
		kprintf(*c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
	kprintf("\"\n");
}

void report_yaml_u64(const char *key, uint64_t v)
{
	kprintf("  %s: %llu\n", key, (unsigned long long)v);
}

void report_yaml_fixed(const char *key, int64_t value, unsigned frac_digits)
{
	char buf[32];

	kprintf("  %s: %s\n", key, fmt_fixed(buf, sizeof(buf), value, frac_digits));
}

void report_yaml_end(void)
{
	kprintf("  ...\n");
}

void report_bail(enum exit_status status, const char *fmt, ...)
{
	va_list ap;

	kprintf("Bail out! ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	exit_guest(status);
}

void report_finish(void)
{
	kprintf("1..%u\n", checks);
	if (failed)
		exit_guest(EXIT_FAILED);
	if (checks == skipped)
		exit_guest(EXIT_SKIPPED);
	exit_guest(EXIT_PASSED);
}
