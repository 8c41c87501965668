/*
 * Host tests of the TSC calibration arithmetic (lib/tsc_sources.c): window rates and bounds,
 * choosing among windows, decoding CPUID 0x15/0x16/0x40000010 and GETHZ, agreement, the choice.
 * Build: make build/host/test_tsc_sources
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/tsc_sources.h"

static struct tsc_estimate est_of(const char *name, enum tsc_source_kind kind, uint64_t hz,
				  uint64_t bound)
{
	return (struct tsc_estimate){ .name = name, .key = "x", .kind = kind, .present = true,
				      .hz = hz, .bound_ppm = bound };
}

static void test_window_rate_and_bound(void **state)
{
	(void)state;
	/* 50 ms of the PIT (59659 counts) at 2.3 GHz */
	assert_int_equal(tsc_window_hz(115000000ull, 59659, 1193182), 115000000ull * 1193182 / 59659);
	/* 2300 cycles of edge error over 115e6 is 20 ppm; 59659 counts quantise to 16 ppm; +1 */
	assert_int_equal(tsc_window_error_ppm(2300, 115000000ull, 59659), 20 + 16 + 1);
	/* an empty window is as bad as it gets */
	assert_int_equal(tsc_window_error_ppm(1, 0, 10), 1000000);
	assert_int_equal(tsc_window_hz(1, 0, 10), 0);
}

static void test_narrowest_window_wins(void **state)
{
	struct tsc_estimate e = { .windows = 3 };
	const uint64_t w[3] = { 2300000000ull, 2300230000ull, 2300002300ull };
	const uint64_t err[3] = { 30, 20, 10 };

	(void)state;
	memcpy(e.window_hz, w, sizeof(w));
	memcpy(e.window_err_ppm, err, sizeof(err));
	tsc_windows_combine(&e);
	assert_true(e.present);
	assert_int_equal(e.best, 2);
	assert_int_equal(e.second, 1);
	assert_int_equal(e.hz, 2300002300ull);          /* the narrowest brackets */
	assert_int_equal(e.bound_ppm, 10);              /* its window's bound */
	assert_int_equal(e.spread_ppm, 99);             /* 230000 / 2300002300 */
	/* best against second: 227700 apart = 98 ppm, allowed 10 + 20 */
	assert_int_equal(e.agree_ppm, 98);
	assert_int_equal(e.pair_bound_ppm, 30);
}

/* A host that disturbs most windows: the wide-bracketed ones lose, however many they are. */
static void test_disturbed_windows_lose(void **state)
{
	struct tsc_estimate e = { .windows = 4,
				  .window_hz = { 2541623020ull, 2300000895ull, 2603960204ull,
						 2300007775ull },
				  .window_err_ppm = { 348044, 27, 388662, 26 } };

	(void)state;
	tsc_windows_combine(&e);
	assert_int_equal(e.hz, 2300007775ull);
	assert_int_equal(e.agree_ppm, 2);
	assert_int_equal(e.pair_bound_ppm, 53);
}

static void test_windows_enough(void **state)
{
	struct tsc_estimate e = { .windows = 2, .window_err_ppm = { 20, 30, 40, 900 } };

	(void)state;
	assert_false(tsc_windows_enough(&e));           /* fewer than three */
	e.windows = 3;
	assert_true(tsc_windows_enough(&e));
	e.window_err_ppm[1] = TSC_CAL_PRECISE_PPM + 1;
	e.window_err_ppm[2] = TSC_CAL_PRECISE_PPM + 1;
	assert_false(tsc_windows_enough(&e));           /* only one precise window */
	e.windows = 4;
	e.window_err_ppm[3] = TSC_CAL_PRECISE_PPM;
	assert_true(tsc_windows_enough(&e));
}

static void test_cpuid_15(void **state)
{
	char why[96];
	uint64_t hz = 0;

	(void)state;
	/* Skylake client: 24 MHz crystal, ratio 208/2 */
	assert_true(tsc_hz_from_cpuid_15(2, 208, 24000000, &hz, why, sizeof(why)));
	assert_int_equal(hz, 2496000000ull);
	/* a ratio that does not divide: rounded to the nearest Hz */
	assert_true(tsc_hz_from_cpuid_15(3, 200, 25000000, &hz, why, sizeof(why)));
	assert_int_equal(hz, 1666666667ull);
	/* no crystal frequency */
	assert_false(tsc_hz_from_cpuid_15(2, 208, 0, &hz, why, sizeof(why)));
	assert_non_null(strstr(why, "ECX = 0"));
	/* no ratio */
	assert_false(tsc_hz_from_cpuid_15(0, 0, 24000000, &hz, why, sizeof(why)));
	assert_non_null(strstr(why, "no TSC/crystal ratio"));
}

