/*
 * Host unit tests of the values of the command line's keys (kernel/config_values.c): each key
 * at its limits and just past them, the forms each kind refuses, and the words each wrong value
 * gets.  test_config_table.c walks every key through the same paths; this file says by name
 * what each one takes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/unit/config_expect.h"

static void test_hz(void **state)
{
	static const struct ok_case ok[] = {
		OK("hz=100", hz, 100),
		OK("hz=10000", hz, 10000),
		OK("hz=40", hz, 40),
		OK("hz=19 task=a:spin", hz, 19),
		OK("hz=0100", hz, 100),
	};
	static const struct exact_case exact[] = {
		{ "hz=abc", "hz=abc: 'abc' is not a number; hz takes an integer from 1 to 10000 (ticks per second; timer= narrows it)" },
		{ "hz=99999", "hz=99999: '99999' is out of range; hz takes an integer from 1 to 10000 (ticks per second; timer= narrows it)" },
		{ "hz=5", "hz=5: not a rate of the PIT; with timer=pit hz takes an integer from 19 to 10000 (the PIT cannot tick slower than 18.2 Hz)" },
		{ "hz=", "hz=: empty value; hz takes an integer from 1 to 10000 (ticks per second; timer= narrows it)" },
	};
	static const struct bad_case bad[] = {
		{ "hz=18", NULL, { "not a rate of the PIT", "18.2 Hz" } },
		{ "hz=0", NULL, { "'0' is out of range" } },
		{ "hz=10001", NULL, { "'10001' is out of range", "from 1 to 10000" } },
		{ "hz=-100", NULL, { "not a number" } },
		{ "hz=+100", NULL, { "not a number" } },
		{ "hz=0x64", NULL, { "not a number" } },
		{ "hz=100Hz", NULL, { "not a number" } },
		{ "hz=1e3", NULL, { "not a number" } },
		/* too big for 64 bits: rejected, not wrapped; 2^64 + 100 would wrap to 100 */
		{ "hz=18446744073709551615", NULL, { "out of range" } },
		{ "hz=99999999999999999999999", NULL, { "out of range" } },
		{ "hz=18446744073709551716", NULL, { "out of range" } },
	};

	(void)state;
	CASES(expect_ok_cases, ok);
	CASES(expect_exact_cases, exact);
	CASES(expect_bad_cases, bad);
}

static void test_timer_and_irq(void **state)
{
	static const struct ok_case ok[] = {
		OK("timer=pit", timer, TIMER_PIT),
		OK("timer=pit", irq, IRQ_ROUTE_DEFAULT),
		OK("timer=lapic hz=5 irq=pic", timer, TIMER_LAPIC),
		OK("timer=lapic hz=5 irq=pic", hz, 5),
		OK("timer=lapic hz=5 irq=pic", irq, IRQ_ROUTE_PIC),
		OK("timer=hpet irq=ioapic", timer, TIMER_HPET),
		OK("timer=hpet irq=ioapic", irq, IRQ_ROUTE_IOAPIC),
		/* the RTC: powers of two only, and its own default rate */
		OK("timer=rtc", hz, CONFIG_RTC_HZ_DEFAULT),
		OK("hz=8192 timer=rtc", hz, 8192),
		OK("timer=rtc hz=2", hz, 2),
		/* the PIT's floor is the PIT's alone */
		OK("hz=5 timer=hpet", hz, 5),
	};
	static const struct bad_case bad[] = {
		{ "timer=rtc hz=1", "hz=1", { "power of two" } },
		{ "timer=rtc hz=9000", "hz=9000", { "power of two" } },
		/* the PIT's floor applies whichever order the words come in */
		{ "hz=5 timer=pit", "hz=5", { "18.2 Hz" } },
		{ "timer=tsc", NULL, { "'tsc' is unknown", "timer takes pit, rtc, lapic or hpet" } },
		{ "irq=apic", NULL, { "'apic' is unknown", "irq takes pic or ioapic" } },
		{ "irq=default", NULL, { "'default' is unknown" } },
		{ "timer=pit timer=rtc", "timer=rtc", { "given more than once" } },
		{ "irq=pic irq=pic", "irq=pic", { "given more than once" } },
	};
	const struct name_case names[] = {
		{ config_timer_name(TIMER_LAPIC), "lapic" },
		{ config_irq_name(IRQ_ROUTE_IOAPIC), "ioapic" },
	};

	(void)state;
	CASES(expect_ok_cases, ok);
	expect_exact("hz=100 timer=rtc",
		     "hz=100: not a rate of the RTC; with timer=rtc hz takes a power of two from 2 to 8192 (the RTC divides 32768 Hz by powers of two)");
	CASES(expect_bad_cases, bad);
	CASES(expect_name_cases, names);
}

