/*
 * Host unit tests of the command-line parser's engine (kernel/config.c): the words, keys given
 * twice, unknown keys, the checks between keys, and the error buffer.  Each kind of value has its
 * own tests in test_config_values.c, task= in test_config_task.c; test_config_table.c walks the
 * key table key by key, and test_cmdline_doc.c holds docs/cmdline.md to it.
 *
 * The error messages are the parser's user interface, so several are checked word for word.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "tests/unit/config_expect.h"

static void test_defaults(void **state)
{
	(void)state;
	memset(&cfg, 0xa5, sizeof(cfg));
	config_defaults(&cfg);
	assert_defaults(&cfg);
}

static void test_empty(void **state)
{
	(void)state;
	expect_ok("");
	assert_defaults(&cfg);
	expect_ok("   \t  ");
	assert_defaults(&cfg);
	assert_int_equal(config_parse(&cfg, NULL, err, sizeof(err)), 0);
	assert_defaults(&cfg);
}

/* config_parse starts from the defaults, whatever cfg held before. */
static void test_resets(void **state)
{
	(void)state;
	expect_ok("hz=250 duration=1s task=z:spin fault=ud "
		  "lostticks=compensate sponge=run idle=poll clock=hpet stats=off w=1.25");
	expect_ok("");
	assert_defaults(&cfg);
}

/* The examples of docs/cmdline.md. */
static void test_doc_examples(void **state)
{
	(void)state;
	expect_ok("hz=100 duration=10s task=a:spin:2 task=b:spin:1");
	assert_int_equal(cfg.hz, 100);
	assert_int_equal(cfg.duration_us, 10000000);
	assert_int_equal(cfg.ntasks, 2);
	assert_string_equal(cfg.tasks[0].name, "a");
	assert_int_equal(cfg.tasks[0].weight, 2);
	assert_string_equal(cfg.tasks[1].name, "b");
	assert_int_equal(cfg.tasks[1].weight, 1);

	expect_ok("task=b:duty:40:50ms");
	assert_int_equal(cfg.ntasks, 1);
	assert_string_equal(cfg.tasks[0].name, "b");
	assert_int_equal(cfg.tasks[0].kind, TASK_DUTY);
	assert_int_equal(cfg.tasks[0].duty_pct, 40);
	assert_int_equal(cfg.tasks[0].period_us, 50000);
	assert_int_equal(cfg.tasks[0].weight, 1);
	assert_int_equal(cfg.hz, 100);
	assert_int_equal(cfg.duration_us, 5000000);
}

static void test_first_word(void **state)
{
	(void)state;
	/* the image path that GRUB and QEMU -kernel put first is skipped */
	expect_ok("/boot/tickguest.elf hz=250");
	assert_int_equal(cfg.hz, 250);
	expect_ok("/boot/tickguest.elf");
	assert_defaults(&cfg);
	expect_ok("  tickguest  ");
	assert_defaults(&cfg);
	/* a first word with '=' is a setting like any other */
	expect_ok("hz=300 duration=1s");
	assert_int_equal(cfg.hz, 300);
	BAD_AT("hz=0 /boot/tickguest.elf", "hz=0", "out of range");
	/* only the first word is skipped */
	expect_exact("/boot/tickguest.elf nokey", "nokey: not key=value");
	expect_exact("/boot/tickguest.elf hz=100 nokey", "nokey: not key=value");
	BAD_AT("a b", "b", "not key=value");
}

static void test_separators(void **state)
{
	/* tabs, runs of blanks and a blank at the end all part words */
	static const char line[] = "k\thz=200\t\tduration=2s   fault=gp ";
	static const struct ok_case ok[] = {
		OK(line, hz, 200),
		OK(line, duration_us, 2000000),
		OK(line, fault, FAULT_GP),
	};

	(void)state;
	CASES(expect_ok_cases, ok);
	/* a space inside key=value splits it into two words */
	BAD_AT("k hz= 100", "hz=", "empty value", "hz takes an integer");
}

static void test_duplicates(void **state)
{
	(void)state;
	BAD_AT("hz=100 hz=200", "hz=200", "hz is already set");
	BAD_AT("hz=100 hz=100", "hz=100", "already set");
	BAD_AT("duration=1s task=a:spin duration=2s", "duration=2s", "duration is already set");
	BAD_AT("fault=ud fault=ud", "fault=ud", "fault is already set");
	BAD_AT("task=a:spin task=b:spin task=a:duty:10:1s", "task=a:duty:10:1s",
	       "task 'a' is already defined", "unique");
	/* task may repeat with different names */
	expect_ok("task=a:spin task=b:spin");
}

static void test_unknown_key(void **state)
{
	(void)state;
	expect_exact("bogus=1", "bogus=1: unknown key 'bogus'; known keys: hz, duration, task, fault, timer, irq, suite, lostticks, sponge, idle, clock, stats, w");
	expect_exact("k nokey", "nokey: not key=value");
	BAD("HZ=100", "unknown key 'HZ'");
	BAD("=100", "unknown key ''");
	BAD("hzz=100", "unknown key 'hzz'");
	BAD("tasks=a:spin", "unknown key 'tasks'");
	BAD("W=1", "unknown key 'W'");
	/* the first '=' splits key from value; the value may hold more */
	BAD("hz=1=2", "'1=2' is not a number");
}

