/*
 * Host unit tests for kernel/config.c, the command-line parser.
 *
 * Build and run from the repository root:
 *   gcc -std=c11 -Wall -Wextra -Werror -I. tests/unit/test_config.c kernel/config.c kernel/format.c kernel/string.c -lcmocka -o build/host/test_config
 *   gcc -std=c11 -Wall -Wextra -Werror -I. tests/unit/test_format.c kernel/format.c -lcmocka -o build/host/test_format
 *   gcc -std=c11 -Wall -Wextra -Werror -I. tests/unit/test_stats.c acct/stats.c -lcmocka -o build/host/test_stats
 *   build/host/test_config
 *
 * The error messages are the parser's user interface, so several are checked word for word.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "kernel/config.h"

static struct config cfg;
static char err[512];

static int parse(const char *cmdline)
{
	/* garbage first, so a parser that forgets to write err is caught */
	memset(err, 'X', sizeof(err) - 1);
	err[sizeof(err) - 1] = '\0';
	return config_parse(&cfg, cmdline, err, sizeof(err));
}

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

static void assert_defaults(const struct config *c)
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

static void expect_ok(const char *cmdline)
{
	if (parse(cmdline) != 0)
		fail_msg("rejected \"%s\": %s", cmdline, err);
	assert_string_equal(err, "");
}

/*
 * Every rejection: returns -1, gives one line with no newline that starts with the offending
 * word, contains each of the given fragments, and leaves the defaults in cfg.
 */
static void expect_bad_at(const char *cmdline, const char *word, const char *const frags[])
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

/* The common case: the command line is a single bad word. */
#define BAD(cmdline, ...) \
	expect_bad_at(cmdline, cmdline, (const char *const[]){ __VA_ARGS__, NULL })
#define BAD_AT(cmdline, word, ...) \
	expect_bad_at(cmdline, word, (const char *const[]){ __VA_ARGS__, NULL })

static void expect_exact(const char *cmdline, const char *message)
{
	assert_int_equal(parse(cmdline), -1);
	assert_string_equal(err, message);
}

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
	(void)state;
	expect_ok("k\thz=200\t\tduration=2s   fault=gp ");
	assert_int_equal(cfg.hz, 200);
	assert_int_equal(cfg.duration_us, 2000000);
	assert_int_equal(cfg.fault, FAULT_GP);
	/* a space inside key=value splits it into two words */
	BAD_AT("k hz= 100", "hz=", "not a number");
}

static void test_hz(void **state)
{
	(void)state;
	expect_ok("hz=100");
	assert_int_equal(cfg.hz, 100);
	expect_ok("hz=10000");
	assert_int_equal(cfg.hz, 10000);
	expect_ok("hz=40");         /* the slowest that still suits the default duty task */
	assert_int_equal(cfg.hz, 40);
	expect_ok("hz=19 task=a:spin");
	assert_int_equal(cfg.hz, 19);
	expect_ok("hz=0100");
	assert_int_equal(cfg.hz, 100);

	expect_exact("hz=abc",
		     "hz=abc: not a number; hz takes an integer from 1 to 10000 (ticks per second; timer= narrows it)");
	expect_exact("hz=5",
		     "hz=5: out of range; hz takes an integer from 19 to 10000 (the PIT cannot tick slower than 18.2 Hz)");
	BAD("hz=18", "out of range", "18.2 Hz");
	BAD("hz=0", "out of range");
	BAD("hz=10001", "out of range", "from 1 to 10000");
	BAD("hz=", "not a number");
	BAD("hz=-100", "not a number");
	BAD("hz=+100", "not a number");
	BAD("hz=0x64", "not a number");
	BAD("hz=100Hz", "not a number");
	BAD("hz=1e3", "not a number");
	/* too big for 64 bits: rejected, not wrapped */
	BAD("hz=18446744073709551615", "out of range");
	BAD("hz=99999999999999999999999", "out of range");
	/* 2^64 + 100 would wrap to 100 */
	BAD("hz=18446744073709551716", "out of range");
}

