#ifndef TICKGUEST_ACCT_REPORT_H
#define TICKGUEST_ACCT_REPORT_H

/* After the run: per-task sampled vs exact figures and the checks on them. */
void acct_report_checks(void);

#endif
