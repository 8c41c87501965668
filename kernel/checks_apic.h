/*
 * Checks of the local APIC timer and the IOAPIC, with every target and tolerance of them in
 * this one table.  The measurements need the machine to themselves (interrupts on, no
 * scheduler), so they run before the scheduler and are printed after the run with the other
 * checks, keeping the banner ahead of the first test line (docs/report.md).
 */
#ifndef TICKGUEST_CHECKS_APIC_H
#define TICKGUEST_CHECKS_APIC_H

/*
 * How far a timer may stray from its expected rate beyond what the measurement itself explains
 * (quantisation, read brackets, calibration), as a stated device limit in the manner of
 * bhyve-tests' +-400 ppm.  On a PC every divider and the TSC derive from one crystal, so a
 * sound timer shows far less; an emulator's timer and TSC come from different host clocks,
 * whose relative rate may change slowly (NTP slews CLOCK_MONOTONIC by up to 500 ppm).
 */
#define APIC_RATE_LIMIT_PPM     100
/*
 * The timer's clock has no nominal rate, so each reference calibrates it for itself: the TSC
 * at start-up (drivers/lapic.c, 20 ms per divider), the second reference (the PM timer, else
 * the HPET) over this window at divide by 1.  100 ms is 358000 PM timer counts, so its own
 * resolution costs under 3 ppm.
 */
#define APIC_REF_WINDOW_MS      100
/*
 * The TSC was calibrated against the PIT, the PM timer or the HPET at their nominal rates.
 * PIT_HZ is 14.31818 MHz / 12 rounded up by 0.28 ppm, the PM timer's 3579545 Hz that crystal
 * / 4 exactly, and the HPET states its own period in femtoseconds: the timer's clock by the
 * TSC and by the second reference may differ by that rounding, under 1 ppm.
 */
#define APIC_NOMINAL_PPM        1

/* (a) periodic mode at every divider: periods of this length, this many measured */
#define APIC_PERIODIC_US        10000
#define APIC_PERIODIC_PERIODS   5
/* (b) one-shot and (c) TSC-deadline: delay armed, and how many times */
#define APIC_ONESHOT_US         200
#define APIC_ONESHOT_REPEATS    20
/* (d) the PIT through the IOAPIC: rate and window */
#define APIC_PIT_HZ             1000
#define APIC_PIT_WINDOW_MS      200

/* Find and initialise the local APIC (calibrating its timer) and the IOAPIC, and print their
 * banner lines.  After calibrate() (needs the TSC); leaves the 8259 in charge. */
void apic_init(void);
/* Why there is no usable local APIC / IOAPIC, or NULL when there is one. */
const char *apic_lapic_missing(void);
const char *apic_ioapic_missing(void);
/*
 * Make the measurements the checks report; after apic_init(), before sched_init().  The
 * absent-reasons of the PM timer and the HPET pick the second reference (second_refclock).
 */
void apic_measure(const char *pmtimer_absent, const char *hpet_absent);
/* The checks, from what apic_measure() recorded. */
void apic_report_checks(void);

#endif
