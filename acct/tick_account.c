/* The tick's accounting decision; see tick_account.h for what it covers and why here. */
#include "acct/tick_account.h"
#include "acct/stats.h"

#define NS_PER_S 1000000000ull

void tick_account_init(struct tick_account *ta, uint64_t tsc_hz, uint64_t period_cycles,
		       struct acct *catchup_sink)
{
	*ta = (struct tick_account){ .tsc_hz = tsc_hz, .catchup_sink = catchup_sink };
	ta->ledger.period = period_cycles;
}

struct tick_verdict account_process_tick(struct tick_account *ta, const struct tickclock *c,
					 enum tick_kind kind, struct acct *interrupted,
					 uint64_t stolen_seen)
{
	struct tick_verdict v = {
		.catchup = kind == TICK_KIND_CATCHUP, .owed = tickclock_owed(c),
		.lost = c->lost > ta->lost_seen ? c->lost - ta->lost_seen : 0,
		.late_ns = tickclock_late_ns(c),
		/* Further ahead than ever: a tick that merely pays back one that came late while
		 * tick time was ahead (two bunched by a loaded host) goes no further. */
		.extra = c->owed < ta->owed_min,
	};
	struct steal_tick st;
	uint64_t taken;

	/* Classified at every tick, in the run or not: a tick outside it still moves the
	 * clock, and the next tick's verdict is against where this one left it. */
	ta->lost_seen = c->lost;
	if (c->owed < ta->owed_min)
		ta->owed_min = c->owed;
	if (!interrupted)
		return v;

	st = (struct steal_tick){
		.owed = v.owed, .lost = v.lost, .extra = v.extra,
		.late = muldiv64(v.late_ns, ta->tsc_hz, NS_PER_S),
	};
	taken = steal_ledger_tick(&ta->ledger, stolen_seen, &st);
	/*
	 * A gap that ends while a task that never probes has the CPU (the idle task halting)
	 * leaves ticks owed that no probe can have seen stolen: steal-aware sampling's blind
	 * spot.  Only the growth of the backlog is new; what stands was counted when it grew.
	 */
	if (!interrupted->steal.primed && v.owed > ta->owed)
		ta->unseen_owed += v.owed - ta->owed;
	if (v.catchup && ta->owed == 0)
		ta->catchup_unowed++;
	ta->owed = v.owed;
	/*
	 * Plain sampling charges the task the tick interrupted, except that sponge=charge sends
	 * a catch-up tick to the sponge.  Steal-aware sampling always charges the interrupted
	 * task, less the steal: it needs no sponge, since the stolen periods a catch-up tick
	 * stands for are taken off it, and what is left of a burst of catch-up ticks is time the
	 * interrupted task really ran while they came.
	 */
	acct_tick(v.catchup && ta->catchup_sink ? ta->catchup_sink : interrupted, v.catchup);
	acct_aware_tick(interrupted, taken);
	return v;
}
