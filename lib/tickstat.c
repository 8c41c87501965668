/* Tick interval classification; see tickstat.h for the rules and why. */
#include "lib/tickstat.h"

enum tick_class tick_classify(uint64_t interval, uint64_t period)
{
	/* Compare 2 * interval with period and 3 * period to keep the halves exact. */
	if (2 * interval > 3 * period)
		return TICK_GAP;
	if (2 * interval < period)
		return TICK_SHORT;
	return TICK_ON_TIME;
}

void tick_stats_add(struct tick_stats *st, uint64_t interval, uint64_t period)
{
	if (st->intervals == 0 || interval < st->min)
		st->min = interval;
	if (interval > st->max)
		st->max = interval;
	st->intervals++;

	switch (tick_classify(interval, period)) {
	case TICK_ON_TIME:
		st->on_time++;
		st->on_time_sum += interval;
		break;
	case TICK_GAP:
		st->gaps++;
		/* a gap of k periods (rounded) hides k - 1 ticks */
		st->gap_periods += (interval + period / 2) / period - 1;
		break;
	case TICK_SHORT:
		st->shorts++;
		break;
	}
}
