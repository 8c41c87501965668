/*
 * The arithmetic of TSC calibration: a window's rate and error bound, the choice among windows,
 * decoding the frequencies CPUID and the VMware backdoor report, comparing two estimates, and
 * choosing one.  No hardware access: drivers/tsc.c measures and reads, this file decides.
 */
#include "lib/tsc_sources.h"
#include "lib/calib.h"
#include "lib/format.h"

#define PPM_SCALE       1000000ull
#define HZ_PER_KHZ      1000ull
#define HZ_PER_MHZ      1000000ull
#define GETHZ_UNSUPPORTED 0xffffffffu

uint64_t tsc_diff_ppm(uint64_t x, uint64_t y, uint64_t ref)
{
	uint64_t d = x > y ? x - y : y - x;

	return ref ? d * PPM_SCALE / ref : 0;
}

uint64_t tsc_window_error_ppm(uint64_t uncertainty, uint64_t delta, uint64_t counts)
{
	if (!delta || !counts)
		return PPM_SCALE;
	return uncertainty * PPM_SCALE / delta + PPM_SCALE / counts + 1;
}

uint64_t tsc_window_hz(uint64_t delta, uint64_t counts, uint64_t ref_hz)
{
	/* delta * ref_hz fits: 1e9 cycles (a 50 ms window at 20 GHz) x 1e9 Hz < 2^64 */
	return counts ? delta * ref_hz / counts : 0;
}

void tsc_windows_combine(struct tsc_estimate *e)
{
	const uint64_t *w = e->window_hz;
	const uint64_t *err = e->window_err_ppm;
	uint64_t lo = w[0], hi = w[0];

	for (unsigned i = 1; i < e->windows; i++) {
		if (w[i] < lo)
			lo = w[i];
		if (w[i] > hi)
			hi = w[i];
	}
	calib_pick(err, e->windows, &e->best, &e->second);
	e->hz = w[e->best];
	e->bound_ppm = err[e->best];
	e->spread_ppm = tsc_diff_ppm(hi, lo, e->hz);
	/* The two best must agree within the sum of their error bounds. */
	e->agree_ppm = tsc_diff_ppm(w[e->best], w[e->second], e->hz);
	e->pair_bound_ppm = err[e->best] + err[e->second];
	e->present = true;
}

bool tsc_windows_enough(const struct tsc_estimate *e)
{
	unsigned best, second;

	if (e->windows < TSC_CAL_WINDOWS_MIN)
		return false;
	calib_pick(e->window_err_ppm, e->windows, &best, &second);
	return e->window_err_ppm[best] <= TSC_CAL_PRECISE_PPM &&
	       e->window_err_ppm[second] <= TSC_CAL_PRECISE_PPM;
}

bool tsc_hz_from_cpuid_15(uint32_t eax, uint32_t ebx, uint32_t ecx, uint64_t *hz,
			  char *why, size_t whylen)
{
	if (eax == 0 || ebx == 0) {
		ksnprintf(why, whylen, "CPUID 0x15 enumerates no TSC/crystal ratio (EAX %u, EBX %u)",
			  eax, ebx);
		return false;
	}
	if (ecx == 0) {
		ksnprintf(why, whylen, "CPUID 0x15 gives the ratio %u/%u but no crystal frequency "
			  "(ECX = 0)", ebx, eax);
		return false;
	}
	/* Rounded to the nearest Hz; ECX x EBX < 2^64 for any 32-bit pair. */
	*hz = ((uint64_t)ecx * ebx + eax / 2) / eax;
	return true;
}

bool tsc_hz_from_cpuid_16(uint32_t eax, uint64_t *hz)
{
	*hz = (eax & 0xffff) * HZ_PER_MHZ;
	return *hz != 0;
}

bool tsc_hz_from_hv_leaf(uint32_t eax, uint64_t *hz)
{
	*hz = eax * HZ_PER_KHZ;
	return *hz != 0;
}

