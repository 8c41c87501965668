/*
 * The TSC's claims: its calibration is plausible and repeatable, and its frequency estimates
 * agree pairwise (docs/tsc.md).  Its reads going forward are checks/refclock.c's.
 */
#ifndef TICKGUEST_CHECKS_TSC_H
#define TICKGUEST_CHECKS_TSC_H

#include "drivers/tsc.h"

/* Right after tsc_calibrate(): judged from what the calibration measured. */
void tsc_checks(const struct tsc_calibration *cal);

#endif
