/*
 * Host unit tests of the values of the command line's keys (kernel/config.c): one key or
 * more of each kind, at its limits and just past them, and the words each wrong value gets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "tests/unit/config_expect.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hz),
		cmocka_unit_test(test_timer_and_irq),
		cmocka_unit_test(test_suite),
		cmocka_unit_test(test_lostticks),
		cmocka_unit_test(test_sponge),
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_clock),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_w),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_fault),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
