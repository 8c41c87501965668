/* The helpers of tests/unit/config_expect.h. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "tests/unit/config_expect.h"

struct config cfg;
char err[512];

int parse(const char *cmdline)
{
	/* garbage first, so a parser that forgets to write err is caught */
	memset(err, 'X', sizeof(err) - 1);
	err[sizeof(err) - 1] = '\0';
	return config_parse(&cfg, cmdline, err, sizeof(err));
}

void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

void assert_defaults(const struct config *c)
{
	assert_int_equal(c->hz, 100);
	assert_int_equal(c->duration_us, 5000000);
	assert_int_equal(c->fault, FAULT_NONE);
	assert_int_equal(c->lostticks, LOSTTICKS_IGNORE);
	assert_int_equal(c->sponge, SPONGE_OFF);
	assert_int_equal(c->idle, IDLE_HALT);
	assert_int_equal(c->clock, CLOCK_TSC);
	assert_int_equal(c->stats_us, 1000000);
	assert_int_equal(c->w_ppm, 0);
	assert_int_equal(c->ntasks, 2);

	assert_string_equal(c->tasks[0].name, "a");
	assert_int_equal(c->tasks[0].kind, TASK_SPIN);
	assert_int_equal(c->tasks[0].weight, 2);

	assert_string_equal(c->tasks[1].name, "b");
	assert_int_equal(c->tasks[1].kind, TASK_SPIN);
	assert_int_equal(c->tasks[1].weight, 1);
}

void expect_ok(const char *cmdline)
{
	if (parse(cmdline) != 0)
		fail_msg("rejected \"%s\": %s", cmdline, err);
	assert_string_equal(err, "");
}

void expect_bad_at(const char *cmdline, const char *word, const char *const frags[])
{
	size_t i;

	if (parse(cmdline) != -1)
		fail_msg("accepted \"%s\"", cmdline);
	assert_true(err[0] != '\0');
	assert_null(strchr(err, '\n'));
	assert_null(strchr(err, '\r'));
	assert_true(strncmp(err, word, strlen(word)) == 0 && err[strlen(word)] == ':');
	for (i = 0; frags[i]; i++)
		assert_contains(err, frags[i]);
	assert_defaults(&cfg);
}

void expect_exact(const char *cmdline, const char *message)
{
	assert_int_equal(parse(cmdline), -1);
	assert_string_equal(err, message);
}

void expect_ok_cases(const struct ok_case *c, size_t n)
{
	uint64_t v64;
	uint32_t v32;
	size_t i;

	for (i = 0; i < n; i++) {
		const char *field = (const char *)&cfg + c[i].offset;

		expect_ok(c[i].cmdline);
		if (c[i].size == sizeof(v64)) {
			memcpy(&v64, field, sizeof(v64));
		} else {
			memcpy(&v32, field, sizeof(v32));
			v64 = v32;
		}
		if (v64 != c[i].value)
			fail_msg("\"%s\" gave %llu, not %llu", c[i].cmdline, (unsigned long long)v64,
				 (unsigned long long)c[i].value);
	}
}

void expect_bad_cases(const struct bad_case *c, size_t n)
{
	const char *frags[4];
	size_t i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < 3 && c[i].frag[j]; j++)
			frags[j] = c[i].frag[j];
		frags[j] = NULL;
		expect_bad_at(c[i].cmdline, c[i].word ? c[i].word : c[i].cmdline, frags);
	}
}

void expect_exact_cases(const struct exact_case *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		expect_exact(c[i].cmdline, c[i].message);
}

/* A name alone does not say which row gave it: the failure names the row. */
void expect_name_cases(const struct name_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!c[i].got || strcmp(c[i].got, c[i].want) != 0)
			fail_msg("name %zu is \"%s\", not \"%s\"", i, c[i].got ? c[i].got : "(null)",
				 c[i].want);
}
