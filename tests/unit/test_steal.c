/*
 * Host tests of the stolen-time probe (acct/steal.c): a loop's own exact time, probed once an
 * iteration, with and without gaps.
 * Build: make build/host/test_steal
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "acct/steal.h"

#define ITER    300u            /* cycles an iteration takes */
#define THRESH  230000u         /* 100 us at 2.3 GHz */
#define LONG    23000000u       /* 10 ms, a tick period at 100 Hz */

static void test_steady_loop_steals_nothing(void **state)
{
	struct steal_probe p = { 0 };
	uint64_t own = 5000;

	(void)state;
	for (int i = 0; i < 1000; i++, own += ITER + (uint64_t)(i % 7) * 10)
		assert_int_equal(steal_observe(&p, own, THRESH, LONG), 0);
	assert_int_equal(p.stolen, 0);
	assert_int_equal(p.events, 0);
	assert_int_equal(p.probes, 1000);
	assert_int_equal(p.noise_max, ITER + 60);
}

static void test_gap_over_threshold_is_stolen(void **state)
{
	struct steal_probe p = { 0 };
	uint64_t own = 0;

	(void)state;
	steal_observe(&p, own, THRESH, LONG);
	steal_observe(&p, own += ITER, THRESH, LONG);
	/* a 300 ms pause */
	assert_int_equal(steal_observe(&p, own += 690000000u, THRESH, LONG), 690000000u);
	steal_observe(&p, own += ITER, THRESH, LONG);
	/* exactly the threshold is not a gap; one cycle more is */
	assert_int_equal(steal_observe(&p, own += THRESH, THRESH, LONG), 0);
	assert_int_equal(steal_observe(&p, own += THRESH + 1, THRESH, LONG), THRESH + 1);
	assert_int_equal(p.events, 2);
	assert_int_equal(p.stolen, 690000000u + THRESH + 1);
	/* only the pause was a tick period or more */
	assert_int_equal(p.stolen_long, 690000000u);
	assert_int_equal(p.longest, 690000000u);
	assert_int_equal(p.noise_max, THRESH);
}

/* The first probe only sets the mark: whatever the task did before is not a gap. */
static void test_first_probe_primes(void **state)
{
	struct steal_probe p = { 0 };

	(void)state;
	assert_int_equal(steal_observe(&p, 123456789u, THRESH, LONG), 0);
	assert_int_equal(steal_observe(&p, 123456789u + ITER, THRESH, LONG), 0);
	assert_int_equal(p.stolen, 0);
}

/* Gaps sorted by decade of the threshold: < T/10, < T, < 10 T, < 100 T, more. */
static void test_decades(void **state)
{
	struct steal_probe p = { 0 };
	uint64_t own = 0;
	const uint64_t gaps[] = { 1, THRESH / 10 - 1, THRESH / 10, THRESH, THRESH + 1,
				  10 * THRESH, 100 * THRESH, 1000000 * (uint64_t)THRESH };

	(void)state;
	steal_observe(&p, own, THRESH, LONG);
	for (unsigned i = 0; i < sizeof(gaps) / sizeof(gaps[0]); i++)
		steal_observe(&p, own += gaps[i], THRESH, LONG);
	assert_int_equal(p.decades[0], 2);
	assert_int_equal(p.decades[1], 1);
	assert_int_equal(p.decades[2], 2);      /* T itself is not stolen, but not under T */
	assert_int_equal(p.decades[3], 1);
	assert_int_equal(p.decades[4], 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steady_loop_steals_nothing),
		cmocka_unit_test(test_gap_over_threshold_is_stolen),
		cmocka_unit_test(test_first_probe_primes),
		cmocka_unit_test(test_decades),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
