/*
 * The tick's accounting decision, in one place: the role of Linux's account_process_tick().
 *
 * Every tick, kernel/tick.c feeds the tick clock (lib/tickclock.h) and then hands the
 * clock, what it made of the tick and the task the tick interrupted to
 * account_process_tick(), which decides everything the tick means for CPU time:
 *
 *   classify  what the tick was for the accounting: a catch-up tick, the backlog after it,
 *             the ticks judged lost at it, how late it came, and whether it was an extra
 *             one (tick time further ahead of the reference than ever: acct/steal.h);
 *   steal     the stolen time the tick's period held, from the probes' total, through the
 *             steal ledger (acct/steal.h), which knows which tick each stretch belongs to;
 *   charge    plain sampling: a period to the interrupted task, or to the sponge for a
 *             catch-up tick with sponge=charge; steal-aware sampling: the period less the
 *             steal to the interrupted task (acct.h);
 *   blind     the ticks a gap left owed when it ended while a task that never probes (the
 *             halted idle task) had the CPU: stolen time, if it was stolen, that no probe
 *             can have seen, which steal-aware sampling's checks must allow for.
 *
 * The scheduler is told only what it schedules by (the backlog, for the sponge).  Keeping the
 * decision out of it means one function says what a tick is worth, and the host can test it
 * (tests/unit/test_tick_account.c): pure code on the clock's and the tasks' figures.
 */
#ifndef TICKGUEST_TICK_ACCOUNT_H
#define TICKGUEST_TICK_ACCOUNT_H

#include <stdbool.h>
#include <stdint.h>
#include "acct/acct.h"
#include "lib/tickclock.h"

/* What one tick was, for the accounting. */
struct tick_verdict {
	bool catchup;           /* a catch-up tick */
	uint64_t owed;          /* the backlog after it, in ticks */
	uint64_t lost;          /* ticks judged lost at it */
	uint64_t late_ns;       /* how long after its due time it came, reference time */
	bool extra;             /* it put tick time further ahead of the reference than ever */
};

/* The decision's state over a run: one per tick source (kernel/tick.c keeps it). */
struct tick_account {
	uint64_t tsc_hz;                /* the ledger counts TSC cycles, the clock ns */
	/* sponge=charge: the sponge's, which plain sampling sends every catch-up tick to,
	 * whoever was running; NULL: catch-up ticks are charged like any other */
	struct acct *catchup_sink;
	/* Classification, at every tick: the clock's count of lost ticks after the previous
	 * tick (it can also fall: ticks judged lost that came after all), and the furthest
	 * ahead of the reference tick time has been, in ticks (0 or less). */
	uint64_t lost_seen;
	int64_t owed_min;
	/* Charging, at the ticks of the run only: the backlog after the previous one, and the
	 * ticks owed after gaps no probe could see. */
	uint64_t owed;
	uint64_t unseen_owed;
	/* Catch-up ticks that came when the previous tick had left no tick owed: a tick the
	 * clock had judged lost came after all, paying a backlog already written off.
	 * sponge=run wakes the sponge only for a tick owed, so these are the ones it cannot
	 * take. */
	uint64_t catchup_unowed;
	struct steal_ledger ledger;     /* steal-aware sampling's (acct/steal.h) */
};

/* Before the first tick: period_cycles is a tick period in TSC cycles. */
void tick_account_init(struct tick_account *ta, uint64_t tsc_hz, uint64_t period_cycles,
		       struct acct *catchup_sink);

/*
 * One tick, after tickclock_tick() (kind is what it returned; before the clock's origin,
 * TICK_KIND_ON_TIME).  interrupted: the task the tick interrupted, or NULL outside the run,
 * when the tick is classified and nothing is charged.  stolen_seen: all the stolen cycles the
 * probes have seen so far.  Returns what the tick was.
 */
struct tick_verdict account_process_tick(struct tick_account *ta, const struct tickclock *c,
					 enum tick_kind kind, struct acct *interrupted,
					 uint64_t stolen_seen);

#endif