/* The keys that pick one word, their names, and the case and prefix of a word. */
static void test_words(void **state)
{
	static const struct ok_case ok[] = {
		OK("", suite, SUITE_ALL),
		OK("suite=devices", suite, SUITE_DEVICES),
		OK("suite=accounting timer=rtc", suite, SUITE_ACCOUNTING),
		OK("lostticks=compensate", lostticks, LOSTTICKS_COMPENSATE),
		OK("lostticks=ignore", lostticks, LOSTTICKS_IGNORE),
		/* the other keys are left alone */
		OK("hz=250 lostticks=compensate duration=1s", lostticks, LOSTTICKS_COMPENSATE),
		OK("hz=250 lostticks=compensate duration=1s", hz, 250),
		OK("hz=250 lostticks=compensate duration=1s", sponge, SPONGE_OFF),
		OK("sponge=run", sponge, SPONGE_RUN),
		OK("sponge=charge", sponge, SPONGE_CHARGE),
		OK("sponge=off", sponge, SPONGE_OFF),
		OK("sponge=charge lostticks=compensate", sponge, SPONGE_CHARGE),
		OK("sponge=charge lostticks=compensate", lostticks, LOSTTICKS_COMPENSATE),
		OK("idle=poll", idle, IDLE_POLL),
		OK("idle=halt", idle, IDLE_HALT),
		OK("clock=pmtimer", clock, CLOCK_PMTIMER),
		OK("clock=hpet", clock, CLOCK_HPET),
		OK("clock=tsc", clock, CLOCK_TSC),
		/* the reference clock and the tick source are separate choices, even on one device */
		OK("timer=hpet clock=hpet", timer, TIMER_HPET),
		OK("timer=hpet clock=hpet", clock, CLOCK_HPET),
		OK("fault=ud", fault, FAULT_UD),
		OK("fault=de", fault, FAULT_DE),
		OK("fault=pf", fault, FAULT_PF),
		OK("fault=gp", fault, FAULT_GP),
		OK("fault=stack", fault, FAULT_STACK),
		OK("fault=triple", fault, FAULT_TRIPLE),
		OK("fault=tick", fault, FAULT_TICK),
	};
	static const struct exact_case exact[] = {
		{ "lostticks=drop", "lostticks=drop: 'drop' is unknown; lostticks takes ignore or compensate (what tick time does about merged ticks)" },
		{ "sponge=on", "sponge=on: 'on' is unknown; sponge takes off, run or charge (who is charged for catch-up ticks)" },
		{ "idle=hlt", "idle=hlt: 'hlt' is unknown; idle takes halt or poll (what the idle task does)" },
		{ "clock=pit", "clock=pit: 'pit' is unknown; clock takes tsc, pmtimer or hpet (what tick time is compared with)" },
		{ "fault=xx", "fault=xx: 'xx' is unknown; fault takes ud, de, pf, gp, stack, triple or tick (the fault to provoke)" },
	};
	static const struct bad_case bad[] = {
		{ "suite=fast", NULL, { "'fast' is unknown", "suite takes all, devices or accounting" } },
		{ "suite=all suite=all", "suite=all", { "given more than once" } },
		{ "lostticks=", NULL, { "empty value" } },
		{ "lostticks=Compensate", NULL, { "'Compensate' is unknown" } },
		{ "lostticks=compensated", NULL, { "is unknown" } },
		{ "lostticks=ignore lostticks=compensate", "lostticks=compensate", { "lostticks is already set" } },
		{ "sponge=", NULL, { "empty value" } },
		{ "sponge=RUN", NULL, { "'RUN' is unknown" } },
		{ "sponge=run:2", NULL, { "'run:2' is unknown" } },
		{ "sponge=run sponge=run", "sponge=run", { "sponge is already set" } },
		{ "idle=", NULL, { "empty value" } },
		{ "idle=spin", NULL, { "'spin' is unknown" } },
		{ "idle=poll idle=halt", "idle=halt", { "idle is already set" } },
		/* the key is not a task name: task=idle stays reserved */
		{ "task=idle:spin", NULL, { "'idle' is reserved" } },
		{ "clock=", NULL, { "empty value" } },
		{ "clock=pm", NULL, { "'pm' is unknown" } },
		{ "clock=acpi_pm", NULL, { "is unknown" } },
		{ "clock=tsc clock=hpet", "clock=hpet", { "clock is already set" } },
		{ "fault=UD", NULL, { "'UD' is unknown" } },
		{ "fault=none", NULL, { "'none' is unknown" } },
		{ "fault=", NULL, { "empty value", "fault takes ud, de, pf, gp, stack, triple or tick" } },
		{ "fault=udx", NULL, { "is unknown" } },
	};
	const struct name_case names[] = {
		{ config_suite_name(SUITE_DEVICES), "devices" },
		{ config_lostticks_name(LOSTTICKS_IGNORE), "ignore" },
		{ config_lostticks_name(LOSTTICKS_COMPENSATE), "compensate" },
		{ config_lostticks_name((enum lostticks_mode)2), "?" },
		{ config_sponge_name(SPONGE_OFF), "off" },
		{ config_sponge_name(SPONGE_RUN), "run" },
		{ config_sponge_name(SPONGE_CHARGE), "charge" },
		{ config_sponge_name((enum sponge_mode)3), "?" },
		{ config_idle_name(IDLE_HALT), "halt" },
		{ config_idle_name(IDLE_POLL), "poll" },
		{ config_idle_name((enum idle_mode)2), "?" },
		{ config_clock_name(CLOCK_TSC), "tsc" },
		{ config_clock_name(CLOCK_PMTIMER), "pmtimer" },
		{ config_clock_name(CLOCK_HPET), "hpet" },
		{ config_clock_name((enum clock_kind)3), "?" },
		{ config_fault_name(FAULT_NONE), "none" },
		{ config_fault_name(FAULT_UD), "ud" },
		{ config_fault_name(FAULT_DE), "de" },
		{ config_fault_name(FAULT_PF), "pf" },
		{ config_fault_name(FAULT_GP), "gp" },
	};

	(void)state;
	CASES(expect_ok_cases, ok);
	CASES(expect_exact_cases, exact);
	CASES(expect_bad_cases, bad);
	CASES(expect_name_cases, names);
}

