#ifndef TICKGUEST_PIT8254_H
#define TICKGUEST_PIT8254_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/tick.h"

#define PIT_HZ 1193182u         /* 14.31818 MHz / 12, the PC's PIT input clock */

extern const struct tick_source pit_tick_source;

/* Channel 0's current count (counter latch command): counts left until the next reload. */
uint16_t pit_ch0_count(void);
/* The divisor channel 0 was programmed with (65536 for 0). */
uint32_t pit_ch0_divisor(void);

/*
 * Count `counts` PIT input clocks on channel 2 and measure them with the TSC.  Returns false
 * if channel 2's output never went high (no PIT).  *tsc_delta may be longer than the window by
 * up to *uncertainty cycles: the widths of the TSC brackets around its start and its end.
 */
bool pit_ch2_measure_tsc(uint16_t counts, uint64_t *tsc_delta, uint64_t *uncertainty);

#endif
