/*
 * The accounting run, in two halves around the device checks.  run_plan() chooses the tick
 * source, the interrupt route and the reference clock from the command line, works out how
 * the source will be programmed, and prints the run's banner lines (irq routing, tick source,
 * tick clock); a choice the platform cannot meet stops the guest there, status 2.  It touches
 * no device, so the device checks after it find the machine as the firmware left it.
 * run_accounting() then applies the plan and runs the workload for duration=.
 */
#ifndef TICKGUEST_RUN_H
#define TICKGUEST_RUN_H

#include <stdbool.h>
#include "kernel/config.h"
#include "kernel/tick.h"
#include "drivers/tsc.h"

struct run_plan {
	const struct tick_source *src;
	struct refclock *ref;
	bool ioapic;            /* the IOAPIC takes over from the 8259s */
	int hpet_gsi;           /* with the HPET as the source: its IOAPIC input, or -1 (legacy) */
};

/* Why a reference clock is absent (NULL when present), as refclocks_init found. */
void run_plan(struct run_plan *p, const struct config *cfg, const char *pmtimer_why,
	      const char *hpet_why);
void run_accounting(const struct run_plan *p, const struct config *cfg,
		    const struct tsc_calibration *cal);

#endif
