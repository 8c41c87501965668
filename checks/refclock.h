/*
 * The reference clocks (the TSC, the ACPI PM timer, the HPET main counter) held to what a PC
 * promises of them, and the HPET's timer 0 held to them: checks/refclock.c reads every clock
 * and compares their rates, checks/pmtimer.c extends the PM timer past its wrap,
 * checks/hpet.c times timer 0's periodic rates and one-shots.  docs/pmtimer.md, docs/hpet.md.
 */
#ifndef TICKGUEST_CHECKS_REFCLOCK_H
#define TICKGUEST_CHECKS_REFCLOCK_H

#include "kernel/tick.h"

/*
 * With interrupts off, the 8259 set up and the TSC calibrated, before anything else uses IRQ 0
 * (the HPET runs on IRQ 0 for a while and gives the line back).  A NULL reason means the device
 * is there; otherwise it is the SKIP message of every claim that needs it.
 */
void refclock_checks(const char *pmtimer_absent, const char *hpet_absent);

/*
 * The reference clock a device check times against besides the TSC, so that every rate is
 * measured by two clocks that share no oscillator on a PC: the ACPI PM timer, else the HPET.
 * NULL when neither is there, with why (kept, static) saying what each lacked.
 */
struct refclock *second_refclock(const char *pmtimer_absent, const char *hpet_absent,
				 const char **why);

/* The parts, in the order refclock_checks() measures them (checks/pmtimer.c, checks/hpet.c). */
void pmtimer_checks(const char *pmtimer_absent);
void hpet_checks(const char *hpet_absent, const char *pmtimer_absent);

#endif
