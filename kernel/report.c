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

void report_yaml_begin(void)
{
	kprintf("  ---\n");
}

void report_yaml(const char *key, const char *fmt, ...)
{
	va_list ap;

	kprintf("  %s: ", key);
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
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