static void test_duration(void **state)
{
	(void)state;
	expect_ok("duration=500ms");
	assert_int_equal(cfg.duration_us, 500000);
	expect_ok("duration=10s");
	assert_int_equal(cfg.duration_us, 10000000);
	expect_ok("duration=2500000us");
	assert_int_equal(cfg.duration_us, 2500000);
	expect_ok("duration=100ms");
	assert_int_equal(cfg.duration_us, 100000);
	expect_ok("duration=100000us");
	assert_int_equal(cfg.duration_us, 100000);
	expect_ok("duration=3600s");
	assert_int_equal(cfg.duration_us, 3600000000ULL);
	expect_ok("duration=3600000ms");
	assert_int_equal(cfg.duration_us, 3600000000ULL);

	expect_exact("duration=10",
		     "duration=10: '10' needs a unit; duration takes a time from 100ms to 3600s, such as 500ms or 10s");
	BAD("duration=99ms", "'99ms' is out of range", "from 100ms to 3600s");
	BAD("duration=99999us", "out of range");
	BAD("duration=3601s", "out of range");
	BAD("duration=0s", "out of range");
	BAD("duration=10h", "unknown unit 'h'", "us, ms or s");
	BAD("duration=10S", "unknown unit 'S'");
	BAD("duration=10sec", "unknown unit 'sec'");
	BAD("duration=1.5s", "unknown unit '.5s'");
	BAD("duration=abc", "'abc' is not a time");
	BAD("duration=ms", "not a time");
	BAD("duration=-1s", "not a time");
	BAD("duration=", "not a time");
	BAD_AT("duration=10 ms", "duration=10", "needs a unit");
	/* overflow of the digits, and of the digits times the unit */
	BAD("duration=99999999999999999999s", "out of range");
	BAD("duration=18446744073710s", "out of range");
	/* (5 + 2^58) s = 5 s + 15625 * 2^64 us: wraps to exactly 5 s unless caught */
	BAD("duration=288230376151711749s", "out of range");
}

static void test_task_spin(void **state)
{
	(void)state;
	expect_ok("task=worker:spin");
	assert_int_equal(cfg.ntasks, 1);
	assert_string_equal(cfg.tasks[0].name, "worker");
	assert_int_equal(cfg.tasks[0].kind, TASK_SPIN);
	assert_int_equal(cfg.tasks[0].weight, 1);

	expect_ok("task=a:spin:1 task=b:spin:100");
	assert_int_equal(cfg.tasks[0].weight, 1);
	assert_int_equal(cfg.tasks[1].weight, 100);

	BAD("task=a:spin:0", "weight '0' is out of range", "WEIGHT is an integer from 1 to 100");
	BAD("task=a:spin:101", "weight '101' is out of range");
	BAD("task=a:spin:x", "weight 'x' is not a number");
	BAD("task=a:spin:", "weight '' is not a number");
	BAD("task=a:spin:-1", "not a number");
	BAD("task=a:spin:99999999999999999999999", "out of range");
	BAD("task=a:spin:1:2", "too many fields", "NAME:spin[:WEIGHT]");
}

static void test_task_duty(void **state)
{
	(void)state;
	expect_ok("task=c:duty:30:50ms");
	assert_int_equal(cfg.ntasks, 1);
	assert_int_equal(cfg.tasks[0].kind, TASK_DUTY);
	assert_int_equal(cfg.tasks[0].duty_pct, 30);
	assert_int_equal(cfg.tasks[0].period_us, 50000);
	assert_int_equal(cfg.tasks[0].weight, 1);

	expect_ok("task=c:duty:1:10s:7");
	assert_int_equal(cfg.tasks[0].duty_pct, 1);
	assert_int_equal(cfg.tasks[0].period_us, 10000000);
	assert_int_equal(cfg.tasks[0].weight, 7);

	expect_ok("hz=2000 task=c:duty:100:1ms");
	assert_int_equal(cfg.tasks[0].duty_pct, 100);
	assert_int_equal(cfg.tasks[0].period_us, 1000);

	expect_ok("task=c:duty:50:25000us");
	assert_int_equal(cfg.tasks[0].period_us, 25000);

	BAD("task=c:duty:0:50ms", "duty percentage '0' is out of range", "PCT is an integer from 1 to 100");
	BAD("task=c:duty:101:50ms", "duty percentage '101' is out of range");
	BAD("task=c:duty:half:50ms", "duty percentage 'half' is not a number");
	BAD("task=c:duty::50ms", "duty percentage '' is not a number");
	BAD("task=c:duty:30:50", "period '50' needs a unit", "PERIOD is a time from 1ms to 10s");
	BAD("task=c:duty:30:999us", "period '999us' is out of range");
	BAD("task=c:duty:30:10001ms", "period '10001ms' is out of range");
	BAD("task=c:duty:30:50m", "period '50m' has an unknown unit 'm'");
	BAD("task=c:duty:30:fast", "period 'fast' is not a time");
	BAD("task=c:duty:30:50ms:0", "weight '0' is out of range");
	BAD("task=c:duty:30:50ms:1:2", "too many fields", "NAME:duty:PCT:PERIOD[:WEIGHT]");
	BAD("task=c:duty:30", "needs both PCT and PERIOD");
	BAD("task=c:duty", "needs both PCT and PERIOD");
}

