#ifndef TICKGUEST_TSC_H
#define TICKGUEST_TSC_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/tick.h"
#include "kernel/x86.h"
#include "lib/tsc_sources.h"

/*
 * What a working TSC and reference can give, so that a calibration outside is a broken device
 * (QEMU's microvm without its PIT's gate: "0.014 MHz from PIT channel 2") and ends the run.
 * Not what CPUs clock at: emulators make the TSC count what they like (Bochs: its ips=, so 50
 * MHz is a working TSC).  The floor is what tickguest's figures need: at 1 MHz a cycle is a
 * microsecond, the finest latency the device checks state and two orders below the steal
 * threshold of 100 us; the ceiling, far above the 6 GHz of the fastest x86, is where a 64-bit
 * cycle count would last under 30 years.
 */
#define TSC_MIN_HZ      1000000ull              /* 1 MHz */
#define TSC_MAX_HZ      20000000000ull          /* 20 GHz */

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