static void test_cpuid_16_and_hv_leaf(void **state)
{
	uint64_t hz;

	(void)state;
	assert_true(tsc_hz_from_cpuid_16(0x000009c4, &hz));     /* 2500 MHz */
	assert_int_equal(hz, 2500000000ull);
	assert_true(tsc_hz_from_cpuid_16(0x12340bb8, &hz));     /* bits 31:16 reserved */
	assert_int_equal(hz, 3000000000ull);
	assert_false(tsc_hz_from_cpuid_16(0, &hz));
	assert_true(tsc_hz_from_hv_leaf(2299998, &hz));
	assert_int_equal(hz, 2299998000ull);
	assert_false(tsc_hz_from_hv_leaf(0, &hz));
}

static void test_gethz(void **state)
{
	uint64_t hz;

	(void)state;
	/* EAX low half, EBX high half */
	assert_true(tsc_hz_from_gethz(0x891c4c80u, 0, &hz));
	assert_int_equal(hz, 2300333184ull);
	assert_true(tsc_hz_from_gethz(0x2a05f200u, 1, &hz));
	assert_int_equal(hz, 5000000000ull);
	assert_false(tsc_hz_from_gethz(0x564d5868u, 0xffffffffu, &hz));  /* unsupported */
	assert_false(tsc_hz_from_gethz(0, 0, &hz));
}

static void test_reported_bound(void **state)
{
	(void)state;
	/* kHz at 2.3 GHz: 500 Hz / 2.3e9 = 0.217 ppm, rounded up */
	assert_int_equal(tsc_reported_bound_ppm(2300000000ull, 1000), 1);
	/* MHz at 2.5 GHz: 0.5 MHz / 2.5e9 = 200 ppm */
	assert_int_equal(tsc_reported_bound_ppm(2500000000ull, 1000000), 200);
	/* Hz: half a Hz still counts as one */
	assert_int_equal(tsc_reported_bound_ppm(2300000000ull, 1), 1);
	assert_int_equal(tsc_reported_bound_ppm(0, 1), 1000000);
}

static void test_agreement_and_limits(void **state)
{
	struct tsc_estimate pit = est_of("PIT channel 2", TSC_MEASURED, 2300000000ull, 30);
	struct tsc_estimate pm = est_of("PM timer", TSC_MEASURED, 2300300000ull, 10);   /* 130 ppm above */
	struct tsc_estimate hv = est_of("CPUID 0x40000010", TSC_HV_REPORTED, 2300300000ull, 1);
	struct tsc_estimate hint = est_of("CPUID 0x16", TSC_HINT, 2310000000ull, 200);
	uint64_t diff, bound;

	(void)state;
	assert_int_equal(tsc_agree_limit_ppm(&pit, &pm), TSC_AGREE_LIMIT_MEASURED_PPM);
	assert_int_equal(tsc_agree_limit_ppm(&hv, &pm), TSC_AGREE_LIMIT_NOMINAL_PPM);
	assert_int_equal(tsc_agree_limit_ppm(&hint, &hv), TSC_AGREE_LIMIT_HINT_PPM);
	assert_true(tsc_estimates_agree(&pm, &pit, &diff, &bound));
	assert_int_equal(diff, 130);
	assert_int_equal(bound, 30 + 10 + 100);
	pm.hz = 2300400000ull;                                                /* 173 ppm */
	assert_false(tsc_estimates_agree(&pm, &pit, &diff, &bound));
	assert_true(tsc_estimates_agree(&hint, &pit, &diff, &bound));         /* 4347 ppm */
}

/* A set of estimates for tsc_choose(), and what it said of them. */
struct choice {
	struct tsc_estimate est[TSC_NR_SOURCES];
	char why[128];
	int best;
};

/* Every choice test starts from the same machine: three measured clocks, nothing reported. */
static struct choice three_measured(void)
{
	struct choice c = { .best = -2 };

