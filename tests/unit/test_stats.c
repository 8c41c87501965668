/*
 * Host unit tests for acct/stats.c.
 *
 * Build and run from the repository root:
 *   gcc -std=c11 -Wall -Wextra -Werror -I. tests/unit/test_config.c kernel/config.c kernel/format.c kernel/string.c -lcmocka -o build/host/test_config
 *   gcc -std=c11 -Wall -Wextra -Werror -I. tests/unit/test_format.c kernel/format.c -lcmocka -o build/host/test_format
 *   gcc -std=c11 -Wall -Wextra -Werror -I. tests/unit/test_stats.c acct/stats.c -lcmocka -o build/host/test_stats
 *   build/host/test_stats
 *
 * Where an exact answer is hard to work out by hand, the tests compare with 128-bit arithmetic
 * (a GCC extension on 64-bit hosts), which cannot overflow for these inputs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "acct/stats.h"

typedef unsigned __int128 u128;

/* A fixed pseudo-random sequence (xorshift64), so failures can be reproduced. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* A random value whose size is random too, so small and huge numbers are both common. */
static uint64_t rng_any(void)
{
	unsigned bits = (unsigned)(rng() % 64) + 1;

	return bits == 64 ? rng() : rng() & ((1ULL << bits) - 1);
}

/* r is floor(sqrt(x)) exactly when r*r <= x < (r+1)*(r+1). */
static void assert_is_isqrt(uint64_t x, uint64_t r)
{
	assert_true(r <= UINT32_MAX);
	assert_true((u128)r * r <= x);
	assert_true((u128)(r + 1) * (r + 1) > x);
}

