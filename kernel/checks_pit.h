/*
 * Conformance checks of the 8254 PIT's channel 0: periodic rates in modes 2 and 3 against two
 * references, the mode 0 one-shot, and the read-back command.  Every rate, window and limit of
 * them is in this one table; each bound is derived in kernel/checks_pit.c next to its check.
 *
 * Measured before the scheduler with IRQ 0 through the 8259 (pit_measure), printed after the
 * run with the other checks (pit_report_checks), as docs/report.md asks.  docs/pit.md has the
 * background.
 */
#ifndef TICKGUEST_CHECKS_PIT_H
#define TICKGUEST_CHECKS_PIT_H

#include "drivers/pit8254.h"

/*
 * The stated limit on the PIT's rate error beyond what the measurement explains.  On a PC the
 * PIT, the PM timer and the HPET (usually) divide one 14.31818 MHz crystal, so they agree far
 * better; an emulator paces the PIT by its virtual clock and the TSC by the host's, whose
 * relative rate NTP may slew.  The same 100 ppm as the RTC, HPET and local APIC checks.
 */
#define PITCHK_RATE_LIMIT_PPM   100
/*
 * PIT_HZ is 14.31818 MHz / 12 rounded up by 0.28 ppm, and the PM timer's 3579545 Hz is the same
 * crystal / 4 rounded down: comparing the two nominal rates costs up to 1 ppm.  The TSC was
 * calibrated with PIT_HZ itself, so the comparison with the TSC does not pay it.
 */
#define PITCHK_NOMINAL_PPM      1

/* The divisor nearest to a rate. */
#define PIT_DIVISOR_FOR(hz)     ((PIT_HZ + (hz) / 2) / (hz))

/*
 * (a) Periodic runs: mode, divisor, and the window in whole periods.  A window of N periods
 * starts at the run's first interrupt and closes half a period after the N-th deadline, so
 * without lost ticks exactly N more interrupts fall in it (docs/pit.md: the deterministic
 * claim that tests/conformance/test_devices.py holds the PIT to under -icount).  About 1.6 s.
 * Mode 3 gets an even divisor: with an odd one the two half-periods differ by a clock and the
 * count read back does not say which half it is in as simply.
 */
struct pit_rate_run {
	enum pit_mode mode;
	uint32_t divisor;
	uint32_t periods;
};
#define PITCHK_RATE_RUNS { \
	{ PIT_MODE_RATE_GENERATOR, PIT_DIVISOR_MAX, 10 },          /* 18.2 Hz, 549 ms */ \
	{ PIT_MODE_RATE_GENERATOR, PIT_DIVISOR_FOR(100), 50 },     /* 100 Hz, 500 ms */ \
	{ PIT_MODE_RATE_GENERATOR, PIT_DIVISOR_FOR(1000), 200 },   /* 1000.2 Hz, 200 ms */ \
	{ PIT_MODE_RATE_GENERATOR, PIT_DIVISOR_FOR(10000), 1000 }, /* 10026.7 Hz, 100 ms */ \
	{ PIT_MODE_SQUARE_WAVE, PIT_DIVISOR_FOR(1000) + 1, 200 },  /* 999.3 Hz, 200 ms */ \
}
/* How long past the expected end of a window before the run is called dead. */
#define PITCHK_SYNC_SLACK_MS    250

/* (b) Mode 0 one-shots: the count (1 ms), how many, the timeout of each. */
#define PITCHK_ONESHOT_COUNT    PIT_DIVISOR_FOR(1000)
#define PITCHK_ONESHOT_SHOTS    10
#define PITCHK_ONESHOT_TIMEOUT_MS 100

/*
 * (c) Read-back, in modes 0, 2 and 3: the count loaded (even, for mode 3; 55 ms, so no reload
 * falls between the reads), and the gap between the two read-backs that must see it decrease.
 */
#define PITCHK_READBACK_COUNT   (PIT_DIVISOR_MAX - 2)
#define PITCHK_READBACK_GAP_US  100

/* Call with interrupts off and the 8259 in charge of IRQ 0, the TSC calibrated; a NULL reason
 * means that reference clock is there.  Leaves channel 0 stopped and IRQ 0 unregistered. */
void pit_measure(const char *pmtimer_absent, const char *hpet_absent);
void pit_report_checks(void);

#endif
