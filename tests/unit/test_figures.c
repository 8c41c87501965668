/*
 * Host tests of the accounting report's arithmetic (acct/figures.c) on a synthetic 10 s run of
 * two spinners, 2:1, at 100 Hz, with a fifth of the time stolen.  Each way the host can steal
 * is a different set of inputs: catch-up ticks with and without a sponge, a device that drops
 * the missed ticks, and steal in slices shorter than a tick.  Plain sampling must be seen to
 * fail where it cannot tell the steal, steal-aware sampling must hold where the steal was seen,
 * and the share of stolen time charged to the workload must say which.
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

/* a ran 2/3 of the 8 s that were not stolen, b 1/3; each lost 1/5 of its exact time */
static const struct acct_inputs a_in = { 0, 6667 * MS, 1333 * MS, 0, 0 };
static const struct acct_inputs b_in = { 0, 3333 * MS, 667 * MS, 0, 0 };

static struct acct_run run_of(uint64_t n, int64_t allowance_ns, uint32_t w_ppm)
{
	struct acct_run run = { .n = n, .period_ps = P_PS, .tsc_hz = HZ_TSC,
				.allowance_ns = allowance_ns, .w_ppm = w_ppm };

	run.base_ns = acct_base_ns(&run, 0);
	return run;
}

static struct acct_row row(struct acct_inputs in, uint64_t ticks, uint64_t taken, uint64_t n)
{
	struct acct_run run = run_of(n, 0, 0);
	struct acct_row r;

	in.ticks = in.aware_ticks = ticks;
	in.taken_cycles = taken;
	acct_row_compute(&in, &run, &r);
	return r;
}

static void test_times(void **state)
{
	struct acct_row r = row(a_in, 667, 1300 * MS, 1000);

	(void)state;
	assert_int_equal(r.sampled_ns, 6670 * MS);
	assert_int_equal(r.steal_aware_ns, 5370 * MS);
	assert_int_equal(r.exact_ns, 6667 * MS);
	assert_int_equal(r.stolen_ns, 1333 * MS);
	assert_int_equal(r.true_ns, 5334 * MS);
	assert_int_equal(r.sampled_err_ns, 1336 * MS);
	assert_int_equal(r.steal_aware_err_ns, 36 * MS);
	assert_int_equal(r.exact_err_ns, 1333 * MS);
	assert_int_equal(r.w_corrected_ns, 0);
}

/*
 * Catch-up device, no sponge: the catch-up ticks land on the spinners, 2:1.  Plain sampling is
 * outside; steal-aware sampling took the stolen periods off those ticks and is inside.
 */
static void test_catch_up_without_sponge(void **state)
{
	struct acct_row a = row(a_in, 667, 1333 * MS, 1000), b = row(b_in, 333, 667 * MS, 1000);

	(void)state;
	assert_int_equal(a.true_ppm, 533400);
	assert_int_equal(a.sampled_ppm, 667000);
	assert_false(a.sampled_inside);
	assert_false(b.sampled_inside);
	assert_true(a.steal_aware_inside);
	assert_true(b.steal_aware_inside);
	/* the interval is about 4 pp either way for 1000 samples around 53 % */
	assert_in_range(a.interval.half_ppm, 40000, 42000);
}

/* The sponge took the 200 catch-up ticks: the spinners' plain shares are their true ones. */
static void test_sponge_takes_the_catch_up(void **state)
{
	struct acct_row a = row(a_in, 533, 0, 1000), b = row(b_in, 267, 0, 1000);

	(void)state;
	assert_true(a.sampled_inside);
	assert_true(b.sampled_inside);
	assert_true(a.sampled_err_ns >= -10 * (int64_t)MS && a.sampled_err_ns <= 0);
}