static void test_stats(void **state)
{
	static const struct ok_case ok[] = {
		OK("stats=500ms", stats_us, 500000),
		OK("stats=2s", stats_us, 2000000),
		OK("stats=100ms", stats_us, CONFIG_STATS_MIN_US),
		OK("stats=100000us", stats_us, 100000),
		OK("stats=3600s", stats_us, CONFIG_STATS_MAX_US),
		OK("stats=off", stats_us, 0),
		/* off is not remembered by the next parse */
		OK("hz=200", stats_us, CONFIG_STATS_DEFAULT_US),
	};
	static const struct bad_case bad[] = {
		{ "stats=99999us", NULL, { "'99999us' is out of range" } },
		{ "stats=3601s", NULL, { "'3601s' is out of range" } },
		{ "stats=3600001ms", NULL, { "out of range" } },
		{ "stats=0s", NULL, { "'0s' is out of range", "or off" } },
		{ "stats=99999999999999999999s", NULL, { "out of range" } },
		{ "stats=1", NULL, { "'1' needs a unit", "or off" } },
		{ "stats=0", NULL, { "needs a unit" } },
		{ "stats=1m", NULL, { "unknown unit 'm'" } },
		{ "stats=on", NULL, { "'on' is not a time", "or off" } },
		{ "stats=OFF", NULL, { "'OFF' is not a time" } },
		{ "stats=offf", NULL, { "'offf' is not a time" } },
		{ "stats=", NULL, { "empty value", "or off" } },
		{ "stats=1s stats=off", "stats=off", { "stats is already set" } },
		{ "stats=off stats=off", "stats=off", { "stats is already set" } },
	};

	(void)state;
	CASES(expect_ok_cases, ok);
	expect_exact("stats=50ms",
		     "stats=50ms: '50ms' is out of range; stats takes a time from 100ms to 3600s, or off (time between two stats lines)");
	CASES(expect_bad_cases, bad);
}

