/*
 * CPU time accounting, two ways at once.
 *
 * Sampling: every tick charges one tick period to the task it interrupted (acct_tick), the way
 * tick-counting kernels have always done it; steal-aware sampling charges the same tick less
 * the stolen time it stands for (steal.h).  Exact: the TSC is read at every change of owner
 * of the CPU -- a context switch, an interrupt entry, an interrupt exit -- and the cycles since
 * the previous reading go to the previous owner.  Interrupt handlers are an owner of their
 * own, so their time is kept apart from the tasks'.
 */
#ifndef TICKGUEST_ACCT_H
#define TICKGUEST_ACCT_H

#include <stdbool.h>
#include <stdint.h>
#include "acct/steal.h"

struct acct {
	uint64_t ticks;                 /* sampled: ticks charged to this task */
	uint64_t catchup_ticks;         /* of those, catch-up ticks (lib/tickclock.h) */
	uint64_t aware_ticks;           /* steal-aware: ticks charged to it (the interrupted task) */
	uint64_t taken;                 /* steal-aware: cycles taken off those ticks (steal.h) */
	uint64_t cycles;                /* exact: TSC cycles this task owned the CPU */
	uint64_t dispatches;            /* times the scheduler switched to it */
	uint64_t max_run_cycles;        /* longest single stretch on the CPU */
	uint64_t run_start;             /* TSC at the latest dispatch */
	struct steal_probe steal;       /* stolen time its busy loop saw (steal.h) */
};

/* Start measuring; the first owner is `owner`. */
void acct_begin(struct acct *owner, uint64_t now);
/* The CPU now belongs to `owner` (a task, or NULL for interrupt handling). */
void acct_charge_to(struct acct *owner, uint64_t now);
/* A switch from `from` to `to` (NULL: nobody, the run is over): close from's stretch. */
void acct_dispatch(struct acct *from, struct acct *to, uint64_t now);
/* Stop measuring: the cycles since the last change go to the current owner. */
void acct_end(uint64_t now);

/* A tick charged to a by plain sampling. */
static inline void acct_tick(struct acct *a, bool catchup)
{
	a->ticks++;
	a->catchup_ticks += catchup;
}

/* A tick charged to a by steal-aware sampling, which took `taken` cycles off its period. */
static inline void acct_aware_tick(struct acct *a, uint64_t taken)
{
	a->aware_ticks++;
	a->taken += taken;
}

/* Cycles spent in interrupt handlers (and in switches made from them). */
uint64_t acct_irq_cycles(void);
/* Exact cycles of `a` up to now, including the stretch in progress if it owns the CPU. */
uint64_t acct_cycles_now(const struct acct *a, uint64_t now);

#endif