/* A device that lost the 200 ticks: fewer samples, a shorter base, and fair shares. */
static void test_lossy_device(void **state)
{
	struct acct_row a = row(a_in, 533, 0, 800), b = row(b_in, 267, 0, 800);

	(void)state;
	assert_int_equal(run_of(800, 0, 0).base_ns, 8000 * MS);
	assert_true(a.sampled_inside);
	assert_true(b.sampled_inside);
	assert_true(a.steal_aware_inside);
}

/*
 * Stolen time in slices shorter than a period (a contended host): no backlog, every tick
 * comes and plain sampling charges its whole period to the task it finds, so its shares are
 * the exact ones, 2:1 of all the ticks, far over the true shares.  Steal-aware sampling took
 * what the probes saw off the ticks and holds.
 */
static void test_short_gaps_defeat_plain_sampling_only(void **state)
{
	struct acct_row a = row(a_in, 667, 1333 * MS, 1000);

	(void)state;
	assert_false(a.sampled_inside);
	assert_true(a.sampled_ppm > a.interval.hi_ppm);
	assert_true(a.steal_aware_inside);
}

/* The allowance widens the interval by its share of the base, and no more. */
static void test_allowance_widens_the_interval(void **state)
{
	struct acct_inputs in = a_in;
	struct acct_run run = run_of(1000, 0, 0);
	struct acct_row narrow, wide;
	int64_t off;

	(void)state;
	in.ticks = 533;
	in.taken_cycles = 0;
	acct_row_compute(&in, &run, &narrow);
	off = narrow.sampled_ppm - narrow.true_ppm;
	/* a charge just outside the interval comes inside with an allowance of the gap, not less */
	in.ticks = 533 + (uint64_t)((narrow.interval.half_ppm - off) / 1000) + 2;
	acct_row_compute(&in, &run, &narrow);
	assert_false(narrow.sampled_inside);
	run = run_of(1000, 20 * (int64_t)MS, 0);
	acct_row_compute(&in, &run, &wide);
	assert_int_equal(wide.allowance_ppm, 2000);
	assert_true(wide.sampled_inside);
}

/* Interrupt time is taken out of the base: ticks never sample it. */
static void test_base_less_interrupt_time(void **state)
{
	(void)state;
	struct acct_run run = run_of(1000, 0, 0);

	assert_int_equal(acct_base_ns(&run, 150 * MS), 9850 * MS);
	run = run_of(10, 0, 0);
	assert_int_equal(acct_base_ns(&run, 1000 * MS), 0);
}

/* w = host CPU / guest busy share = 0.8 / 1.0: the sampled figure times w is the true one. */
static void test_w_undoes_the_distortion(void **state)
{
	struct acct_inputs in = a_in;
	struct acct_run run = run_of(1000, 0, 800000);
	struct acct_row a;

	(void)state;
	in.ticks = 667;
	acct_row_compute(&in, &run, &a);
	assert_int_equal(a.w_corrected_ns, 5336 * MS);
	assert_true(a.w_corrected_ns - a.true_ns >= -5 * (int64_t)MS &&
		    a.w_corrected_ns - a.true_ns <= 5 * (int64_t)MS);
}

/* Stolen never exceeds exact, whatever the probe says (it cannot be more than the task had). */
static void test_stolen_capped_by_exact(void **state)
{
	struct acct_inputs in = { 10, 100 * MS, 150 * MS, 10, 0 };
	struct acct_run run = run_of(100, 0, 0);
	struct acct_row r;

	(void)state;
	acct_row_compute(&in, &run, &r);
	assert_int_equal(r.stolen_ns, 100 * MS);
	assert_int_equal(r.true_ns, 0);
}

/*
 * The share of stolen time charged to the workload, 2 s stolen in slices under a tick: plain
 * sampling charged all 1000 ticks (10 s) against 8 s true, so all of it; steal-aware sampling
 * took 1990 ms off and charged 0.5 % of it, inside a bound of the allowance (the workload gets
 * every tick, so its share has no sampling error beyond the count's half tick).
 */