static void test_task_kind(void **state)
{
	(void)state;
	expect_exact("task=x:blink",
		     "task=x:blink: unknown task kind 'blink'; use NAME:spin[:WEIGHT] or NAME:duty:PCT:PERIOD[:WEIGHT]");
	BAD("task=x:SPIN", "unknown task kind 'SPIN'");
	BAD("task=x:", "unknown task kind ''");
	BAD("task=x", "missing task kind", "NAME:spin[:WEIGHT]");
	BAD("task=", "empty value", "NAME:duty:PCT:PERIOD[:WEIGHT]");
}

static void test_task_name(void **state)
{
	(void)state;
	expect_ok("task=abcdefgh:spin");        /* CONFIG_NAME_MAX characters */
	assert_string_equal(cfg.tasks[0].name, "abcdefgh");
	expect_ok("task=t_0:spin task=9:spin task=_:spin task=idle2:spin task=idl:spin");
	assert_int_equal(cfg.ntasks, 5);
	assert_string_equal(cfg.tasks[0].name, "t_0");
	assert_string_equal(cfg.tasks[3].name, "idle2");

	BAD("task=abcdefghi:spin", "task name 'abcdefghi' is too long", "1 to 8 characters");
	BAD("task=:spin", "empty task name", "a-z, 0-9 and _");
	BAD("task=Ab:spin", "task name 'Ab' contains 'A'");
	BAD("task=a-b:spin", "contains '-'");
	BAD("task=a.b:spin", "contains '.'");
	BAD("task=a=b:spin", "contains '='");
	BAD("task=idle:spin", "'idle' is reserved");
	/* the name is checked before the rest */
	BAD("task=A:blink", "contains 'A'");
}

static void test_task_replaces_defaults(void **state)
{
	(void)state;
	/* no task= keeps the default workload */
	expect_ok("hz=200 duration=1s fault=de");
	assert_int_equal(cfg.ntasks, 2);
	assert_string_equal(cfg.tasks[1].name, "b");

	/* one task= replaces all of it, even a task named like a default one */
	expect_ok("task=b:spin:5");
	assert_int_equal(cfg.ntasks, 1);
	assert_string_equal(cfg.tasks[0].name, "b");
	assert_int_equal(cfg.tasks[0].kind, TASK_SPIN);
	assert_int_equal(cfg.tasks[0].weight, 5);

	/* order on the command line is kept, wherever the other keys are */
	expect_ok("task=z:spin hz=200 task=y:spin:3 duration=1s task=x:duty:20:100ms");
	assert_int_equal(cfg.ntasks, 3);
	assert_string_equal(cfg.tasks[0].name, "z");
	assert_string_equal(cfg.tasks[1].name, "y");
	assert_string_equal(cfg.tasks[2].name, "x");
	assert_int_equal(cfg.tasks[2].kind, TASK_DUTY);
}

