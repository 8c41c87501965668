/*
 * The checks' entry points, in the order device_suite() runs them.  Every device check runs
 * before the scheduler, with interrupts off on entry and on return, the TSC calibrated and
 * the checks held (kernel/report.h) while its device measures; each needs its interrupt line
 * to itself while it measures.  A reason argument that is NULL means
 * the device is there; otherwise it is the SKIP message of every claim that needs the device.
 * The absent-reasons of the PM timer and the HPET pick the second reference a rate is timed
 * by besides the TSC (second_refclock).
 */
#ifndef TICKGUEST_CHECKS_CHECKS_H
#define TICKGUEST_CHECKS_CHECKS_H

#include "drivers/tsc.h"
#include "kernel/tick.h"
#include "lib/tickstat.h"

#include <stdbool.h>

/* Every device's checks in turn, each device's printed when it is done (checks/suite.c);
 * with devices false only the TSC's, from its calibration. */
void device_suite(const struct tsc_calibration *cal, bool devices, const char *pmtimer_absent,
		  const char *hpet_absent);

/* The TSC: its calibration is plausible and repeatable, its frequency estimates agree
 * pairwise (checks/tsc.c, docs/tsc.md).  Right after tsc_calibrate(). */
void tsc_checks(const struct tsc_calibration *cal);

/*
 * The reference clocks (the TSC, the ACPI PM timer, the HPET main counter) held to what a PC
 * promises of them, and the HPET's timer 0 held to them: checks/refclock.c reads every clock
 * and compares their rates, checks/pmtimer.c extends the PM timer past its wrap, checks/hpet.c
 * times timer 0's periodic rates and one-shots (docs/pmtimer.md, docs/hpet.md).  With the 8259
 * set up, before anything else uses IRQ 0: the HPET runs on IRQ 0 for a while and gives it back.
 */
void refclock_checks(const char *pmtimer_absent, const char *hpet_absent);
void pmtimer_checks(const char *pmtimer_absent);
void hpet_checks(const char *hpet_absent, const char *pmtimer_absent);

/* The second reference: the ACPI PM timer, else the HPET, so that every rate is measured by two
 * clocks that share no oscillator on a PC.  NULL when neither is there, with why (kept, static)
 * saying what each lacked. */
struct refclock *second_refclock(const char *pmtimer_absent, const char *hpet_absent,
				 const char **why);

/* The 8254 PIT's channel 0 held to its datasheet: periodic rates, the mode 0 one-shot, the
 * read-back command (checks/pit.c, docs/pit.md).  With the 8259 in charge of IRQ 0, which is
 * the checks' alone for about 1.6 s; returns with channel 0 stopped and IRQ 0 unregistered. */
void pit_checks(const char *pmtimer_absent, const char *hpet_absent);

/* The CMOS RTC: its periodic rates, its update and alarm interrupts, its time of day
 * (checks/rtc.c, checks/rtc_clock.c, docs/rtc.md).  IRQ 8 for about five seconds. */
void rtc_checks(const char *pmtimer_absent, const char *hpet_absent);

/* The local APIC timer: its clock by two references, periodic mode at every divider, one-shot
 * and TSC-deadline (checks/lapic.c).  After apic_init(); lapic_why: why there is no usable
 * local APIC, or NULL. */
void lapic_checks(const char *lapic_why, const char *pmtimer_absent, const char *hpet_absent);

/* The IOAPIC routes the PIT's ISA IRQ 0, through the MADT's override, at its rate
 * (checks/ioapic.c).  Leaves the interrupt controller that was in charge in charge. */
void ioapic_checks(const char *ioapic_why);

/* The one-shot half of the tick-source interface, held to its contract on every device
 * (checks/oneshot.c). */
void oneshot_checks(const char *hpet_why, const char *lapic_why);

/* The run's own checks, after the run (checks/run.c): did the tick source tick at the rate it
 * was programmed for, did the tick clock keep up, did any interrupt arrive that nobody asked
 * for. */
void tick_report_check(void);
void tickclock_report_check(void);
void irq_report_check(void);
/* The YAML lines of a tick interval classification (lib/tickstat.h), times in us. */
void tick_stats_yaml(const struct tick_stats *st, uint64_t ref_hz);

#endif