static void test_share_of_stolen_time(void **state)
{
	struct acct_run run = run_of(1000, 15 * (int64_t)MS, 0);
	struct steal_share plain, aware, exact;

	(void)state;
	acct_steal_share(10000 * (int64_t)MS, 8000 * (int64_t)MS, 2000 * (int64_t)MS, true, PPM,
			 &run, &plain);
	assert_int_equal(plain.excess_ns, 2000 * (int64_t)MS);
	assert_int_equal(plain.share_ppm, 1000000);
	assert_true(plain.judged);
	assert_false(plain.inside);
	acct_steal_share(8010 * (int64_t)MS, 8000 * (int64_t)MS, 2000 * (int64_t)MS, true, PPM,
			 &run, &aware);
	assert_int_equal(aware.share_ppm, 5000);
	assert_true(aware.interval_ns <= 6 * (int64_t)MS);
	assert_int_equal(aware.bound_ns, aware.interval_ns + 15 * (int64_t)MS);
	assert_true(aware.judged);
	assert_true(aware.inside);
	/* exact time keeps every stolen cycle, and is not a share of the ticks */
	acct_steal_share(10000 * (int64_t)MS, 8000 * (int64_t)MS, 2000 * (int64_t)MS, false, PPM,
			 &run, &exact);
	assert_int_equal(exact.share_ppm, 1000000);
	assert_int_equal(exact.interval_ns, 0);
}

/* A sampled charge is put in the base's terms before it is compared: with 150 ms in handlers,
 * 1000 ticks charged stand for the 9850 ms the tasks had, not 10 s. */
static void test_share_in_the_base_terms(void **state)
{
	struct acct_run run = run_of(1000, 0, 0);
	struct steal_share s;

	(void)state;
	run.base_ns = acct_base_ns(&run, 150 * MS);
	acct_steal_share(10000 * (int64_t)MS, 9850 * (int64_t)MS, 500 * (int64_t)MS, true, PPM, &run,
			 &s);
	assert_int_equal(s.excess_ns, 0);
	assert_true(s.inside);
}

/* Too little stolen to tell a share of it from sampling error: not judged. */
static void test_share_not_judged_below_its_bound(void **state)
{
	struct acct_run run = run_of(1000, 15 * (int64_t)MS, 0);
	struct steal_share s;

	(void)state;
	acct_steal_share(9990 * (int64_t)MS, 9970 * (int64_t)MS, 12 * (int64_t)MS, true, PPM, &run,
			 &s);
	assert_false(s.judged);
	assert_true(s.bound_ppm > 1000000);
}

/* A sponge that had a fifth of the time makes the workload's total a sample: its interval is
 * the binomial one of 80 %, about 3.3 pp of 10 s. */
static void test_share_interval_from_the_sponge_share(void **state)
{
	struct acct_run run = run_of(1000, 0, 0);
	struct steal_share s;

	(void)state;
	acct_steal_share(8000 * (int64_t)MS, 8000 * (int64_t)MS, 2000 * (int64_t)MS, true, 800000,
			 &run, &s);
	assert_in_range(s.interval_ns, 320 * (int64_t)MS, 340 * (int64_t)MS);
}

/*
 * Extra ticks (tick time ahead of the reference: a QMP stop with QEMU's RTC on the host clock)
 * span no time.  1000 ticks of which 200 extra, taken off whole by steal-aware sampling, 100 ms
 * in handlers: the other 800 stand for 8 s less the handlers, and a workload charged 8 s by
 * steal-aware sampling, true 7.9 s, was charged nothing beyond its true time.
 */
static void test_extra_ticks_span_no_time(void **state)
{
	struct acct_run run = run_of(1000, 0, 0);
	struct steal_share s;

	(void)state;
	run.extra_ns = 2000 * MS;
	assert_int_equal(acct_span_ns(&run), 8000 * MS);
	run.base_ns = acct_base_ns(&run, 100 * MS);
	assert_int_equal(run.base_ns, 7900 * MS);
	acct_steal_share(8000 * (int64_t)MS, 7900 * (int64_t)MS, 500 * (int64_t)MS, true, PPM, &run,
			 &s);
	assert_int_equal(s.excess_ns, 0);
}

