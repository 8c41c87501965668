#ifndef TICKGUEST_ACPI_PMTIMER_H
#define TICKGUEST_ACPI_PMTIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kernel/tick.h"

#define PM_TMR_HZ 3579545u      /* 14.31818 MHz / 4, fixed by the ACPI specification */

/*
 * Find the PM timer through the FADT and check that it counts.  On false, *why says what is
 * missing.  Sets pmtimer_refclock.width to 24 or 32 (the FADT's TMR_VAL_EXT flag).
 */
bool pmtimer_init(const char **why);

/* One line for the banner: port, width, wrap period. */
void pmtimer_describe(char *buf, size_t len);

/*
 * The PM timer as a reference clock.  A 24-bit timer wraps every 4.69 s and a 32-bit one every
 * 20 min: read it through refclock_read() at least that often, or wraps go uncounted.
 */
extern struct refclock pmtimer_refclock;

#endif
