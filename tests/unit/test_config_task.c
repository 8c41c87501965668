/*
 * Host unit tests of task= (kernel/config.c): both kinds of task, their fields and names,
 * the default workload it replaces, and a duty period against hz.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "tests/unit/config_expect.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_task_spin),
		cmocka_unit_test(test_task_duty),
		cmocka_unit_test(test_task_kind),
		cmocka_unit_test(test_task_name),
		cmocka_unit_test(test_task_replaces_defaults),
		cmocka_unit_test(test_max_tasks),
		cmocka_unit_test(test_duty_two_ticks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
