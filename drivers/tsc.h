#ifndef TICKGUEST_TSC_H
#define TICKGUEST_TSC_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/tick.h"

#define TSC_CAL_WINDOWS_MIN 3
#define TSC_CAL_WINDOWS   8     /* at most; fewer when two precise windows come early */
#define TSC_CAL_WINDOW_MS 50
/* A window this precise or better counts as undisturbed: 25 us of bracket in 50 ms. */
#define TSC_CAL_PRECISE_PPM 500

struct tsc_calibration {
	const char *source;                     /* "PIT channel 2" */
	unsigned windows;                       /* windows measured */
	uint64_t window_hz[TSC_CAL_WINDOWS];    /* one estimate per window */
	uint64_t window_err_ppm[TSC_CAL_WINDOWS]; /* and its error bound */
	unsigned best, second;                  /* the two windows with the smallest bounds */
	uint64_t hz;                            /* the best window's estimate: the chosen one */
	uint64_t spread_ppm;                    /* max - min over all windows, relative to hz */
	uint64_t agree_ppm;                     /* best vs second, relative to hz */
	uint64_t bound_ppm;                     /* their two bounds added: how far they may differ */
};

bool tsc_present(void);
/* Calibrate against PIT channel 2; false if the PIT did not answer. */
bool tsc_calibrate(struct tsc_calibration *cal);

/* How far the calibrated frequency may be off: one window's error bound. */
uint64_t tsc_uncertainty_ppm(void);

/* The TSC as a reference clock; freq_hz is set by tsc_calibrate(). */
extern struct refclock tsc_refclock;

#endif
