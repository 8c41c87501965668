/*
 * The TAP report on the serial port: the only module that knows the format of
 * docs/report.md.  Checks are numbered as they are made and the plan comes last.
 */
#ifndef TICKGUEST_REPORT_H
#define TICKGUEST_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/exit.h"

void report_begin(void);
/* A banner line "# key: value" (before the first check). */
void report_banner(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A comment line "# ..." anywhere. */
void report_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One check; the message is the claim that holds when ok.  Returns ok. */
bool report_check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A check that could not be made, and why. */
void report_skip(const char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The YAML block of the check just printed: open, any number of keys, close. */
void report_yaml_begin(void);
void report_yaml(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void report_yaml_u64(const char *key, uint64_t v);
/* value in units of 10^-frac_digits, printed as a decimal */
void report_yaml_fixed(const char *key, int64_t value, unsigned frac_digits);
void report_yaml_end(void);

/*
 * Hold the checks made from now on (their lines and YAML, not banners or notes) until
 * report_release() prints them, numbered after any check printed meanwhile: a device's checks
 * are held while it measures and printed when it is done (checks/suite.c).
 */
void report_hold(void);
void report_release(void);

/* Give up: "Bail out! ..." and exit with the status. */
void report_bail(enum exit_status status, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

/* Print the plan and exit: failed if any check failed, skipped if all were skipped. */
void report_finish(void) __attribute__((noreturn));

#endif
