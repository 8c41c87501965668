/*
 * Host tests of the tick interval classifier (lib/tickstat.c) on synthetic tick streams.
 * Build: make build/host/test_tickstat
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lib/tickstat.h"

#define P 1000u         /* a period of 1000 reference counts */

static void test_classify_boundaries(void **state)
{
	(void)state;
	assert_int_equal(tick_classify(P, P), TICK_ON_TIME);
	/* exactly half a period either way is still on time; one count more is not */
	assert_int_equal(tick_classify(P / 2, P), TICK_ON_TIME);
	assert_int_equal(tick_classify(P / 2 - 1, P), TICK_SHORT);
	assert_int_equal(tick_classify(3 * P / 2, P), TICK_ON_TIME);
	assert_int_equal(tick_classify(3 * P / 2 + 1, P), TICK_GAP);
	assert_int_equal(tick_classify(0, P), TICK_SHORT);
}

static void feed(struct tick_stats *st, const uint64_t *times, size_t n)
{
	for (size_t i = 1; i < n; i++)
		tick_stats_add(st, times[i] - times[i - 1], P);
}

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *show(const struct tick_stats *st, char *buf, size_t len)
{
	snprintf(buf, len, "{ intervals %llu, on_time %llu (sum %llu), gaps %llu (periods %llu), "
		 "shorts %llu, min %llu, max %llu }", (unsigned long long)st->intervals,
		 (unsigned long long)st->on_time, (unsigned long long)st->on_time_sum,
		 (unsigned long long)st->gaps, (unsigned long long)st->gap_periods,
		 (unsigned long long)st->shorts, (unsigned long long)st->min,
		 (unsigned long long)st->max);
	return buf;
}

/*
 * Feed a stream and hold every count to what it must give, not only the ones a test is about:
 * an interval counted in two classes, or in none, shows as a count off elsewhere.
 */
static void expect_stream(const uint64_t *times, size_t n, const struct tick_stats *want)
{
	struct tick_stats st = { 0 };
	char got_s[160], want_s[160];

	feed(&st, times, n);
	/* all uint64_t: no padding, so memcmp compares the counts and only them */
	if (memcmp(&st, want, sizeof(st)) != 0)
		fail_msg("got %s, want %s", show(&st, got_s, sizeof(got_s)),
			 show(want, want_s, sizeof(want_s)));
}

/* Steady ticks with jitter that cancels: the on-time mean is the period exactly. */
static void test_steady_stream(void **state)
{
	uint64_t t[101];

	(void)state;
	for (int i = 0; i <= 100; i++)
		t[i] = (uint64_t)i * P + (i % 2 ? 30 : 0);      /* every other tick 30 late */
	expect_stream(t, LEN(t), &(struct tick_stats){
		.intervals = 100, .on_time = 100, .on_time_sum = 100 * P,
		.min = P - 30, .max = P + 30,
	});
}

/* A device that merged ticks: one interval of four periods hides three ticks. */
static void test_merged_ticks(void **state)
{
	const uint64_t t[] = { 0, P, 2 * P, 6 * P, 7 * P };

	(void)state;
	expect_stream(t, LEN(t), &(struct tick_stats){
		.intervals = 4, .on_time = 3, .on_time_sum = 3 * P,
		.gaps = 1, .gap_periods = 3, .min = P, .max = 4 * P,
	});
}

/* A catch-up burst: missed ticks delivered a tenth of a period apart are short intervals. */
static void test_catch_up_burst(void **state)
{
	const uint64_t t[] = { 0, P, 5 * P, 5 * P + 100, 5 * P + 200, 5 * P + 300, 6 * P + 300 };

	(void)state;
	expect_stream(t, LEN(t), &(struct tick_stats){
		.intervals = 6, .on_time = 2, .on_time_sum = 2 * P,
		.gaps = 1, .gap_periods = 3, .shorts = 3, .min = 100, .max = 4 * P,
	});
}

/* Bunched but not lost: a late tick followed by an early one is not a gap. */
static void test_bunched_not_lost(void **state)
{
	const uint64_t t[] = { 0, P, 2 * P + 400, 3 * P, 4 * P };

	(void)state;
	expect_stream(t, LEN(t), &(struct tick_stats){
		.intervals = 4, .on_time = 4, .on_time_sum = 4 * P, .min = 600, .max = P + 400,
	});
}

/* A gap of 2.4 periods rounds to two periods: one tick lost, not two. */
static void test_gap_rounding(void **state)
{
	struct tick_stats st = { 0 };

	(void)state;
	tick_stats_add(&st, 2 * P + 400, P);
	assert_int_equal(st.gap_periods, 1);
	tick_stats_add(&st, 2 * P + 600, P);
	assert_int_equal(st.gap_periods, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify_boundaries),
		cmocka_unit_test(test_steady_stream),
		cmocka_unit_test(test_merged_ticks),
		cmocka_unit_test(test_catch_up_burst),
		cmocka_unit_test(test_bunched_not_lost),
		cmocka_unit_test(test_gap_rounding),
	};

	return cmocka_run_group_tests_name("tickstat", tests, NULL, NULL);
}
