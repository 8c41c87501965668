/*
 * The time-stamp counter: a 64-bit cycle counter read with RDTSC (Intel SDM vol. 3, 18.17).
 *
 * Its frequency is not architecturally reported on most CPUs and never under QEMU's TCG, so it
 * is measured against a clock of known rate: PIT channel 2 counting a fixed window (as Linux's
 * pit_calibrate_tsc does).  Both ends of the window are seen through port I/O, so each estimate
 * is only as good as the TSC brackets around those two I/Os; their widths are recorded and
 * become the bound within which independent windows must agree.  The estimate kept is the
 * window with the narrowest brackets (kernel/calib.h says why that beats a median).
 */
#include "drivers/tsc.h"
#include "drivers/pit8254.h"
#include "kernel/calib.h"
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

static bool two_precise(const struct tsc_calibration *cal)
{
	return cal->window_err_ppm[cal->best] <= TSC_CAL_PRECISE_PPM &&
	       cal->window_err_ppm[cal->second] <= TSC_CAL_PRECISE_PPM;
}

bool tsc_calibrate(struct tsc_calibration *cal)
{
	const uint16_t counts = PIT_HZ * TSC_CAL_WINDOW_MS / 1000;
	uint64_t lo = UINT64_MAX, hi = 0;

	cal->source = "PIT channel 2";
	/*
	 * A short first window, thrown away: the first pass through the polling loop is slow
	 * (cold caches; under TCG, code not yet translated), which biased the first real window
	 * by over 1000 ppm under QEMU.
	 */
	if (!pit_ch2_measure_tsc(TSC_CAL_WARMUP_COUNTS, &(uint64_t){0}, &(uint64_t){0}))
		return false;
	/* At least three windows; more, up to the limit, until two of them are precise. */
	for (cal->windows = 0; cal->windows < TSC_CAL_WINDOWS; ) {
		unsigned i = cal->windows++;
		uint64_t delta, uncertainty;

		if (!pit_ch2_measure_tsc(counts, &delta, &uncertainty))
			return false;
		cal->window_hz[i] = delta * PIT_HZ / counts;
		cal->window_err_ppm[i] = window_error_ppm(uncertainty, delta, counts);
		if (cal->window_hz[i] < lo)
			lo = cal->window_hz[i];
		if (cal->window_hz[i] > hi)
			hi = cal->window_hz[i];
		if (cal->windows >= 2)
			calib_pick(cal->window_err_ppm, cal->windows, &cal->best, &cal->second);
		if (cal->windows >= TSC_CAL_WINDOWS_MIN && two_precise(cal))
			break;
	}
	cal->hz = cal->window_hz[cal->best];
	cal->spread_ppm = diff_ppm(hi, lo, cal->hz);
	cal->agree_ppm = diff_ppm(cal->window_hz[cal->best], cal->window_hz[cal->second], cal->hz);
	cal->bound_ppm = cal->window_err_ppm[cal->best] + cal->window_err_ppm[cal->second];
	tsc_refclock.freq_hz = cal->hz;
	uncertainty_ppm = cal->window_err_ppm[cal->best];
	return true;
}

uint64_t tsc_uncertainty_ppm(void)
{
	return uncertainty_ppm;
}
