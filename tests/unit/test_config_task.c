/*
 * Host unit tests of task= (kernel/config_task.c): both kinds of task, their fields and names,
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
	static const struct ok_case ok[] = {
		OK("task=worker:spin", ntasks, 1),
		OK("task=worker:spin", tasks[0].kind, TASK_SPIN),
		OK("task=worker:spin", tasks[0].weight, 1),
		OK("task=a:spin:1 task=b:spin:100", tasks[0].weight, 1),
		OK("task=a:spin:1 task=b:spin:100", tasks[1].weight, 100),
	};
	static const struct bad_case bad[] = {
		{ "task=a:spin:101", NULL, { "weight '101' is out of range" } },
		{ "task=a:spin:x", NULL, { "weight 'x' is not a number" } },
		{ "task=a:spin:", NULL, { "weight '' is not a number" } },
		{ "task=a:spin:-1", NULL, { "not a number" } },
		{ "task=a:spin:99999999999999999999999", NULL, { "out of range" } },
		{ "task=a:spin:1:2", NULL, { "too many fields", "NAME:spin[:WEIGHT]" } },
	};

	(void)state;
	CASES(expect_ok_cases, ok);
	expect_ok("task=worker:spin");
	assert_string_equal(cfg.tasks[0].name, "worker");
	expect_exact("task=a:spin:0",
		     "task=a:spin:0: weight '0' is out of range; WEIGHT takes an integer from 1 to 100 (ticks per turn)");
	CASES(expect_bad_cases, bad);
}

static void test_task_duty(void **state)
{
	static const struct ok_case ok[] = {
		OK("task=c:duty:30:50ms", ntasks, 1),
		OK("task=c:duty:30:50ms", tasks[0].kind, TASK_DUTY),
		OK("task=c:duty:30:50ms", tasks[0].duty_pct, 30),
		OK("task=c:duty:30:50ms", tasks[0].period_us, 50000),
		OK("task=c:duty:30:50ms", tasks[0].weight, 1),
		OK("task=c:duty:1:10s:7", tasks[0].duty_pct, 1),
		OK("task=c:duty:1:10s:7", tasks[0].period_us, 10000000),
		OK("task=c:duty:1:10s:7", tasks[0].weight, 7),
		OK("hz=2000 task=c:duty:100:1ms", tasks[0].duty_pct, 100),
		OK("hz=2000 task=c:duty:100:1ms", tasks[0].period_us, 1000),
		OK("task=c:duty:50:25000us", tasks[0].period_us, 25000),
	};
	static const struct bad_case bad[] = {
		{ "task=c:duty:0:50ms", NULL, { "duty percentage '0' is out of range", "PCT takes an integer from 1 to 100" } },
		{ "task=c:duty:101:50ms", NULL, { "duty percentage '101' is out of range" } },
		{ "task=c:duty:half:50ms", NULL, { "duty percentage 'half' is not a number" } },
		{ "task=c:duty::50ms", NULL, { "duty percentage '' is not a number" } },
		{ "task=c:duty:30:50", NULL, { "period '50' needs a unit", "PERIOD takes a time from 1ms to 10s" } },
		{ "task=c:duty:30:999us", NULL, { "period '999us' is out of range" } },
		{ "task=c:duty:30:10001ms", NULL, { "period '10001ms' is out of range" } },
		{ "task=c:duty:30:50m", NULL, { "period '50m' has an unknown unit 'm'" } },
		{ "task=c:duty:30:fast", NULL, { "period 'fast' is not a time" } },
		{ "task=c:duty:30:50ms:0", NULL, { "weight '0' is out of range" } },
		{ "task=c:duty:30:50ms:1:2", NULL, { "too many fields", "NAME:duty:PCT:PERIOD[:WEIGHT]" } },
		{ "task=c:duty:30", NULL, { "needs both PCT and PERIOD" } },
		{ "task=c:duty", NULL, { "needs both PCT and PERIOD" } },
	};

	(void)state;
	CASES(expect_ok_cases, ok);
	CASES(expect_bad_cases, bad);
}

static void test_task_kind(void **state)
{
	static const struct bad_case bad[] = {
		{ "task=x:SPIN", NULL, { "unknown task kind 'SPIN'" } },
		{ "task=x:", NULL, { "unknown task kind ''" } },
		{ "task=x", NULL, { "missing task kind", "NAME:spin[:WEIGHT]" } },
		{ "task=", NULL, { "empty value", "task takes NAME:spin[:WEIGHT] or NAME:duty:PCT:PERIOD[:WEIGHT]" } },
	};

	(void)state;
	expect_exact("task=x:blink",
		     "task=x:blink: unknown task kind 'blink'; task takes NAME:spin[:WEIGHT] or NAME:duty:PCT:PERIOD[:WEIGHT] (one task of the workload)");
	CASES(expect_bad_cases, bad);
}

static void test_task_name(void **state)
{
	static const struct bad_case bad[] = {
		{ "task=abcdefghi:spin", NULL, { "task name 'abcdefghi' is too long", "1 to 8 characters" } },
		{ "task=:spin", NULL, { "empty task name", "a-z, 0-9 and _" } },
		{ "task=Ab:spin", NULL, { "task name 'Ab' contains 'A'" } },
		{ "task=a-b:spin", NULL, { "contains '-'" } },
		{ "task=a.b:spin", NULL, { "contains '.'" } },
		{ "task=a=b:spin", NULL, { "contains '='" } },
		{ "task=idle:spin", NULL, { "'idle' is reserved" } },
		{ "task=sponge:spin", NULL, { "'sponge' is reserved" } },
		{ "task=console:spin", NULL, { "'console' is reserved" } },
		/* the name is checked before the rest */
		{ "task=A:blink", NULL, { "contains 'A'" } },
	};

	(void)state;
	expect_ok("task=abcdefgh:spin");        /* CONFIG_NAME_MAX characters */
	assert_string_equal(cfg.tasks[0].name, "abcdefgh");
	expect_ok("task=t_0:spin task=9:spin task=_:spin task=idle2:spin task=idl:spin");
	assert_int_equal(cfg.ntasks, 5);
	assert_string_equal(cfg.tasks[0].name, "t_0");
	assert_string_equal(cfg.tasks[3].name, "idle2");
	CASES(expect_bad_cases, bad);
}

