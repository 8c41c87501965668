/*
 * What the command-line tests share: one parse at a time into cfg and err, and the ways to
 * expect it to pass or fail (tests/unit/test_config*.c).
 */
#ifndef TICKGUEST_TEST_CONFIG_EXPECT_H
#define TICKGUEST_TEST_CONFIG_EXPECT_H

#include "kernel/config.h"

extern struct config cfg;
extern char err[512];

int parse(const char *cmdline);
void assert_contains(const char *haystack, const char *needle);
void assert_defaults(const struct config *c);
void expect_ok(const char *cmdline);

/*
 * Every rejection: returns -1, gives one line with no newline that starts with the offending
 * word, contains each of the given fragments, and leaves the defaults in cfg.
 */
void expect_bad_at(const char *cmdline, const char *word, const char *const frags[]);

/* The common case: the command line is a single bad word. */
#define BAD(cmdline, ...) \
	expect_bad_at(cmdline, cmdline, (const char *const[]){ __VA_ARGS__, NULL })
#define BAD_AT(cmdline, word, ...) \
	expect_bad_at(cmdline, word, (const char *const[]){ __VA_ARGS__, NULL })

void expect_exact(const char *cmdline, const char *message);

#endif