/* w is a decimal kept in millionths: 1.25 is 1250000. */
static void test_w(void **state)
{
	static const struct ok_case ok[] = {
		OK("w=1", w_ppm, 1000000),
		OK("w=1.25", w_ppm, 1250000),
		OK("w=0.8", w_ppm, 800000),
		OK("w=1.000001", w_ppm, 1000001),
		OK("w=12.5", w_ppm, 12500000),
		OK("w=01.50", w_ppm, 1500000),  /* leading and trailing zeros, as in hz=0100 */
		/* the limits, however they are written */
		OK("w=0.01", w_ppm, CONFIG_W_MIN_PPM),
		OK("w=0.010000", w_ppm, 10000),
		OK("w=100", w_ppm, CONFIG_W_MAX_PPM),
		OK("w=100.000000", w_ppm, 100000000),
	};
	static const struct exact_case exact[] = {
		{ "w=1.2345678", "w=1.2345678: '1.2345678' has more than 6 decimals; w takes a decimal from 0.01 to 100 with at most 6 decimals (the correction factor)" },
		{ "w=100.000001", "w=100.000001: '100.000001' is out of range; w takes a decimal from 0.01 to 100 with at most 6 decimals (the correction factor)" },
		{ "w=1.", "w=1.: '1.' has no digits after the '.' (write 1); w takes a decimal from 0.01 to 100 with at most 6 decimals (the correction factor)" },
		{ "w=.5", "w=.5: '.5' has no digits before the '.' (write 0.5); w takes a decimal from 0.01 to 100 with at most 6 decimals (the correction factor)" },
	};
	static const struct bad_case bad[] = {
		{ "w=1.0000000", NULL, { "has more than 6 decimals" } },
		{ "w=0.009999", NULL, { "'0.009999' is out of range", "from 0.01 to 100" } },
		{ "w=101", NULL, { "out of range" } },
		{ "w=0", NULL, { "'0' is out of range" } },
		{ "w=0.0", NULL, { "out of range" } },
		{ "w=-1", NULL, { "'-1' has a sign", "from 0.01 to 100" } },
		{ "w=+1.5", NULL, { "'+1.5' has a sign" } },
		{ "w=-", NULL, { "has a sign" } },
		{ "w=1e3", NULL, { "'1e3' has an exponent (write the number out)" } },
		{ "w=1.5E-1", NULL, { "'1.5E-1' has an exponent" } },
		{ "w=.5e1", NULL, { "has an exponent" } },
		{ "w=12.", NULL, { "no digits after the '.' (write 12)" } },
		{ "w=", NULL, { "empty value", "w takes a decimal" } },
		{ "w=.", NULL, { "'.' is not a decimal number" } },
		{ "w=abc", NULL, { "'abc' is not a decimal number", "(the correction factor)" } },
		{ "w=e3", NULL, { "'e3' is not a decimal number" } },
		{ "w=1,25", NULL, { "not a decimal number" } },
		{ "w=1.2.3", NULL, { "not a decimal number" } },
		{ "w=0x10", NULL, { "not a decimal number" } },
		{ "w=1.25x", NULL, { "not a decimal number" } },
		{ "w=1 .5", ".5", { "not key=value" } },
		/* too big for 64 bits once scaled: rejected, never wrapped */
		{ "w=99999999999999999999", NULL, { "out of range" } },
		{ "w=18446744073709.551615", NULL, { "out of range" } }, /* UINT64_MAX millionths */
		/* 2^64 + 1250000 millionths: wraps to exactly 1.25 unless caught */
		{ "w=18446744073710.801616", NULL, { "out of range" } },
		{ "w=1 w=1", "w=1", { "w is already set" } },
		{ "w=1.25 hz=200 w=2", "w=2", { "w is already set" } },
	};

	(void)state;
	CASES(expect_ok_cases, ok);
	CASES(expect_exact_cases, exact);
	CASES(expect_bad_cases, bad);
}

static void test_duration(void **state)
{
	static const struct ok_case ok[] = {
		OK("duration=500ms", duration_us, 500000),
		OK("duration=10s", duration_us, 10000000),
		OK("duration=2500000us", duration_us, 2500000),
		OK("duration=100ms", duration_us, 100000),
		OK("duration=100000us", duration_us, 100000),
		OK("duration=3600s", duration_us, 3600000000ULL),
		OK("duration=3600000ms", duration_us, 3600000000ULL),
	};
	static const struct bad_case bad[] = {
		{ "duration=99ms", NULL, { "'99ms' is out of range", "from 100ms to 3600s" } },
		{ "duration=99999us", NULL, { "out of range" } },
		{ "duration=3601s", NULL, { "out of range" } },
		{ "duration=0s", NULL, { "out of range" } },
		{ "duration=10h", NULL, { "unknown unit 'h'", "us, ms or s" } },
		{ "duration=10S", NULL, { "unknown unit 'S'" } },
		{ "duration=10sec", NULL, { "unknown unit 'sec'" } },
		{ "duration=1.5s", NULL, { "unknown unit '.5s'" } },
		{ "duration=abc", NULL, { "'abc' is not a time" } },
		{ "duration=ms", NULL, { "not a time" } },
		{ "duration=-1s", NULL, { "not a time" } },
		{ "duration=", NULL, { "empty value", "duration takes a time" } },
		{ "duration=10 ms", "duration=10", { "needs a unit" } },
		/* overflow of the digits, and of the digits times the unit */
		{ "duration=99999999999999999999s", NULL, { "out of range" } },
		{ "duration=18446744073710s", NULL, { "out of range" } },
		/* (5 + 2^58) s = 5 s + 15625 * 2^64 us: wraps to exactly 5 s unless caught */
		{ "duration=288230376151711749s", NULL, { "out of range" } },
		/* the form is judged before the size: a unit is still needed */
		{ "duration=99999999999999999999", NULL, { "needs a unit" } },
	};

	(void)state;
	CASES(expect_ok_cases, ok);
	expect_exact("duration=10",
		     "duration=10: '10' needs a unit; duration takes a time from 100ms to 3600s (how long the tasks run)");
	CASES(expect_bad_cases, bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hz),
		cmocka_unit_test(test_timer_and_irq),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_w),
		cmocka_unit_test(test_duration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
