#ifndef TICKGUEST_TSC_H
#define TICKGUEST_TSC_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/tick.h"
#include "kernel/x86.h"
#include "lib/tsc_sources.h"

struct tsc_calibration {
	struct tsc_estimate est[TSC_NR_SOURCES];  /* indexed by enum tsc_source */
	int chosen;                     /* the estimate the kernel runs with */
	int best_measured;              /* the measured one with the smallest bound */
	char why[128];                  /* why that one, for the banner */
	const char *source;             /* est[chosen].name */
	uint64_t hz;                    /* est[chosen].hz */
};

bool tsc_present(void);

/*
 * Estimate the TSC rate from every source there is and choose one (lib/tsc_sources.h).
 * pmtimer_absent and hpet_absent are NULL when that clock was found, else why it was not.
 * Returns false when nothing could be measured (no PIT, no PM timer, no HPET).
 */
bool tsc_calibrate(struct tsc_calibration *cal, const char *pmtimer_absent,
		   const char *hpet_absent);

/* How far the chosen frequency may be off: its error bound in ppm. */
uint64_t tsc_uncertainty_ppm(void);

/* The TSC as a reference clock; freq_hz is set by tsc_calibrate(). */
extern struct refclock tsc_refclock;

/* Cycles to nanoseconds at the calibrated rate (after tsc_calibrate()). */
uint64_t tsc_ns(uint64_t cycles);

/* Busy-wait until the TSC passes tsc_end (wrap-safe). */
static inline void tsc_spin_until(uint64_t tsc_end)
{
	while ((int64_t)(rdtsc() - tsc_end) < 0)
		cpu_relax();
}

#endif
