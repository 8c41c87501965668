/* One-shot interrupts through the tick-source interface (tick_source.arm_oneshot). */
#ifndef TICKGUEST_CHECKS_ONESHOT_H
#define TICKGUEST_CHECKS_ONESHOT_H

/* Measure every one-shot-capable tick source the platform has: before the scheduler runs.
 * Pass the reasons the HPET and the local APIC are absent (NULL when present). */
void oneshot_measure(const char *hpet_why, const char *lapic_why);
void oneshot_report_checks(void);

#endif
