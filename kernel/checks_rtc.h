/*
 * Conformance checks of the CMOS RTC: periodic rates, update interrupts, time of day.
 *
 * Measuring needs IRQ 8 to itself for a few seconds, so it happens before the scheduler
 * starts (rtc_measure, after the TSC is calibrated); the checks are printed with the others
 * after the run (rtc_report_checks), since docs/report.md keeps every check after the banner.
 * Each rate is timed by the TSC and by a second reference (second_refclock), chosen from the
 * absent-reasons of the PM timer and the HPET.
 */
#ifndef TICKGUEST_CHECKS_RTC_H
#define TICKGUEST_CHECKS_RTC_H

/* Needs the TSC calibrated and the interrupt controller set; leaves interrupts off. */
void rtc_measure(const char *pmtimer_absent, const char *hpet_absent);
/* Prints nothing unless rtc_measure() ran. */
void rtc_report_checks(void);

#endif
