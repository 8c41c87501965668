/*
 * Host tests of the wrap extension of narrow reference clocks (lib/refclock.c), driven by a
 * fake counter whose raw values the test chooses.
 * Build: make build/host/test_refclock
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "kernel/tick.h"

#define PM_TMR_24BIT_WRAP (1ull << 24)

/* The fake counter: each read returns the next of the values the test queued. */
static const uint64_t *fake_values;
static size_t fake_next;

static uint64_t fake_read_raw(void)
{
	return fake_values[fake_next++];
}

static struct refclock fake_clock(unsigned width, const uint64_t *values)
{
	fake_values = values;
	fake_next = 0;
	return (struct refclock){ .name = "fake", .freq_hz = 3579545, .width = width,
				  .read_raw = fake_read_raw };
}

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Read c once per value queued (n); the counts from the first read to the last. */
static uint64_t elapsed(struct refclock *c, size_t n)
{
	uint64_t first = refclock_read(c), last = first;

	for (size_t i = 1; i < n; i++)
		last = refclock_read(c);
	return last - first;
}

/* No wrap: the extended value is the raw value. */
static void test_no_wrap(void **state)
{
	const uint64_t v[] = { 5, 1000, 0xfffffe };
	struct refclock c = fake_clock(24, v);

	(void)state;
	assert_int_equal(refclock_read(&c), 5);
	assert_int_equal(refclock_read(&c), 1000);
	assert_int_equal(refclock_read(&c), 0xfffffe);
	assert_int_equal(c.wraps, 0);
}

/* A 24-bit counter passing 0xffffff -> 0 keeps counting up in 64 bits. */
static void test_wrap_24bit(void **state)
{
	const uint64_t v[] = { 0xfffff0, 0xffffff, 0x000000, 0x000010, 0xfffff0, 0x000001 };
	struct refclock c = fake_clock(24, v);
	uint64_t prev = 0;

	(void)state;
	for (size_t i = 0; i < LEN(v); i++) {
		uint64_t x = refclock_read(&c);

		assert_true(x >= prev);
		prev = x;
	}
	assert_int_equal(c.wraps, 2);
	assert_int_equal(prev, 2 * PM_TMR_24BIT_WRAP + 1);
}

/* Equal successive reads (a slow counter read fast) are not a wrap. */
static void test_repeat_is_not_wrap(void **state)
{
	const uint64_t v[] = { 42, 42, 42, 43 };
	struct refclock c = fake_clock(24, v);

	(void)state;
	for (int i = 0; i < 4; i++)
		refclock_read(&c);
	assert_int_equal(c.wraps, 0);
}

/*
 * Elapsed counts across two wraps come out right when every read is less than one wrap period
 * after the one before, even when the steps are large.
 */
static void test_elapsed_across_wraps(void **state)
{
	const uint64_t v[] = { 0xff0000, 0x7f0000, 0xfe0000, 0x010000 };
	struct refclock c = fake_clock(24, v);

	(void)state;
	assert_int_equal(elapsed(&c, LEN(v)), 2 * PM_TMR_24BIT_WRAP + 0x010000 - 0xff0000);
}

/*
 * The documented limit: reads more than one wrap period apart lose a wrap.  This pins the
 * behaviour down so nobody mistakes it for something the extension can recover.
 */
static void test_sparse_reads_lose_a_wrap(void **state)
{
	const uint64_t v[] = { 0x100000, 0x200000 };   /* really 1 wrap + 0x100000 apart */
	struct refclock c = fake_clock(24, v);

	(void)state;
	assert_int_equal(elapsed(&c, LEN(v)), 0x100000);
}

/* A 32-bit counter (PM timer with TMR_VAL_EXT, 32-bit HPET) wraps at 2^32. */
static void test_wrap_32bit(void **state)
{
	const uint64_t v[] = { 0xffffffffull, 0x0 };
	struct refclock c = fake_clock(32, v);

	(void)state;
	refclock_read(&c);
	assert_int_equal(refclock_read(&c), 1ull << 32);
}

/* A 64-bit counter is passed through untouched, and never counts wraps. */
static void test_64bit_passthrough(void **state)
{
	const uint64_t v[] = { ~0ull, 3 };
	struct refclock c = fake_clock(64, v);

	(void)state;
	assert_true(refclock_read(&c) == ~0ull);
	assert_int_equal(refclock_read(&c), 3);
	assert_int_equal(c.wraps, 0);
}

/* A restart counts from the counter's present value: no wrap before it, the next ones after. */
static void test_restart(void **state)
{
	const uint64_t v[] = { 0xfffff0, 0x000010, 0xfffff8, 0xfffffc, 0x000004 };
	struct refclock c = fake_clock(24, v);

	(void)state;
	refclock_read(&c);
	refclock_read(&c);
	assert_int_equal(c.wraps, 1);
	refclock_restart(&c);                   /* reads 0xfffff8 */
	assert_int_equal(c.wraps, 0);
	assert_int_equal(c.last_raw, 0xfffff8);
	assert_int_equal(refclock_read(&c), 0xfffffc);
	assert_int_equal(refclock_read(&c), PM_TMR_24BIT_WRAP + 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_wrap),
		cmocka_unit_test(test_wrap_24bit),
		cmocka_unit_test(test_repeat_is_not_wrap),
		cmocka_unit_test(test_elapsed_across_wraps),
		cmocka_unit_test(test_sparse_reads_lose_a_wrap),
		cmocka_unit_test(test_wrap_32bit),
		cmocka_unit_test(test_64bit_passthrough),
		cmocka_unit_test(test_restart),
	};

	return cmocka_run_group_tests_name("refclock", tests, NULL, NULL);
}
