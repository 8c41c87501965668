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
	p->events_long += gap >= long_gap;
	if (gap > p->longest)
		p->longest = gap;
	return gap;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t steal_ledger_tick(struct steal_ledger *l, uint64_t seen_total,
			   const struct steal_tick *t)
{
	/* owed * period cannot overflow: owed counts ticks of a run of hours at most */
	uint64_t room = t->owed * l->period, fresh, after, avail, take, keep;

	keep = min_u64(l->reserved, t->lost * l->period);
	l->reserved -= keep;
	l->dropped += keep;
	if (l->reserved > room) {               /* the backlog was paid down: release */
		l->carry += l->reserved - room;
		l->reserved = room;
	}
	fresh = seen_total - l->seen;
	l->seen = seen_total;
	after = min_u64(fresh, t->late);
	avail = l->carry + fresh - after;
	if (t->extra) {
		/* no time of the reference behind it; the steal seen waits for a real tick */
		l->carry = avail + after;
		l->extra += l->period;
		return l->period;
	}
	take = min_u64(avail, l->period);
	keep = min_u64(after, room - l->reserved);
	l->reserved += keep;
	l->carry = avail - take + after - keep;
	if (room - l->reserved > l->unexplained)
		l->owed_ran += room - l->reserved - l->unexplained;
	l->unexplained = room - l->reserved;
	if (l->reserved > l->reserved_max)
		l->reserved_max = l->reserved;
	l->taken += take;
	return take;
}
