/*
 * What the command-line tests share: one parse at a time into cfg and err, and the ways to
 * expect it to pass or fail (tests/unit/test_config*.c).
 */
#ifndef TICKGUEST_TEST_CONFIG_EXPECT_H
#define TICKGUEST_TEST_CONFIG_EXPECT_H

#include <stddef.h>
#include <stdint.h>

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

/*
 * The same, a table at a time: most tests are lists of command lines and what each gives, and
 * read best as such.
 */
struct ok_case {
	const char *cmdline;
	size_t offset, size;    /* the field of cfg to look at afterwards */
	uint64_t value;         /* what it must hold */
};

#define OK(cmdline, field, value) \
	{ cmdline, offsetof(struct config, field), sizeof(((struct config *)0)->field), value }

struct bad_case {
	const char *cmdline;
	const char *word;       /* the word refused; NULL: the whole command line */
	const char *frag[3];    /* fragments the message must contain */
};

struct exact_case {
	const char *cmdline;
	const char *message;
};

/* A name function's answer and the name it must be. */
struct name_case {
	const char *got;
	const char *want;
};

void expect_ok_cases(const struct ok_case *c, size_t n);
void expect_bad_cases(const struct bad_case *c, size_t n);
void expect_exact_cases(const struct exact_case *c, size_t n);
void expect_name_cases(const struct name_case *c, size_t n);

#define CASES(fn, cases) fn(cases, sizeof(cases) / sizeof((cases)[0]))

#endif