/*
 * Ticks the device lost while the vCPU ran (QEMU's timer thread held up by a loaded host):
 * 400 ms of lost periods with no steal seen for them.  The tasks ran them and no tick sampled
 * them, so a charge 384 ms short of true time is within the bound, 400 ms past that short is
 * not, and that time does not excuse a charge over true time.
 */
static void test_owed_periods_that_ran_widen_the_workload_bound_below_only(void **state)
{
	struct acct_run run = run_of(1000, 15 * (int64_t)MS, 0);
	struct steal_share s;
	struct acct_row r;
	struct acct_inputs in = a_in;

	(void)state;
	acct_steal_share(7616 * (int64_t)MS, 8000 * (int64_t)MS, 2000 * (int64_t)MS, true, PPM,
			 &run, &s);
	assert_false(s.inside);                 /* without the figure, a failure */
	run.owed_ran_ns = 400 * (int64_t)MS;
	acct_steal_share(7616 * (int64_t)MS, 8000 * (int64_t)MS, 2000 * (int64_t)MS, true, PPM,
			 &run, &s);
	assert_true(s.inside);
	acct_steal_share(7200 * (int64_t)MS, 8000 * (int64_t)MS, 2000 * (int64_t)MS, true, PPM,
			 &run, &s);
	assert_false(s.inside);
	acct_steal_share(8384 * (int64_t)MS, 8000 * (int64_t)MS, 2000 * (int64_t)MS, true, PPM,
			 &run, &s);
	assert_false(s.inside);
	/* exact time is not sampled: nothing to allow for */
	acct_steal_share(7616 * (int64_t)MS, 8000 * (int64_t)MS, 2000 * (int64_t)MS, false, PPM,
			 &run, &s);
	assert_false(s.inside);
	/* a task's share: a, true 5333 ms of 10 s, charged 480 ticks by steal-aware sampling
	 * (48 %, 5.3 pp short: past its interval of about 4.1 pp, inside with 4 pp of owed periods that ran) */
	in.ticks = in.aware_ticks = 480;
	acct_row_compute(&in, &run, &r);
	assert_int_equal(r.owed_ran_ppm, 40000);
	assert_true(r.steal_aware_inside);
	/* a task that took the late ticks (the sponge) is over its share by as much: both ways */
	in.ticks = in.aware_ticks = 586;
	acct_row_compute(&in, &run, &r);
	assert_true(r.steal_aware_inside);
	run.owed_ran_ns = 0;
	acct_row_compute(&in, &run, &r);
	assert_false(r.steal_aware_inside);
	in.ticks = in.aware_ticks = 480;
	acct_row_compute(&in, &run, &r);
	assert_false(r.steal_aware_inside);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_catch_up_without_sponge),
		cmocka_unit_test(test_sponge_takes_the_catch_up),
		cmocka_unit_test(test_lossy_device),
		cmocka_unit_test(test_short_gaps_defeat_plain_sampling_only),
		cmocka_unit_test(test_allowance_widens_the_interval),
		cmocka_unit_test(test_base_less_interrupt_time),
		cmocka_unit_test(test_w_undoes_the_distortion),
		cmocka_unit_test(test_stolen_capped_by_exact),
		cmocka_unit_test(test_share_of_stolen_time),
		cmocka_unit_test(test_share_in_the_base_terms),
		cmocka_unit_test(test_share_not_judged_below_its_bound),
		cmocka_unit_test(test_share_interval_from_the_sponge_share),
		cmocka_unit_test(test_extra_ticks_span_no_time),
		cmocka_unit_test(test_owed_periods_that_ran_widen_the_workload_bound_below_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