/*
 * Refused into the first size bytes of a buffer of 'Z's: the message is want (a cut of the
 * whole one) and not a byte is written past the size given; with size 0, none at all.
 */
static void expect_cut(const char *cmdline, size_t size, const char *want)
{
	char small[16];

	memset(small, 'Z', sizeof(small));
	assert_int_equal(config_parse(&cfg, cmdline, small, size), -1);
	if (size)
		assert_string_equal(small, want);
	assert_int_equal(small[size], 'Z');
}

static void test_error_truncation(void **state)
{
	char full[512], first9[10];

	(void)state;
	assert_int_equal(config_parse(&cfg, "bogus=1", full, sizeof(full)), -1);
	memcpy(first9, full, 9);
	first9[9] = '\0';
	expect_cut("bogus=1", 10, first9);
	/* cut inside the "WORD: " prefix */
	expect_cut("task=abcdefghijkl:spin", 8, "task=ab");
	expect_cut("hz=5", 1, "");
	/* no room at all, or no buffer: still -1, nothing written */
	expect_cut("hz=5", 0, NULL);
	assert_int_equal(config_parse(&cfg, "hz=5", NULL, 0), -1);
	assert_defaults(&cfg);
	assert_int_equal(config_parse(&cfg, "hz=50", NULL, 0), 0);
	assert_int_equal(cfg.hz, 50);
}

/* Success clears err; failure leaves the defaults, not a half-parsed configuration. */
static void test_state_after_parse(void **state)
{
	(void)state;
	strcpy(err, "stale");
	assert_int_equal(config_parse(&cfg, "hz=200", err, sizeof(err)), 0);
	assert_string_equal(err, "");

	BAD_AT("hz=200 duration=1s fault=pf task=z:spin bogus=1", "bogus=1", "unknown key");
	BAD_AT("lostticks=compensate sponge=charge idle=poll clock=pmtimer stats=2s w=2 bogus=1",
	       "bogus=1",
	       "unknown key");
	BAD_AT("task=z:spin hz=19 task=y:duty:50:50ms", "task=y:duty:50:50ms", "at least 105264us");
}

/* Quoted words may hold control characters; the message must stay one printable line. */
static void test_one_line(void **state)
{
	size_t i;

	(void)state;
	assert_int_equal(parse("k hz=1\n0"), -1);
	assert_string_equal(err, "hz=1?0: '1?0' is not a number; hz takes an integer from 1 to 10000 (ticks per second; timer= narrows it)");
	assert_int_equal(parse("k fault=\x1b[2J\r\x7f\x80"), -1);
	for (i = 0; err[i]; i++)
		assert_true(err[i] >= 0x20 && err[i] <= 0x7e);
	assert_contains(err, "fault=?[2J???: '?[2J\?\?\?' is unknown");
}

/* The keys that only change the accounting run are an error with suite=devices, which has none. */
static void test_suite_devices_conflicts(void **state)
{
	/* values that ask the accounting run for nothing, and the other new keys, are fine */
	static const char neutral[] =
		"suite=devices sponge=off lostticks=ignore stats=off idle=poll clock=hpet w=1.25";
	/* with an accounting run, all of them apply */
	static const char accounting[] = "suite=accounting sponge=run lostticks=compensate stats=500ms";
	static const struct ok_case ok[] = {
		OK(neutral, suite, SUITE_DEVICES),
		OK(neutral, stats_us, 0),
		OK(neutral, idle, IDLE_POLL),
		OK(neutral, clock, CLOCK_HPET),
		OK(neutral, w_ppm, 1250000),
		OK(accounting, stats_us, 500000),
		OK(accounting, sponge, SPONGE_RUN),
		OK(accounting, lostticks, LOSTTICKS_COMPENSATE),
		OK("suite=all sponge=charge lostticks=compensate stats=2s", sponge, SPONGE_CHARGE),
		OK("sponge=run lostticks=compensate stats=1s", suite, SUITE_ALL),
	};

	(void)state;
	expect_exact("suite=devices sponge=run",
		     "sponge=run: suite=devices runs no workload; use suite=all or suite=accounting");
	/* suite may come after the word; the word is still the one quoted */
	BAD_AT("sponge=charge suite=devices", "sponge=charge", "suite=devices runs no workload");
	BAD_AT("suite=devices lostticks=compensate", "lostticks=compensate",
	       "use suite=all or suite=accounting");
	BAD_AT("stats=500ms hz=200 suite=devices", "stats=500ms", "suite=devices runs no workload");
	/* several: the first on the command line is reported */
	BAD_AT("k stats=2s lostticks=compensate suite=devices sponge=run", "stats=2s", "no workload");
	BAD_AT("sponge=run stats=2s suite=devices", "sponge=run", "no workload");
	/* a bad word is still reported as itself, not as the conflict */
	BAD_AT("suite=devices sponge=run sponge=off", "sponge=off", "sponge is already set");

	CASES(expect_ok_cases, ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_resets),
		cmocka_unit_test(test_doc_examples),
		cmocka_unit_test(test_first_word),
		cmocka_unit_test(test_separators),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_error_truncation),
		cmocka_unit_test(test_state_after_parse),
		cmocka_unit_test(test_one_line),
		cmocka_unit_test(test_suite_devices_conflicts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
