/*
 * Host tests of the accounting table's arithmetic (acct/figures.c) on a synthetic 10 s run of
 * two spinners, 2:1, at 100 Hz, with a fifth of the time stolen: the sponge-off distortion must
 * fall outside the binomial interval, the sponge and a lossy device must not, and w must undo it.
 * Build: make build/host/test_figures
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "acct/figures.h"

#define HZ_TSC  1000000000ull           /* 1 GHz: a cycle is a ns */
#define P_PS    10000000000ull          /* 10 ms */
#define MS      1000000ull              /* cycles (ns) per ms */

/* a ran 2/3 of the 8 s that were not stolen, b 1/3; each lost 1/5 of its exact time in pauses
 * (gaps of a tick period or more) */
static const struct acct_inputs a_in = { 0, 6667 * MS, 1333 * MS, 1333 * MS };
static const struct acct_inputs b_in = { 0, 3333 * MS, 667 * MS, 667 * MS };

static struct acct_row row(struct acct_inputs in, uint64_t ticks, uint64_t n, uint32_t w_ppm)
{
	struct acct_row r;

	in.ticks = ticks;
	acct_row_compute(&in, n, P_PS, acct_base_ns(n, P_PS, 0), HZ_TSC, w_ppm, &r);
	return r;
}

static void test_times(void **state)
{
	struct acct_row r = row(a_in, 667, 1000, 0);

	(void)state;
	assert_int_equal(r.sampled_ns, 6670 * MS);
	assert_int_equal(r.exact_ns, 6667 * MS);
	assert_int_equal(r.stolen_ns, 1333 * MS);
	assert_int_equal(r.true_ns, 5334 * MS);
	assert_int_equal(r.sampled_err_ns, 1336 * MS);
	assert_int_equal(r.exact_err_ns, 1333 * MS);
	assert_int_equal(r.w_corrected_ns, 0);
}

/* Catch-up device, no sponge: the catch-up ticks land on the spinners, 2:1. */
static void test_sponge_off_distortion_is_outside(void **state)
{
	struct acct_row a = row(a_in, 667, 1000, 0), b = row(b_in, 333, 1000, 0);

	(void)state;
	assert_int_equal(a.true_ppm, 533400);
	assert_int_equal(a.sampled_ppm, 667000);
	assert_false(a.inside);
	assert_false(b.inside);
	/* the interval is about 4 pp either way for 1000 samples around 53 % */
	assert_in_range(a.interval.half_ppm, 40000, 42000);
}

/* The sponge took the 200 catch-up ticks: the spinners' shares are their true ones. */
static void test_sponge_on_is_inside(void **state)
{
	struct acct_row a = row(a_in, 533, 1000, 0), b = row(b_in, 267, 1000, 0);

	(void)state;
	assert_true(a.inside);
	assert_true(b.inside);
	assert_true(a.sampled_err_ns >= -10 * (int64_t)MS && a.sampled_err_ns <= 0);
}

/* A device that lost the 200 ticks: fewer samples, a shorter base, and fair shares. */
static void test_lossy_device_is_inside(void **state)
{
	struct acct_row a = row(a_in, 533, 800, 0), b = row(b_in, 267, 800, 0);

	(void)state;
	assert_int_equal(acct_base_ns(800, P_PS, 0), 8000 * MS);
	assert_true(a.inside);
	assert_true(b.inside);
}

/* Interrupt time is taken out of the base: ticks never sample it. */
static void test_base_less_interrupt_time(void **state)
{
	(void)state;
	assert_int_equal(acct_base_ns(1000, P_PS, 150 * MS), 9850 * MS);
	assert_int_equal(acct_base_ns(10, P_PS, 1000 * MS), 0);
}

/* w = host CPU / guest busy share = 0.8 / 1.0: the sampled figure times w is the true one. */
static void test_w_undoes_the_distortion(void **state)
{
	struct acct_row a = row(a_in, 667, 1000, 800000);

	(void)state;
	assert_int_equal(a.w_corrected_ns, 5336 * MS);
	assert_true(a.w_corrected_ns - a.true_ns >= -5 * (int64_t)MS &&
		    a.w_corrected_ns - a.true_ns <= 5 * (int64_t)MS);
}

/* Stolen never exceeds exact, whatever the probe says (it cannot be more than the task had). */
static void test_stolen_capped_by_exact(void **state)
{
	struct acct_inputs in = { 10, 100 * MS, 150 * MS, 150 * MS };
	struct acct_row r;

	(void)state;
	acct_row_compute(&in, 100, P_PS, acct_base_ns(100, P_PS, 0), HZ_TSC, 0, &r);
	assert_int_equal(r.stolen_ns, 100 * MS);
	assert_int_equal(r.true_ns, 0);
}

/*
 * Stolen time in gaps shorter than a period (a busy host taking the CPU for a few ms at a
 * time) makes no backlog: every tick still comes, and charges its whole period to the task it
 * finds.  Sampling is then checked against exact time less only the long gaps, and holds;
 * against true time it would not.
 */
static void test_short_gaps_stay_in_the_sampling_reference(void **state)
{
	struct acct_inputs in = { 0, 6667 * MS, 500 * MS, 0 };
	struct acct_row a = row(in, 667, 1000, 0);

	(void)state;
	assert_int_equal(a.true_ns, 6167 * MS);
	assert_int_equal(a.sampling_ref_ns, 6667 * MS);
	assert_true(a.inside);
	assert_true(a.true_ppm < a.interval.lo_ppm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_sponge_off_distortion_is_outside),
		cmocka_unit_test(test_sponge_on_is_inside),
		cmocka_unit_test(test_lossy_device_is_inside),
		cmocka_unit_test(test_base_less_interrupt_time),
		cmocka_unit_test(test_w_undoes_the_distortion),
		cmocka_unit_test(test_stolen_capped_by_exact),
		cmocka_unit_test(test_short_gaps_stay_in_the_sampling_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
