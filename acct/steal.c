/* Stolen-time probe; see steal.h for the threshold and why. */
#include "acct/steal.h"

/* Which decade of the threshold a gap falls in (steal.h). */
static unsigned decade(uint64_t gap, uint64_t threshold)
{
	unsigned d = 0;
	uint64_t edge = threshold / 10;

	while (d < STEAL_DECADES - 1 && gap >= edge) {
		d++;
		edge *= 10;
	}
	return d;
}

uint64_t steal_observe(struct steal_probe *p, uint64_t own, uint64_t threshold,
		       uint64_t long_gap)
{
	uint64_t gap;

	p->probes++;
	if (!p->primed) {
		p->primed = true;
		p->last_own = own;
		return 0;
	}
	gap = own - p->last_own;
	p->last_own = own;
	p->decades[decade(gap, threshold)]++;
	if (gap <= threshold) {
		if (gap > p->noise_max)
			p->noise_max = gap;
		return 0;
	}
	p->stolen += gap;
	if (gap >= long_gap)
		p->stolen_long += gap;
	p->events++;
	if (gap > p->longest)
		p->longest = gap;
	return gap;
}
