#ifndef TICKGUEST_TSC_H
#define TICKGUEST_TSC_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/tick.h"

#define TSC_CAL_WINDOWS   3
#define TSC_CAL_WINDOW_MS 50

struct tsc_calibration {
	const char *source;                     /* "PIT channel 2" */
	uint64_t window_hz[TSC_CAL_WINDOWS];    /* one estimate per window */
	uint64_t uncertainty[TSC_CAL_WINDOWS];  /* TSC brackets of the window's two ends, in cycles */
	uint64_t hz;                            /* the median: the chosen estimate */
	uint64_t spread_ppm;                    /* max - min, relative to hz */
	uint64_t agree_ppm;                     /* closest pair of windows, relative to hz */
	uint64_t bound_ppm;                     /* how far two sound windows may differ */
};

bool tsc_present(void);
/* Calibrate against PIT channel 2; false if the PIT did not answer. */
bool tsc_calibrate(struct tsc_calibration *cal);

/* How far the calibrated frequency may be off: one window's error bound. */
uint64_t tsc_uncertainty_ppm(void);

/* The TSC as a reference clock; freq_hz is set by tsc_calibrate(). */
extern struct refclock tsc_refclock;

#endif
