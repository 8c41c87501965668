/* The local APIC timer's claims: its clock by two references, periodic mode at every divider,
 * one-shot and TSC-deadline. */
#ifndef TICKGUEST_CHECKS_LAPIC_H
#define TICKGUEST_CHECKS_LAPIC_H

/*
 * After apic_init(), before the scheduler (the measurements need the machine to themselves).
 * lapic_why: why there is no usable local APIC, or NULL; the absent-reasons of the PM timer
 * and the HPET pick the second reference (second_refclock).
 */
void lapic_checks(const char *lapic_why, const char *pmtimer_absent, const char *hpet_absent);

#endif
