/*
 * Do the TSC estimates agree?  One check per pair of estimates that can be compared (the table
 * in kernel/checks_tsc.c), each bounded by the sum of the two estimates' error bounds plus the
 * stated limit for that kind of pair (kernel/tsc_sources.h, TSC_AGREE_LIMIT_*).  A pair with an
 * absent estimate is skipped with the reason it is absent.
 */
#ifndef TICKGUEST_CHECKS_TSC_H
#define TICKGUEST_CHECKS_TSC_H

#include "drivers/tsc.h"

void tsc_report_agreement_checks(const struct tsc_calibration *cal);

#endif
