/*
 * The local APIC timer's rate, measured (drivers/lapic.c is the rest of the driver).  Nothing
 * architectural says what clock the timer counts (see lapic.c), so it is measured: against the
 * calibrated TSC for every divider (lapic_calibrate, at boot), and at divide by 1 against a
 * second reference clock for the checks (lapic_measure_rate_by).  Either way the timer counts
 * down, masked, from its largest count while a window passes, and each end of the window is the
 * narrowest of three paired reads, with the bound of what the reads' brackets can hide.
 */
#include "drivers/lapic.h"
#include "drivers/lapic_regs.h"
#include "drivers/tsc.h"
#include "kernel/x86.h"

#define PPM                     1000000ull

static struct lapic_calibration cal;

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

uint32_t lapic_timer_sample(uint64_t *tsc, uint64_t *width)
{
	uint64_t t0 = rdtsc();
	uint32_t count = lapic_read(LAPIC_TCCR);
	uint64_t t1 = rdtsc();

	*tsc = t0 + (t1 - t0) / 2;
	*width = t1 - t0;
	return count;
}

/* The narrowest of three samples: one that a host interrupt or a cold path stretched is not
 * the one kept. */
static uint32_t best_sample(uint64_t *tsc, uint64_t *width)
{
	uint32_t count = lapic_timer_sample(tsc, width);

	for (int i = 0; i < 2; i++) {
		uint64_t t, w;
		uint32_t c = lapic_timer_sample(&t, &w);

		if (w < *width) {
			*tsc = t;
			*width = w;
			count = c;
		}
	}
	return count;
}

void lapic_measure_rate(unsigned index, uint64_t window_tsc, struct lapic_rate *r)
{
	uint64_t t0, w0, t1, w1;
	uint32_t c0, c1;

	*r = (struct lapic_rate){ .divider = lapic_divider(index) };
	lapic_timer_free_run(index);
	c0 = best_sample(&t0, &w0);
	while (rdtsc() - t0 < window_tsc)
		cpu_relax();
	c1 = best_sample(&t1, &w1);
	lapic_write(LAPIC_TICR, 0);
	if (c1 == 0 || c1 >= c0 || t1 <= t0)
		return;                 /* ran out, or did not count: hz stays 0 */
	r->counts = c0 - c1;
	r->tsc_delta = t1 - t0;
	r->read_cycles = w0 > w1 ? w0 : w1;
	r->hz = r->counts * tsc_refclock.freq_hz / r->tsc_delta;
	/*
	 * Each TCCR read is whole counts, so the difference is off by under one count; each
	 * sample's moment is known to half its bracket, so the window is off by under one
	 * bracket in all.  (+1 for the rounding of the two divisions.)
	 */
	r->bound_ppm = PPM / r->counts + r->read_cycles * PPM / r->tsc_delta + 1;
}

void lapic_calibrate(void)
{
	/* 20 ms per divider: at a 1 GHz clock divided by 128 that is still 156000 counts. */
	const uint64_t window = tsc_refclock.freq_hz / 50;

	/* A throw-away first pass: under TCG the first run through a loop is translation. */
	lapic_measure_rate(0, window / 20, &cal.rate[0]);
	for (unsigned i = 0; i < LAPIC_NR_DIVIDERS; i++)
		lapic_measure_rate(i, window, &cal.rate[i]);
	cal.hz = cal.rate[0].hz;
	cal.bound_ppm = cal.rate[0].bound_ppm;
	lapic_restore_divider();
}

/*
 * Read ref between two TCCR reads.  The reference latched somewhere between them, so its
 * moment, in the timer's counts, is their midpoint to within half their distance (*width).
 * Returns twice that midpoint, kept whole.
 */
static uint64_t ref_sample(struct refclock *ref, uint64_t *refv, uint32_t *width)
{
	uint32_t c0 = lapic_read(LAPIC_TCCR), c1;

	*refv = refclock_read(ref);
	c1 = lapic_read(LAPIC_TCCR);
	*width = c0 - c1;
	return (uint64_t)c0 + c1;
}

static uint64_t best_ref_sample(struct refclock *ref, uint64_t *refv, uint32_t *width)
{
	uint64_t mid2 = ref_sample(ref, refv, width);

	for (int i = 0; i < 2; i++) {
		uint64_t v;
		uint32_t w;
		uint64_t m = ref_sample(ref, &v, &w);

		if (w < *width) {
			*refv = v;
			*width = w;
			mid2 = m;
		}
	}
	return mid2;
}

void lapic_measure_rate_by(struct refclock *ref, uint64_t window_tsc, struct lapic_ref_rate *r)
{
	uint64_t ref0, ref1, mid0, mid1;
	uint32_t w0, w1;

	*r = (struct lapic_ref_rate){ 0 };
	lapic_timer_free_run(0);        /* as lapic_measure_rate(), at divide by 1 */
	mid0 = best_ref_sample(ref, &ref0, &w0);
	tsc_spin_until(rdtsc() + window_tsc);
	mid1 = best_ref_sample(ref, &ref1, &w1);
	lapic_write(LAPIC_TICR, 0);
	lapic_restore_divider();
	if (mid1 < 2 || mid1 >= mid0 || ref1 <= ref0)
		return;                 /* ran out, or one of the two did not count: hz stays 0 */
	r->counts = (mid0 - mid1) / 2;
	r->ref_delta = ref1 - ref0;
	r->read_counts = (uint64_t)w0 + w1;
	r->hz = r->counts * ref->freq_hz / r->ref_delta;
	/*
	 * Per sample: each TCCR read is whole counts, so their midpoint is off by under one count,
	 * and the reference latched within half the bracket of it; half a count more for halving
	 * the difference of the two doubled midpoints.  The reference's reads are whole counts
	 * too: its difference is off by under one of them.  (+1: hz is truncated to whole Hz,
	 * under 1 ppm of any clock above 1 MHz.)
	 */
	r->bound_ppm = div_up((r->read_counts + 5) * PPM, 2 * r->counts) + div_up(PPM, r->ref_delta) + 1;
}

const struct lapic_calibration *lapic_calibration(void)
{
	return &cal;
}
