/*
 * Conformance checks of the reference clocks (TSC, ACPI PM timer, HPET main counter) and of the
 * HPET's timer 0, measured before the scheduler starts and printed with the other checks after
 * the run (docs/report.md: every check is printed after the run).
 *
 * The windows and limits of every check are here, in one table; each bound is derived in
 * kernel/checks_refclocks.c next to the check that uses it.
 */
#ifndef TICKGUEST_CHECKS_REFCLOCKS_H
#define TICKGUEST_CHECKS_REFCLOCKS_H

/* (a) monotonic: successive reads of each clock */
#define REFCHK_MONOTONIC_READS          1000
/* (a) wrap extension: the PM timer read every STEP over WINDOW, compared with the TSC */
#define REFCHK_EXTEND_WINDOW_MS         1000
#define REFCHK_EXTEND_STEP_MS           100
/* (b) frequency agreement: one window in which every clock is read at both ends */
#define REFCHK_AGREE_WINDOW_MS          200
/*
 * The stated limit on how far two working clocks may disagree, on top of what the measurement
 * itself cannot resolve.  On a PC the PIT (which calibrated the TSC), the PM timer and usually
 * the HPET run from the same 14.31818 MHz crystal, and under QEMU all of them follow the same
 * host clock, so any real difference is far below this; a wrong COUNTER_CLK_PERIOD (VMware's
 * timekeeping paper has seen 800 ppm) or a PM timer at the wrong rate is far above it.
 */
#define REFCHK_AGREE_LIMIT_PPM          100
/* (c) HPET periodic rates, each measured over one window */
#define REFCHK_RATES_HZ                 { 100, 1000, 4096 }
#define REFCHK_RATE_WINDOW_MS           300
/* Ticks not measured at the start of a window: one may be a stale IRQ 0 edge from the PIT. */
#define REFCHK_RATE_SETTLE_TICKS        2
/* (d) HPET one-shot: several shots of one delay each, each given a timeout */
#define REFCHK_ONESHOT_SHOTS            5
#define REFCHK_ONESHOT_DELAY_US         1000
#define REFCHK_ONESHOT_TIMEOUT_MS       100

/*
 * Measure: call with interrupts off, the 8259 set up and the TSC calibrated, before anything
 * else uses IRQ 0 (it runs the HPET on IRQ 0 for a while and gives the line back).  A NULL
 * reason means the device is there; otherwise the reason is the SKIP message.
 */
void refclock_checks_run(const char *pmtimer_absent, const char *hpet_absent);

/* Print the checks measured by refclock_checks_run(). */
void refclock_report_checks(void);

#endif
