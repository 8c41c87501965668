/*
 * Host unit tests for acct/stats.c; binom_interval99 has its own, test_interval.c.
 *
 * Build and run from the repository root:
 *   gcc -std=c11 -Wall -Wextra -Werror -I. tests/unit/test_config.c kernel/config.c lib/format.c lib/string.c -lcmocka -o build/host/test_config
 *   gcc -std=c11 -Wall -Wextra -Werror -I. tests/unit/test_format.c lib/format.c -lcmocka -o build/host/test_format
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
#include "tests/unit/rng.h"

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
		cmocka_unit_test(test_cycles_simple),
		cmocka_unit_test(test_cycles_huge),
		cmocka_unit_test(test_cycles_random),
		cmocka_unit_test(test_muldiv_hand_values),
		cmocka_unit_test(test_muldiv_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