bool tsc_hz_from_gethz(uint32_t eax, uint32_t ebx, uint64_t *hz)
{
	if (ebx == GETHZ_UNSUPPORTED)
		return false;
	*hz = (uint64_t)ebx << 32 | eax;
	return *hz != 0;
}

uint64_t tsc_reported_bound_ppm(uint64_t hz, uint64_t unit_hz)
{
	uint64_t half_unit = unit_hz / 2 ? unit_hz / 2 : 1;

	if (!hz)
		return PPM_SCALE;
	return (half_unit * PPM_SCALE + hz - 1) / hz;
}

uint64_t tsc_agree_limit_ppm(const struct tsc_estimate *a, const struct tsc_estimate *b)
{
	if (a->kind == TSC_HINT || b->kind == TSC_HINT)
		return TSC_AGREE_LIMIT_HINT_PPM;
	if (a->kind == TSC_MEASURED && b->kind == TSC_MEASURED)
		return TSC_AGREE_LIMIT_MEASURED_PPM;
	return TSC_AGREE_LIMIT_NOMINAL_PPM;
}

bool tsc_estimates_agree(const struct tsc_estimate *a, const struct tsc_estimate *b,
			 uint64_t *diff_ppm, uint64_t *bound_ppm)
{
	*diff_ppm = tsc_diff_ppm(a->hz, b->hz, a->hz < b->hz ? a->hz : b->hz);
	*bound_ppm = a->bound_ppm + b->bound_ppm + tsc_agree_limit_ppm(a, b);
	return *diff_ppm <= *bound_ppm;
}

/* Does h agree with every present measured estimate?  If not, *against is the first that does not. */
static bool agrees_with_measured(const struct tsc_estimate est[], const struct tsc_estimate *h,
				 int *against, uint64_t *diff_ppm)
{
	uint64_t bound;

	for (int i = 0; i < TSC_NR_SOURCES; i++) {
		if (!est[i].present || est[i].kind != TSC_MEASURED)
			continue;
		if (!tsc_estimates_agree(h, &est[i], diff_ppm, &bound)) {
			*against = i;
			return false;
		}
	}
	return true;
}

int tsc_choose(const struct tsc_estimate est[TSC_NR_SOURCES], int *best_measured,
	       char *why, size_t whylen)
{
	int best = -1, measured = 0, rejected = -1, against = -1;
	uint64_t rejected_diff = 0;
	bool tried[TSC_NR_SOURCES] = { false };

	for (int i = 0; i < TSC_NR_SOURCES; i++) {
		if (!est[i].present || est[i].kind != TSC_MEASURED)
			continue;
		measured++;
		if (best < 0 || est[i].bound_ppm < est[best].bound_ppm)
			best = i;
	}
	*best_measured = best;
	if (best < 0) {
		ksnprintf(why, whylen, "no measured estimate");
		return -1;
	}
	/* The hypervisor's figures, the finer one first; the first that agrees is chosen. */
	for (;;) {
		int pick = -1, a;
		uint64_t diff;

		for (int i = 0; i < TSC_NR_SOURCES; i++)
			if (est[i].present && est[i].kind == TSC_HV_REPORTED && !tried[i] &&
			    (pick < 0 || est[i].bound_ppm < est[pick].bound_ppm))
				pick = i;
		if (pick < 0)
			break;
		tried[pick] = true;
		if (agrees_with_measured(est, &est[pick], &a, &diff)) {
			ksnprintf(why, whylen, "reported by the hypervisor, agrees with the %d measured",
				  measured);
			return pick;
		}
		if (rejected < 0) {
			rejected = pick;
			against = a;
			rejected_diff = diff;
		}
	}
	if (rejected >= 0)
		ksnprintf(why, whylen, "smallest bound of %d measured, %llu ppm; %s is %llu ppm off %s",
			  measured, (unsigned long long)est[best].bound_ppm, est[rejected].name,
			  (unsigned long long)rejected_diff, est[against].name);
	else
		ksnprintf(why, whylen, "smallest bound of %d measured, %llu ppm; no hypervisor figure",
			  measured, (unsigned long long)est[best].bound_ppm);
	return best;
}