static void test_max_tasks(void **state)
{
	(void)state;
	expect_ok("task=t1:spin task=t2:spin task=t3:spin task=t4:spin "
		  "task=t5:spin task=t6:spin task=t7:spin task=t8:spin");
	assert_int_equal(cfg.ntasks, CONFIG_MAX_TASKS);
	assert_string_equal(cfg.tasks[7].name, "t8");

	BAD_AT("task=t1:spin task=t2:spin task=t3:spin task=t4:spin "
	       "task=t5:spin task=t6:spin task=t7:spin task=t8:spin task=t9:spin",
	       "task=t9:spin", "too many tasks", "at most 8");
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

static void test_fault(void **state)
{
	(void)state;
	expect_ok("fault=ud");
	assert_int_equal(cfg.fault, FAULT_UD);
	expect_ok("fault=de");
	assert_int_equal(cfg.fault, FAULT_DE);
	expect_ok("fault=pf");
	assert_int_equal(cfg.fault, FAULT_PF);
	expect_ok("fault=gp");
	assert_int_equal(cfg.fault, FAULT_GP);

	BAD("fault=xx", "unknown fault 'xx'", "ud, de, pf, gp");
	BAD("fault=UD", "unknown fault 'UD'");
	BAD("fault=none", "unknown fault 'none'");
	BAD("fault=", "unknown fault ''");
	BAD("fault=udx", "unknown fault");

	assert_string_equal(config_fault_name(FAULT_NONE), "none");
	assert_string_equal(config_fault_name(FAULT_UD), "ud");
	assert_string_equal(config_fault_name(FAULT_DE), "de");
	assert_string_equal(config_fault_name(FAULT_PF), "pf");
	assert_string_equal(config_fault_name(FAULT_GP), "gp");
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
	BAD("hz=1=2", "not a number");
}

/*
 * A duty period must span at least 2 ticks: period_us * hz >= 2000000.  At hz=100 a tick is
 * 10 ms, so 20 ms is the shortest period; at hz=150, 2e6 / 150 = 13333.3 us, rounded up 13334.
 */
static void test_duty_two_ticks(void **state)
{
	(void)state;
	expect_ok("hz=100 task=c:duty:30:20ms");
	expect_ok("hz=100 task=c:duty:30:20000us");
	BAD_AT("hz=100 task=c:duty:30:19999us", "task=c:duty:30:19999us",
	       "period 19999us is shorter than 2 ticks at hz=100", "at least 20ms");
	expect_exact("hz=100 task=c:duty:30:10ms",
		     "task=c:duty:30:10ms: period 10ms is shorter than 2 ticks at hz=100; PERIOD must be at least 20ms at this hz");

	/* the check runs after all words, so hz may come after the task */
	expect_ok("task=c:duty:30:19ms hz=200");
	BAD_AT("task=c:duty:30:10ms hz=150", "task=c:duty:30:10ms", "hz=150", "at least 13334us");
	expect_ok("task=c:duty:30:13334us hz=150");
	BAD_AT("task=c:duty:30:13333us hz=150", "task=c:duty:30:13333us", "at least 13334us");

	/* only duty tasks are checked, and each one */
	expect_ok("hz=19 task=a:spin");
	BAD_AT("hz=1000 task=a:spin task=b:duty:10:2ms task=c:duty:10:1ms", "task=c:duty:10:1ms",
	       "period 1ms", "hz=1000", "at least 2ms");

	/* the default workload has no duty task, so the slowest PIT rate works alone */
	expect_ok("hz=19");
}

static void test_error_truncation(void **state)
{
	char small[16];
	char full[512];

	(void)state;
	assert_int_equal(config_parse(&cfg, "bogus=1", full, sizeof(full)), -1);

	memset(small, 'Z', sizeof(small));
	assert_int_equal(config_parse(&cfg, "bogus=1", small, 10), -1);
	assert_int_equal(strlen(small), 9);
	assert_true(strncmp(small, full, 9) == 0);
	assert_int_equal(small[10], 'Z');

	/* cut inside the "WORD: " prefix */
	memset(small, 'Z', sizeof(small));
	assert_int_equal(config_parse(&cfg, "task=abcdefghijkl:spin", small, 8), -1);
	assert_string_equal(small, "task=ab");
	assert_int_equal(small[8], 'Z');

	memset(small, 'Z', sizeof(small));
	assert_int_equal(config_parse(&cfg, "hz=5", small, 1), -1);
	assert_string_equal(small, "");
	assert_int_equal(small[1], 'Z');

	/* no room at all, or no buffer: still -1, nothing written */
	memset(small, 'Z', sizeof(small));
	assert_int_equal(config_parse(&cfg, "hz=5", small, 0), -1);
	assert_int_equal(small[0], 'Z');
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
	assert_string_equal(err, "hz=1?0: not a number; hz takes an integer from 1 to 10000 (ticks per second; timer= narrows it)");
	assert_int_equal(parse("k fault=\x1b[2J\r\x7f\x80"), -1);
	for (i = 0; err[i]; i++)
		assert_true(err[i] >= 0x20 && err[i] <= 0x7e);
	assert_contains(err, "fault=?[2J???: unknown fault");
}

static void test_timer_and_irq(void **state)
{
	(void)state;
	expect_ok("timer=pit");
	assert_int_equal(cfg.timer, TIMER_PIT);
	assert_int_equal(cfg.irq, IRQ_ROUTE_DEFAULT);
	expect_ok("timer=lapic hz=5 irq=pic");
	assert_int_equal(cfg.timer, TIMER_LAPIC);
	assert_int_equal(cfg.hz, 5);
	assert_int_equal(cfg.irq, IRQ_ROUTE_PIC);
	expect_ok("timer=hpet irq=ioapic");
	assert_int_equal(cfg.timer, TIMER_HPET);
	assert_int_equal(cfg.irq, IRQ_ROUTE_IOAPIC);

	/* the RTC: powers of two only, and its own default rate */
	expect_ok("timer=rtc");
	assert_int_equal(cfg.hz, CONFIG_RTC_HZ_DEFAULT);
	expect_ok("hz=8192 timer=rtc");
	assert_int_equal(cfg.hz, 8192);
	expect_ok("timer=rtc hz=2");
	expect_exact("hz=100 timer=rtc",
		     "hz=100: not a rate of the RTC; with timer=rtc hz takes a power of two from 2 to 8192");
	BAD_AT("timer=rtc hz=1", "hz=1", "power of two");
	BAD_AT("timer=rtc hz=9000", "hz=9000", "power of two");

	/* the PIT's floor applies whichever order the words come in */
	BAD_AT("hz=5 timer=pit", "hz=5", "18.2 Hz");
	expect_ok("hz=5 timer=hpet");

	BAD("timer=tsc", "unknown timer 'tsc'", "pit, rtc, lapic, hpet");
	BAD("irq=apic", "unknown interrupt routing 'apic'", "pic or ioapic");
	BAD("irq=default", "unknown interrupt routing");
	BAD_AT("timer=pit timer=rtc", "timer=rtc", "given more than once");
	BAD_AT("irq=pic irq=pic", "irq=pic", "given more than once");
	assert_string_equal(config_timer_name(TIMER_LAPIC), "lapic");
	assert_string_equal(config_irq_name(IRQ_ROUTE_IOAPIC), "ioapic");
}

static void test_suite(void **state)
{
	(void)state;
	expect_ok("");
	assert_int_equal(cfg.suite, SUITE_ALL);
	expect_ok("suite=devices");
	assert_int_equal(cfg.suite, SUITE_DEVICES);
	expect_ok("suite=accounting timer=rtc");
	assert_int_equal(cfg.suite, SUITE_ACCOUNTING);
	BAD("suite=fast", "unknown suite 'fast'", "all, devices or accounting");
	BAD_AT("suite=all suite=all", "suite=all", "given more than once");
	assert_string_equal(config_suite_name(SUITE_DEVICES), "devices");
}

static void test_lostticks(void **state)
{
	(void)state;
	expect_ok("lostticks=compensate");
	assert_int_equal(cfg.lostticks, LOSTTICKS_COMPENSATE);
	expect_ok("lostticks=ignore");
	assert_int_equal(cfg.lostticks, LOSTTICKS_IGNORE);
	/* the other keys are left alone */
	expect_ok("hz=250 lostticks=compensate duration=1s");
	assert_int_equal(cfg.lostticks, LOSTTICKS_COMPENSATE);
	assert_int_equal(cfg.hz, 250);
	assert_int_equal(cfg.sponge, SPONGE_OFF);

	expect_exact("lostticks=drop",
		     "lostticks=drop: unknown lostticks mode 'drop'; lostticks takes ignore or compensate");
	BAD("lostticks=", "unknown lostticks mode ''");
	BAD("lostticks=Compensate", "unknown lostticks mode 'Compensate'");
	BAD("lostticks=compensated", "unknown lostticks mode");
	BAD_AT("lostticks=ignore lostticks=compensate", "lostticks=compensate",
	       "lostticks is already set");

	assert_string_equal(config_lostticks_name(LOSTTICKS_IGNORE), "ignore");
	assert_string_equal(config_lostticks_name(LOSTTICKS_COMPENSATE), "compensate");
	assert_string_equal(config_lostticks_name((enum lostticks_mode)2), "?");
}

static void test_sponge(void **state)
{
	(void)state;
	expect_ok("sponge=run");
	assert_int_equal(cfg.sponge, SPONGE_RUN);
	expect_ok("sponge=charge");
	assert_int_equal(cfg.sponge, SPONGE_CHARGE);
	expect_ok("sponge=off");
	assert_int_equal(cfg.sponge, SPONGE_OFF);
	expect_ok("sponge=charge lostticks=compensate");
	assert_int_equal(cfg.sponge, SPONGE_CHARGE);
	assert_int_equal(cfg.lostticks, LOSTTICKS_COMPENSATE);

	expect_exact("sponge=on", "sponge=on: unknown sponge mode 'on'; sponge takes off, run or charge");
	BAD("sponge=", "unknown sponge mode ''");
	BAD("sponge=RUN", "unknown sponge mode 'RUN'");
	BAD("sponge=run:2", "unknown sponge mode 'run:2'");
	BAD_AT("sponge=run sponge=run", "sponge=run", "sponge is already set");

	assert_string_equal(config_sponge_name(SPONGE_OFF), "off");
	assert_string_equal(config_sponge_name(SPONGE_RUN), "run");
	assert_string_equal(config_sponge_name(SPONGE_CHARGE), "charge");
	assert_string_equal(config_sponge_name((enum sponge_mode)3), "?");
}

static void test_idle(void **state)
{
	(void)state;
	expect_ok("idle=poll");
	assert_int_equal(cfg.idle, IDLE_POLL);
	expect_ok("idle=halt");
	assert_int_equal(cfg.idle, IDLE_HALT);

	expect_exact("idle=hlt", "idle=hlt: unknown idle mode 'hlt'; idle takes halt or poll");
	BAD("idle=", "unknown idle mode ''");
	BAD("idle=spin", "unknown idle mode 'spin'");
	BAD_AT("idle=poll idle=halt", "idle=halt", "idle is already set");
	/* the key is not a task name: task=idle stays reserved */
	BAD("task=idle:spin", "'idle' is reserved");

	assert_string_equal(config_idle_name(IDLE_HALT), "halt");
	assert_string_equal(config_idle_name(IDLE_POLL), "poll");
	assert_string_equal(config_idle_name((enum idle_mode)2), "?");
}

static void test_clock(void **state)
{
	(void)state;
	expect_ok("clock=pmtimer");
	assert_int_equal(cfg.clock, CLOCK_PMTIMER);
	expect_ok("clock=hpet");
	assert_int_equal(cfg.clock, CLOCK_HPET);
	expect_ok("clock=tsc");
	assert_int_equal(cfg.clock, CLOCK_TSC);
	/* the reference clock and the tick source are separate choices, even on one device */
	expect_ok("timer=hpet clock=hpet");
	assert_int_equal(cfg.timer, TIMER_HPET);
	assert_int_equal(cfg.clock, CLOCK_HPET);

	expect_exact("clock=pit",
		     "clock=pit: unknown reference clock 'pit'; clock takes tsc, pmtimer or hpet");
	BAD("clock=", "unknown reference clock ''");
	BAD("clock=pm", "unknown reference clock 'pm'");
	BAD("clock=acpi_pm", "unknown reference clock");
	BAD_AT("clock=tsc clock=hpet", "clock=hpet", "clock is already set");

	assert_string_equal(config_clock_name(CLOCK_TSC), "tsc");
	assert_string_equal(config_clock_name(CLOCK_PMTIMER), "pmtimer");
	assert_string_equal(config_clock_name(CLOCK_HPET), "hpet");
	assert_string_equal(config_clock_name((enum clock_kind)3), "?");
}

static void test_stats(void **state)
{
	(void)state;
	expect_ok("stats=500ms");
	assert_int_equal(cfg.stats_us, 500000);
	expect_ok("stats=2s");
	assert_int_equal(cfg.stats_us, 2000000);
	expect_ok("stats=100ms");
	assert_int_equal(cfg.stats_us, CONFIG_STATS_MIN_US);
	expect_ok("stats=100000us");
	assert_int_equal(cfg.stats_us, 100000);
	expect_ok("stats=3600s");
	assert_int_equal(cfg.stats_us, CONFIG_STATS_MAX_US);
	expect_ok("stats=off");
	assert_int_equal(cfg.stats_us, 0);
	/* off is not remembered by the next parse */
	expect_ok("hz=200");
	assert_int_equal(cfg.stats_us, CONFIG_STATS_DEFAULT_US);

	expect_exact("stats=50ms",
		     "stats=50ms: '50ms' is out of range; stats takes a time from 100ms to 3600s, such as 500ms or 2s, or off");
	BAD("stats=99999us", "'99999us' is out of range");
	BAD("stats=3601s", "'3601s' is out of range");
	BAD("stats=3600001ms", "out of range");
	BAD("stats=0s", "'0s' is out of range", "or off");
	BAD("stats=99999999999999999999s", "out of range");
	BAD("stats=1", "'1' needs a unit", "or off");
	BAD("stats=0", "needs a unit");
	BAD("stats=1m", "unknown unit 'm'");
	BAD("stats=on", "'on' is not a time", "or off");
	BAD("stats=OFF", "'OFF' is not a time");
	BAD("stats=offf", "'offf' is not a time");
	BAD("stats=", "'' is not a time");
	BAD_AT("stats=1s stats=off", "stats=off", "stats is already set");
	BAD_AT("stats=off stats=off", "stats=off", "stats is already set");
}

/* w is a decimal kept in millionths: 1.25 is 1250000. */
static void test_w(void **state)
{
	(void)state;
	expect_ok("w=1");
	assert_int_equal(cfg.w_ppm, 1000000);
	expect_ok("w=1.25");
	assert_int_equal(cfg.w_ppm, 1250000);
	expect_ok("w=0.8");
	assert_int_equal(cfg.w_ppm, 800000);
	expect_ok("w=1.000001");
	assert_int_equal(cfg.w_ppm, 1000001);
	expect_ok("w=12.5");
	assert_int_equal(cfg.w_ppm, 12500000);
	expect_ok("w=01.50");       /* leading and trailing zeros are fine, as in hz=0100 */
	assert_int_equal(cfg.w_ppm, 1500000);
	/* the limits, however they are written */
	expect_ok("w=0.01");
	assert_int_equal(cfg.w_ppm, CONFIG_W_MIN_PPM);
	expect_ok("w=0.010000");
	assert_int_equal(cfg.w_ppm, 10000);
	expect_ok("w=100");
	assert_int_equal(cfg.w_ppm, CONFIG_W_MAX_PPM);
	expect_ok("w=100.000000");
	assert_int_equal(cfg.w_ppm, 100000000);

	expect_exact("w=1.2345678",
		     "w=1.2345678: '1.2345678' has more than 6 decimals; w takes a decimal from 0.01 to 100 with at most 6 decimals, such as 1.25");
	BAD("w=1.0000000", "has more than 6 decimals");
	expect_exact("w=100.000001",
		     "w=100.000001: '100.000001' is out of range; w takes a decimal from 0.01 to 100 with at most 6 decimals, such as 1.25");
	BAD("w=0.009999", "'0.009999' is out of range", "from 0.01 to 100");
	BAD("w=101", "out of range");
	BAD("w=0", "'0' is out of range");
	BAD("w=0.0", "out of range");
	BAD("w=-1", "'-1' has a sign", "from 0.01 to 100");
	BAD("w=+1.5", "'+1.5' has a sign");
	BAD("w=-", "has a sign");
	BAD("w=1e3", "'1e3' has an exponent (write the number out)");
	BAD("w=1.5E-1", "'1.5E-1' has an exponent");
	BAD("w=.5e1", "has an exponent");
	expect_exact("w=1.",
		     "w=1.: '1.' has no digits after the '.' (write 1); w takes a decimal from 0.01 to 100 with at most 6 decimals, such as 1.25");
	BAD("w=12.", "no digits after the '.' (write 12)");
	expect_exact("w=.5",
		     "w=.5: '.5' has no digits before the '.' (write 0.5); w takes a decimal from 0.01 to 100 with at most 6 decimals, such as 1.25");
	BAD("w=", "empty value", "w takes a decimal");
	BAD("w=.", "'.' is not a decimal number");
	BAD("w=abc", "'abc' is not a decimal number", "such as 1.25");
	BAD("w=e3", "'e3' is not a decimal number");
	BAD("w=1,25", "not a decimal number");
	BAD("w=1.2.3", "not a decimal number");
	BAD("w=0x10", "not a decimal number");
	BAD("w=1.25x", "not a decimal number");
	BAD_AT("w=1 .5", ".5", "not key=value");
	/* too big for 64 bits once scaled: rejected, never wrapped */
	BAD("w=99999999999999999999", "out of range");
	BAD("w=18446744073709.551615", "out of range");     /* exactly UINT64_MAX millionths */
	/* 2^64 + 1250000 millionths: wraps to exactly 1.25 unless caught */
	BAD("w=18446744073710.801616", "out of range");
	BAD_AT("w=1 w=1", "w=1", "w is already set");
	BAD_AT("w=1.25 hz=200 w=2", "w=2", "w is already set");
}

/* The keys that only change the accounting run are an error with suite=devices, which has none. */
static void test_suite_devices_conflicts(void **state)
{
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

	/* values that ask the accounting run for nothing, and the other new keys, are fine */
	expect_ok("suite=devices sponge=off lostticks=ignore stats=off idle=poll clock=hpet w=1.25");
	assert_int_equal(cfg.suite, SUITE_DEVICES);
	assert_int_equal(cfg.stats_us, 0);
	assert_int_equal(cfg.idle, IDLE_POLL);
	assert_int_equal(cfg.clock, CLOCK_HPET);
	assert_int_equal(cfg.w_ppm, 1250000);

	/* with an accounting run, all of them apply */
	expect_ok("suite=accounting sponge=run lostticks=compensate stats=500ms");
	assert_int_equal(cfg.sponge, SPONGE_RUN);
	assert_int_equal(cfg.lostticks, LOSTTICKS_COMPENSATE);
	assert_int_equal(cfg.stats_us, 500000);
	expect_ok("suite=all sponge=charge lostticks=compensate stats=2s");
	assert_int_equal(cfg.sponge, SPONGE_CHARGE);
	expect_ok("sponge=run lostticks=compensate stats=1s");
	assert_int_equal(cfg.suite, SUITE_ALL);
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
		cmocka_unit_test(test_hz),
		cmocka_unit_test(test_timer_and_irq),
		cmocka_unit_test(test_suite),
		cmocka_unit_test(test_lostticks),
		cmocka_unit_test(test_sponge),
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_clock),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_w),
		cmocka_unit_test(test_suite_devices_conflicts),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_task_spin),
		cmocka_unit_test(test_task_duty),
		cmocka_unit_test(test_task_kind),
		cmocka_unit_test(test_task_name),
		cmocka_unit_test(test_task_replaces_defaults),
		cmocka_unit_test(test_max_tasks),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_fault),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_duty_two_ticks),
		cmocka_unit_test(test_error_truncation),
		cmocka_unit_test(test_state_after_parse),
		cmocka_unit_test(test_one_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