	for (int i = 0; i < TSC_NR_SOURCES; i++)
		c.est[i] = (struct tsc_estimate){ .name = "absent", .key = "a" };
	c.est[TSC_SRC_PIT] = est_of("PIT channel 2", TSC_MEASURED, 2300000000ull, 30);
	c.est[TSC_SRC_PMTIMER] = est_of("PM timer", TSC_MEASURED, 2300010000ull, 11);
	c.est[TSC_SRC_HPET] = est_of("HPET", TSC_MEASURED, 2300020000ull, 9);
	return c;
}

static int choose(struct choice *c)
{
	return tsc_choose(c->est, &c->best, c->why, sizeof(c->why));
}

static void test_choose_smallest_measured_bound(void **state)
{
	struct choice c = three_measured();

	(void)state;
	assert_int_equal(choose(&c), TSC_SRC_HPET);
	assert_int_equal(c.best, TSC_SRC_HPET);
	assert_non_null(strstr(c.why, "smallest bound of 3 measured, 9 ppm; no hypervisor figure"));
	/* CPUID figures never win, however fine */
	c.est[TSC_SRC_CPUID_15] = est_of("CPUID 0x15", TSC_CPU_REPORTED, 2300000000ull, 1);
	assert_int_equal(choose(&c), TSC_SRC_HPET);
	/* on a tie the first one */
	c.est[TSC_SRC_PMTIMER].bound_ppm = 9;
	assert_int_equal(choose(&c), TSC_SRC_PMTIMER);
	/* without a PM timer or HPET, the PIT */
	c.est[TSC_SRC_PMTIMER].present = c.est[TSC_SRC_HPET].present = false;
	assert_int_equal(choose(&c), TSC_SRC_PIT);
	assert_non_null(strstr(c.why, "of 1 measured"));
}

static void test_choose_hypervisor_when_it_agrees(void **state)
{
	struct choice c = three_measured();

	(void)state;
	c.est[TSC_SRC_HV_LEAF] = est_of("CPUID 0x40000010", TSC_HV_REPORTED, 2300015000ull, 1);
	c.est[TSC_SRC_VMWARE_GETHZ] = est_of("VMware GETHZ", TSC_HV_REPORTED, 2300015123ull, 1);
	/* both agree; equal bounds: the first (the leaf) */
	assert_int_equal(choose(&c), TSC_SRC_HV_LEAF);
	assert_int_equal(c.best, TSC_SRC_HPET);
	assert_non_null(strstr(c.why, "reported by the hypervisor, agrees with the 3 measured"));
	/* the leaf is 1000 ppm off the PIT: GETHZ, which agrees, is next */
	c.est[TSC_SRC_HV_LEAF].hz = 2302300000ull;
	assert_int_equal(choose(&c), TSC_SRC_VMWARE_GETHZ);
	/* both off: back to the best measured, naming the first one that disagreed */
	c.est[TSC_SRC_VMWARE_GETHZ].hz = 2302300000ull;
	assert_int_equal(choose(&c), TSC_SRC_HPET);
	assert_non_null(strstr(c.why, "CPUID 0x40000010 is 1000 ppm off PIT channel 2"));
}

static void test_choose_nothing_measured(void **state)
{
	struct choice c = three_measured();

	(void)state;
	c.est[TSC_SRC_PIT].present = c.est[TSC_SRC_PMTIMER].present = c.est[TSC_SRC_HPET].present = false;
	c.est[TSC_SRC_VMWARE_GETHZ] = est_of("VMware GETHZ", TSC_HV_REPORTED, 2300015123ull, 1);
	assert_int_equal(choose(&c), -1);
	assert_int_equal(c.best, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_rate_and_bound),
		cmocka_unit_test(test_narrowest_window_wins),
		cmocka_unit_test(test_disturbed_windows_lose),
		cmocka_unit_test(test_windows_enough),
		cmocka_unit_test(test_cpuid_15),
		cmocka_unit_test(test_cpuid_16_and_hv_leaf),
		cmocka_unit_test(test_gethz),
		cmocka_unit_test(test_reported_bound),
		cmocka_unit_test(test_agreement_and_limits),
		cmocka_unit_test(test_choose_smallest_measured_bound),
		cmocka_unit_test(test_choose_hypervisor_when_it_agrees),
		cmocka_unit_test(test_choose_nothing_measured),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
