/*
 * Host unit tests of binom_interval99 (acct/stats.c), the 99 % interval of a share: halves
 * worked out by hand, the ends clamped to [0, 1e6], and the integer half against the formula
 * in 128-bit arithmetic over many p and n.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "acct/stats.h"
#include "tests/unit/rng.h"

/* binom_interval99(p, n), its half within tolerance of half. */
static struct binom_interval interval_near(int64_t p, uint64_t n, int64_t half, int64_t tolerance)
{
	struct binom_interval b;

	binom_interval99(p, n, &b);
	if (b.half_ppm < half - tolerance || b.half_ppm > half + tolerance)
		fail_msg("p=%lld n=%llu: half %lld ppm, expected %lld +- %lld", (long long)p,
			 (unsigned long long)n, (long long)b.half_ppm, (long long)half,
			 (long long)tolerance);
	return b;
}

/* The half as expected, and the ends p -+ half, clamped to [0, 1e6]. */
static void assert_interval(int64_t p, uint64_t n, int64_t half, int64_t tolerance)
{
	struct binom_interval b = interval_near(p, n, half, tolerance);

	assert_int_equal(b.lo_ppm, p - b.half_ppm < 0 ? 0 : p - b.half_ppm);
	assert_int_equal(b.hi_ppm, p + b.half_ppm > 1000000 ? 1000000 : p + b.half_ppm);
}

/* The half as expected, and the ends as worked out by hand, not by the clamping rule. */
static void assert_interval_ends(int64_t p, uint64_t n, int64_t half, int64_t tolerance,
				 int64_t lo, int64_t hi)
{
	struct binom_interval b = interval_near(p, n, half, tolerance);

	assert_int_equal(b.lo_ppm, lo);
	assert_int_equal(b.hi_ppm, hi);
}

/*
 * Expected halves worked out by hand, half = 2.5758 * sqrt(p (1e6 - p) / n) + 500000 / n ppm:
 *
 *   p = 666667, n = 1000:  p (1e6 - p) = 666667 * 333333 = 222222111111
 *                          / 1000 = 222222111.1, sqrt = 14907.116 ppm
 *                          * 2.5758 = 38397.75, + 500 = 38897.75 ppm      -> 38898 +- 2
 *   p = 500000, n = 100:   2.5e11 / 100 = 2.5e9, sqrt = 50000
 *                          * 2.5758 = 128790, + 5000 = 133790 exactly     -> 133790 +- 1
 *   p = 100000, n = 10000: 9e10 / 10000 = 9e6, sqrt = 3000
 *                          * 2.5758 = 7727.4, + 50 = 7777.4               -> 7777 +- 1
 *   p = 500000, n = 1e9:   2.5e11 / 1e9 = 250, sqrt = 15.811
 *                          * 2.5758 = 40.727, + 0.0005 = 40.73            -> 41 +- 1
 *   p = 0 or 1e6, n = 1000: the sqrt term is 0, half = 500000 / 1000 = 500
 *   p = 500000, n = 1:     500000 * 2.5758 + 500000 = 1787900, clamped to [0, 1e6]
 */
static void test_interval_hand_values(void **state)
{
	(void)state;
	assert_interval(666667, 1000, 38898, 2);
	assert_interval(500000, 100, 133790, 1);
	assert_interval(100000, 10000, 7777, 1);
	assert_interval(500000, 1000000000ULL, 41, 1);
	assert_interval(0, 1000, 500, 0);
	assert_interval(1000000, 1000, 500, 0);
	assert_interval(500000, 1, 1787900, 1);
}

static void test_interval_clamping(void **state)
{
	struct binom_interval b;

	(void)state;
	assert_interval_ends(500000, 1, 1787900, 1, 0, 1000000);
	assert_interval_ends(0, 1000, 500, 0, 0, 500);
	assert_interval_ends(1000000, 1000, 500, 0, 999500, 1000000);

	/* p = 10000 (1 %), n = 1000: 2.5758 * sqrt(9.9e9 / 1000) + 500 = 2.5758 * 3146.4 + 500
	 * = 8604.6, below p, so lo is not clamped */
	binom_interval99(10000, 1000, &b);
	assert_in_range(b.half_ppm, 8603, 8606);
	assert_int_equal(b.lo_ppm, 10000 - b.half_ppm);

	/* p = 1000 (0.1 %), n = 100: 2.5758 * sqrt(9.99e8 / 100) + 5000 = 13141.4 > p: lo clamps */
	binom_interval99(1000, 100, &b);
	assert_in_range(b.half_ppm, 13140, 13143);
	assert_int_equal(b.lo_ppm, 0);
	assert_int_equal(b.hi_ppm, 1000 + b.half_ppm);
}

/* No samples: the interval is everything. */
static void test_interval_no_samples(void **state)
{
	(void)state;
	assert_interval_ends(666667, 0, 1000000, 0, 0, 1000000);
}

/* A p outside [0, 1e6] is treated as the nearest end, so lo <= hi stays in range. */
static void test_interval_bad_p(void **state)
{
	(void)state;
	assert_interval_ends(-5, 1000, 500, 0, 0, 500);
	assert_interval_ends(2000000, 1000, 500, 0, 999500, 1000000);
}

/*
 * Over many p and n the integer half is the formula's value rounded up, or (when the truncations
 * inside binom_interval99 cross an integer) rounded down: within 1 ppm either way.
 */
static void test_interval_precision(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 20000; i++) {
		int64_t p = (int64_t)(rng() % 1000001);
		uint64_t n = rng_any() % 10000000000ULL + 1;
		struct binom_interval b;
		/* exact value in 1e-9 ppm units, from 128-bit integers: z * sqrt(p(1e6-p)/n) is
		 * sqrt(25758^2 * p(1e6-p) * 1e18 / (n * 1e8)) in those units */
		u128 a = (u128)(uint64_t)p * (uint64_t)(1000000 - p);
		u128 var = a * 25758 * 25758 * 10000000000ULL / n;
		/* integer sqrt of a 128-bit value by Newton's method */
		u128 x = var, y = (x + 1) / 2;
		int64_t lo_bound, hi_bound;

		while (y < x) {
			x = y;
			y = (x + var / x) / 2;
		}
		/* x = z*sd in 1e-9 ppm; add 1/(2n) = 5e14 / n in the same units */
		x += (u128)500000000000000ULL / n;
		lo_bound = (int64_t)(x / 1000000000);           /* floor of the true half */
		hi_bound = lo_bound + 1;
		binom_interval99(p, n, &b);
		if (b.half_ppm < lo_bound || b.half_ppm > hi_bound)
			fail_msg("p=%lld n=%llu: half %lld, true value in [%lld, %lld)",
				 (long long)p, (unsigned long long)n, (long long)b.half_ppm,
				 (long long)lo_bound, (long long)lo_bound + 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interval_hand_values),
		cmocka_unit_test(test_interval_clamping),
		cmocka_unit_test(test_interval_no_samples),
		cmocka_unit_test(test_interval_bad_p),
		cmocka_unit_test(test_interval_precision),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
