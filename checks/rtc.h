/*
 * The CMOS RTC's claims: its periodic rates, its update and alarm interrupts, its time of day.
 *
 * Measuring needs IRQ 8 to itself for about five seconds, so it runs before the scheduler
 * starts, after the TSC is calibrated, with the checks held (kernel/report.h) and printed
 * after the run.  Each rate is timed by the TSC and by a second reference (second_refclock),
 * chosen from the absent-reasons of the PM timer and the HPET.
 */
#ifndef TICKGUEST_CHECKS_RTC_H
#define TICKGUEST_CHECKS_RTC_H

/* Needs the TSC calibrated and the interrupt controller set; leaves interrupts off. */
void rtc_checks(const char *pmtimer_absent, const char *hpet_absent);

#endif
