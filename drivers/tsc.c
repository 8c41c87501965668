/*
 * The time-stamp counter: a 64-bit cycle counter read with RDTSC (Intel SDM vol. 3, 18.17).
 *
 * Its frequency is not architecturally reported on most CPUs and never under QEMU's TCG, so it
 * is measured against a clock of known rate: PIT channel 2 counting a fixed window (as Linux's
 * pit_calibrate_tsc does).  Both ends of the window are seen through port I/O, so each estimate
 * is only as good as the TSC brackets around those two I/Os; their widths are recorded and
 * become the bound within which independent windows must agree.  Three windows give a median that one disturbed window
 * (the vCPU descheduled at a window edge) cannot move.
 */
#include "drivers/tsc.h"
#include "drivers/pit8254.h"
#include "kernel/x86.h"

#define CPUID_1_EDX_TSC (1u << 4)
#define PPM_SCALE       1000000ull
#define TSC_CAL_WARMUP_COUNTS (PIT_HZ / 1000)    /* 1 ms */

static uint64_t uncertainty_ppm;

static uint64_t tsc_read_raw(void)
{
	return rdtsc();
}

struct refclock tsc_refclock = {
	.name = "tsc",
	.width = 64,
	.read_raw = tsc_read_raw,
};

bool tsc_present(void)
{
	uint32_t a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	return d & CPUID_1_EDX_TSC;
}

static uint64_t diff_ppm(uint64_t x, uint64_t y, uint64_t ref)
{
	uint64_t d = x > y ? x - y : y - x;

	return ref ? d * PPM_SCALE / ref : 0;
}

/*
 * One window's error bound in ppm: the widths of the TSC brackets around its start and its
 * end, plus one PIT count of quantisation.
 */
static uint64_t window_error_ppm(uint64_t uncertainty, uint64_t delta, uint16_t counts)
{
	return delta ? uncertainty * PPM_SCALE / delta + PPM_SCALE / counts + 1 : PPM_SCALE;
}

bool tsc_calibrate(struct tsc_calibration *cal)
{
	const uint16_t counts = PIT_HZ * TSC_CAL_WINDOW_MS / 1000;
	uint64_t err[TSC_CAL_WINDOWS];
	int lo = 0, hi = 0, mid;

	cal->source = "PIT channel 2";
	/*
	 * A short first window, thrown away: the first pass through the polling loop is slow
	 * (cold caches; under TCG, code not yet translated), which biased the first real window
	 * by over 1000 ppm under QEMU.
	 */
	if (!pit_ch2_measure_tsc(TSC_CAL_WARMUP_COUNTS, &(uint64_t){0}, &(uint64_t){0}))
		return false;
	for (int i = 0; i < TSC_CAL_WINDOWS; i++) {
		uint64_t delta, uncertainty;

		if (!pit_ch2_measure_tsc(counts, &delta, &uncertainty))
			return false;
		cal->window_hz[i] = delta * PIT_HZ / counts;
		cal->uncertainty[i] = uncertainty;
		err[i] = window_error_ppm(uncertainty, delta, counts);
	}
	for (int i = 1; i < TSC_CAL_WINDOWS; i++) {
		if (cal->window_hz[i] < cal->window_hz[lo])
			lo = i;
		if (cal->window_hz[i] >= cal->window_hz[hi])
			hi = i;
	}
	_Static_assert(TSC_CAL_WINDOWS == 3, "the median below assumes three windows");
	mid = 3 - lo - hi;      /* lo != hi: lo takes the first minimum, hi the last maximum */
	cal->hz = cal->window_hz[mid];
	cal->spread_ppm = diff_ppm(cal->window_hz[hi], cal->window_hz[lo], cal->hz);

	/* The closest pair must agree within the sum of its two windows' error bounds. */
	cal->agree_ppm = diff_ppm(cal->window_hz[mid], cal->window_hz[lo], cal->hz);
	cal->bound_ppm = err[mid] + err[lo];
	if (diff_ppm(cal->window_hz[hi], cal->window_hz[mid], cal->hz) < cal->agree_ppm) {
		cal->agree_ppm = diff_ppm(cal->window_hz[hi], cal->window_hz[mid], cal->hz);
		cal->bound_ppm = err[mid] + err[hi];
	}
	tsc_refclock.freq_hz = cal->hz;
	uncertainty_ppm = err[mid];
	return true;
}

uint64_t tsc_uncertainty_ppm(void)
{
	return uncertainty_ppm;
}