static void test_task_replaces_defaults(void **state)
{
	static const struct ok_case ok[] = {
		/* no task= keeps the default workload */
		OK("hz=200 duration=1s fault=de", ntasks, 2),
		/* one task= replaces all of it, even a task named like a default one */
		OK("task=b:spin:5", ntasks, 1),
		OK("task=b:spin:5", tasks[0].kind, TASK_SPIN),
		OK("task=b:spin:5", tasks[0].weight, 5),
	};

	(void)state;
	CASES(expect_ok_cases, ok);
	expect_ok("hz=200 duration=1s fault=de");
	assert_string_equal(cfg.tasks[1].name, "b");
	expect_ok("task=b:spin:5");
	assert_string_equal(cfg.tasks[0].name, "b");

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
	static const char *const ok[] = {
		"hz=100 task=c:duty:30:20ms",
		"hz=100 task=c:duty:30:20000us",
		/* the check runs after all words, so hz may come after the task */
		"task=c:duty:30:19ms hz=200",
		"task=c:duty:30:13334us hz=150",
		/* only duty tasks are checked; the default workload has none, so hz=19 works alone */
		"hz=19 task=a:spin",
		"hz=19",
	};
	static const struct bad_case bad[] = {
		{ "hz=100 task=c:duty:30:19999us", "task=c:duty:30:19999us", { "period 19999us is shorter than 2 ticks at hz=100", "at least 20ms" } },
		{ "task=c:duty:30:10ms hz=150", "task=c:duty:30:10ms", { "hz=150", "at least 13334us" } },
		{ "task=c:duty:30:13333us hz=150", "task=c:duty:30:13333us", { "at least 13334us" } },
		/* each one is checked */
		{ "hz=1000 task=a:spin task=b:duty:10:2ms task=c:duty:10:1ms", "task=c:duty:10:1ms", { "period 1ms", "hz=1000", "at least 2ms" } },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		expect_ok(ok[i]);
	expect_exact("hz=100 task=c:duty:30:10ms",
		     "task=c:duty:30:10ms: period 10ms is shorter than 2 ticks at hz=100; PERIOD must be at least 20ms at this hz");
	CASES(expect_bad_cases, bad);
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
