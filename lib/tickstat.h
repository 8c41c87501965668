/*
 * Classifying the interval between two ticks against the programmed period.  Pure arithmetic,
 * tested on the host; the tick interrupt feeds it one interval per tick.
 *
 * An interval within half a period of nominal is "on time".  A longer one is a gap: the device
 * merged or dropped ticks (or the vCPU did not run); a shorter one means ticks bunched up.  The
 * mean of the on-time intervals estimates the device's real period without being dragged by
 * the occasional gap, which is what the rate check needs on a loaded host.
 */
#ifndef TICKGUEST_TICKSTAT_H
#define TICKGUEST_TICKSTAT_H

#include <stdint.h>

enum tick_class {
	TICK_ON_TIME,
	TICK_GAP,       /* > 1.5 periods since the previous tick */
	TICK_SHORT,     /* < 0.5 periods since the previous tick */
};

struct tick_stats {
	uint64_t intervals;
	uint64_t on_time;
	uint64_t on_time_sum;           /* summed on-time intervals, in reference counts */
	uint64_t gaps;
	uint64_t gap_periods;           /* periods missing in the gaps, rounded */
	uint64_t shorts;
	uint64_t min, max;              /* shortest and longest interval */
};

enum tick_class tick_classify(uint64_t interval, uint64_t period);
void tick_stats_add(struct tick_stats *st, uint64_t interval, uint64_t period);

#endif