static void test_isqrt_small(void **state)
{
	/* { x, floor(sqrt(x)) }: the squares, their neighbours on both sides */
	static const uint64_t cases[][2] = {
		{ 0, 0 }, { 1, 1 }, { 2, 1 }, { 3, 1 }, { 4, 2 }, { 8, 2 }, { 9, 3 }, { 15, 3 },
		{ 16, 4 }, { 17, 4 }, { 1000000, 1000 }, { 999999, 999 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(isqrt64(cases[i][0]), cases[i][1]);
}

static void test_isqrt_edges(void **state)
{
	const uint64_t m = UINT32_MAX;          /* 2^32 - 1, the largest possible root */

	(void)state;
	assert_int_equal(isqrt64(UINT64_MAX), m);
	assert_int_equal(isqrt64(m * m), m);            /* 2^64 - 2^33 + 1 */
	assert_int_equal(isqrt64(m * m - 1), m - 1);
	assert_int_equal(isqrt64(m * m + 1), m);
	assert_int_equal(isqrt64(1ULL << 32), 1ULL << 16);
	assert_int_equal(isqrt64((1ULL << 32) - 1), (1ULL << 16) - 1);
	assert_int_equal(isqrt64((1ULL << 32) + 1), 1ULL << 16);
	assert_int_equal(isqrt64(1ULL << 62), 1ULL << 31);
	assert_int_equal(isqrt64((1ULL << 62) - 1), (1ULL << 31) - 1);
	assert_int_equal(isqrt64(1ULL << 63), 3037000499ULL);   /* sqrt(2^63) = 3037000499.98 */
	/* perfect squares of 2^31 +- 1 and 2^16 +- 1 and their neighbours */
	assert_int_equal(isqrt64(((1ULL << 31) + 1) * ((1ULL << 31) + 1)), (1ULL << 31) + 1);
	assert_int_equal(isqrt64(((1ULL << 31) + 1) * ((1ULL << 31) + 1) - 1), 1ULL << 31);
	assert_int_equal(isqrt64(((1ULL << 31) - 1) * ((1ULL << 31) - 1)), (1ULL << 31) - 1);
	assert_int_equal(isqrt64(65537ULL * 65537ULL), 65537);
	assert_int_equal(isqrt64(65537ULL * 65537ULL - 1), 65536);
}

static void test_isqrt_random(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 200000; i++) {
		uint64_t x = rng_any();

		assert_is_isqrt(x, isqrt64(x));
	}
	/* every perfect square r^2 and its neighbours, for roots spread over the whole range */
	for (i = 0; i < 20000; i++) {
		uint64_t r = rng() >> 32;
		uint64_t x = r * r;

		assert_int_equal(isqrt64(x), r);
		if (x > 0)
			assert_int_equal(isqrt64(x - 1), r - 1);
		if (r < UINT32_MAX)
			assert_int_equal(isqrt64(x + 2 * r), r);        /* (r+1)^2 - 1 */
	}
}

static void test_share_simple(void **state)
{
	(void)state;
	assert_int_equal(share_ppm(0, 0), 0);
	assert_int_equal(share_ppm(5, 0), 0);
	assert_int_equal(share_ppm(0, 5), 0);
	assert_int_equal(share_ppm(1, 2), 500000);
	assert_int_equal(share_ppm(1, 3), 333333);      /* 333333.33 rounds down */
	assert_int_equal(share_ppm(2, 3), 666667);      /* 666666.67 rounds up */
	assert_int_equal(share_ppm(1, 8), 125000);
	assert_int_equal(share_ppm(7, 7), 1000000);
	assert_int_equal(share_ppm(3, 2), 1500000);     /* a part larger than the whole */
	assert_int_equal(share_ppm(667, 1000), 667000);
}

static void test_share_rounding(void **state)
{
	(void)state;
	/* 1 / 2000000 is exactly 0.5 ppm: halves round up */
	assert_int_equal(share_ppm(1, 2000000), 1);
	/* 1 / 2000001 is 0.49999975 ppm: rounds down */
	assert_int_equal(share_ppm(1, 2000001), 0);
	/* 3 / 2000000 = 1.5 ppm -> 2 */
	assert_int_equal(share_ppm(3, 2000000), 2);
	/* 1999999 / 2000000 = 999999.5 ppm -> 1000000 */
	assert_int_equal(share_ppm(1999999, 2000000), 1000000);
}

/*
 * A whole above about 1.8e13 makes r * 1e6 overflow, so share_ppm must take its exact slow
 * path.  whole = 2e6 * 2^40 (2.2e18) makes part = 2^40 exactly 0.5 ppm.
 */
static void test_share_huge(void **state)
{
	const uint64_t whole = 2000000ULL << 40;

	(void)state;
	assert_int_equal(share_ppm(1ULL << 40, whole), 1);
	assert_int_equal(share_ppm((1ULL << 40) - 1, whole), 0);
	assert_int_equal(share_ppm(3ULL << 40, whole), 2);
	assert_int_equal(share_ppm(whole / 2, whole), 500000);
	assert_int_equal(share_ppm(UINT64_MAX, UINT64_MAX), 1000000);
	assert_int_equal(share_ppm(UINT64_MAX - 1, UINT64_MAX), 1000000);
	assert_int_equal(share_ppm(UINT64_MAX / 3, UINT64_MAX), 333333);
	assert_int_equal(share_ppm(UINT64_MAX / 3 * 2, UINT64_MAX), 666667);
	assert_int_equal(share_ppm(1, UINT64_MAX), 0);
	/* shares too big for int64_t saturate instead of wrapping */
	assert_int_equal(share_ppm(9223372036854ULL, 1), 9223372036854000000LL);
	assert_int_equal(share_ppm(9223372036855ULL, 1), INT64_MAX);
	assert_int_equal(share_ppm(UINT64_MAX, 1), INT64_MAX);
}

/* round(part * 1e6 / whole) with ties up, in 128 bits */
static int64_t share_ref(uint64_t part, uint64_t whole)
{
	u128 v = ((u128)part * 1000000 * 2 + whole) / ((u128)whole * 2);

	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

static void test_share_random(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 200000; i++) {
		uint64_t whole = rng_any();
		uint64_t part;

		if (whole == 0)
			continue;
		/* mostly part <= whole, as in the report, sometimes anything */
		part = (i % 4) ? rng() % whole + (rng() & 1) : rng_any();
		assert_int_equal(share_ppm(part, whole), share_ref(part, whole));
	}
}

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

static void test_cycles_simple(void **state)
{
	(void)state;
	assert_int_equal(cycles_to_us(12345, 0), 0);
	assert_int_equal(cycles_to_ns(12345, 0), 0);
	assert_int_equal(cycles_to_us(0, 1000), 0);
	assert_int_equal(cycles_to_us(1000000000ULL, 1000000000ULL), 1000000);
	assert_int_equal(cycles_to_ns(1000000000ULL, 1000000000ULL), 1000000000);
	assert_int_equal(cycles_to_us(2394455123ULL, 2394455123ULL), 1000000);
	assert_int_equal(cycles_to_us(1, 3), 333333);           /* a third of a second */
	assert_int_equal(cycles_to_ns(1, 3), 333333333);
	assert_int_equal(cycles_to_ns(2, 3), 666666666);        /* truncates, never rounds */
	assert_int_equal(cycles_to_us(1, 3000000), 0);          /* 0.33 us */
	assert_int_equal(cycles_to_us(2999999, 3000000), 999999);
	/* 1.5 s of a 2394455123 Hz TSC: 3591682684.5 cycles, so 3591682684 is just under */
	assert_int_equal(cycles_to_us(3591682684ULL, 2394455123ULL), 1499999);
	assert_int_equal(cycles_to_us(3591682685ULL, 2394455123ULL), 1500000);
}

/*
 * The largest count at 10 GHz: UINT64_MAX / 1e10 s = 1844674407.3709551615 s, that is
 * 1844674407370955 us (floor) and 1844674407370955161 ns (floor).
 */
static void test_cycles_huge(void **state)
{
	(void)state;
	assert_int_equal(cycles_to_us(UINT64_MAX, 10000000000ULL), 1844674407370955ULL);
	assert_int_equal(cycles_to_ns(UINT64_MAX, 10000000000ULL), 1844674407370955161ULL);
	/* hz so large that r * 1e9 overflows: (2^64 - 2) / (2^64 - 1) s = 999999999.99 ns */
	assert_int_equal(cycles_to_ns(UINT64_MAX - 1, UINT64_MAX), 999999999);
	assert_int_equal(cycles_to_ns(UINT64_MAX, UINT64_MAX), 1000000000);
	/* too long to express: saturates */
	assert_int_equal(cycles_to_ns(UINT64_MAX, 1), UINT64_MAX);
	assert_int_equal(cycles_to_us(UINT64_MAX, 1000), UINT64_MAX);
	/* just fits: 2^64 - 1 cycles at 1 MHz are 2^64 - 1 us */
	assert_int_equal(cycles_to_us(UINT64_MAX, 1000000), UINT64_MAX);
}

static void test_cycles_random(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 200000; i++) {
		uint64_t cycles = rng_any();
		uint64_t hz = rng_any();
		u128 us, ns;

		if (hz == 0)
			continue;
		us = (u128)cycles * 1000000 / hz;
		ns = (u128)cycles * 1000000000 / hz;
		assert_int_equal(cycles_to_us(cycles, hz), us > UINT64_MAX ? UINT64_MAX : (uint64_t)us);
		assert_int_equal(cycles_to_ns(cycles, hz), ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns);
	}
}

