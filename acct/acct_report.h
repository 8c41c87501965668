#ifndef TICKGUEST_ACCT_REPORT_H
#define TICKGUEST_ACCT_REPORT_H

#include <stdint.h>

/* After the run: the accounting table (sampled, exact, stolen, true) and the checks on it. */
void acct_report_checks(void);
/* The correction factor w (docs/timekeeping.md) in ppm, from w= on the command line; 0: not given. */
void acct_report_set_w(uint32_t w_ppm);

#endif