static void test_muldiv_hand_values(void **state)
{
	(void)state;
	assert_int_equal(muldiv64(0, 5, 3), 0);
	assert_int_equal(muldiv64(7, 5, 3), 11);
	assert_int_equal(muldiv64(UINT64_MAX, UINT64_MAX, UINT64_MAX), UINT64_MAX);
	/* a product far past 64 bits: 12 s in ns times 11.98 s in ns, over 12 s in ns */
	assert_int_equal(muldiv64(12000000000ull, 11980000000ull, 12000000000ull), 11980000000ull);
	assert_int_equal(muldiv64(1ull << 63, 6, 4), (1ull << 63) / 2 * 3);
}

static void test_muldiv_random(void **state)
{
	(void)state;
	for (int i = 0; i < 200000; i++) {
		uint64_t a = rng_any(), b = rng_any(), c = rng_any();
		u128 want;

		if (c == 0)
			continue;
		want = (u128)a * b / c;
		if (want > UINT64_MAX)
			continue;
		assert_int_equal(muldiv64(a, b, c), (uint64_t)want);
	}
}

static void test_sort_i64(void **state)
{
	int64_t v[] = { 5, -2, 9, 0, -2, 7 };
	const int64_t want[] = { -2, -2, 0, 5, 7, 9 };
	int64_t one[] = { 3 };

	(void)state;
	sort_i64(v, 6);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(v[i], want[i]);
	sort_i64(one, 1);
	assert_int_equal(one[0], 3);
	sort_i64(NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sort_i64),
		cmocka_unit_test(test_isqrt_small),
		cmocka_unit_test(test_isqrt_edges),
		cmocka_unit_test(test_isqrt_random),
		cmocka_unit_test(test_share_simple),
		cmocka_unit_test(test_share_rounding),
		cmocka_unit_test(test_share_huge),
		cmocka_unit_test(test_share_random),
		cmocka_unit_test(test_interval_hand_values),
		cmocka_unit_test(test_interval_clamping),
		cmocka_unit_test(test_interval_no_samples),
		cmocka_unit_test(test_interval_bad_p),
		cmocka_unit_test(test_interval_precision),
		cmocka_unit_test(test_cycles_simple),
		cmocka_unit_test(test_cycles_huge),
		cmocka_unit_test(test_cycles_random),
		cmocka_unit_test(test_muldiv_hand_values),
		cmocka_unit_test(test_muldiv_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
