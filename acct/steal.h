/*
 * Stolen time seen from inside the guest, without help from the hypervisor.
 *
 * A busy loop (a spinner, the sponge, the idle loop with idle=poll) probes once an iteration:
 * it reads its task's exact CPU time (acct.h), which grows with the TSC while the task owns
 * the CPU and stops while an interrupt handler or another task has it.  Between two probes it
 * grows by one iteration, a fraction of a microsecond.  A growth far larger than that is time
 * the task owned the CPU and did not run: the vCPU was descheduled.  No interrupt explains it,
 * since interrupt handling is charged to the interrupt bucket, not to the task; a pause that
 * ends in an interrupt (the usual way: a tick is pending on resume) is charged to the task up
 * to the handler's entry, so it is seen all the same.
 *
 * The threshold (STEAL_THRESHOLD_US) sits between the populations.  Measured on QEMU 7.2 TCG on
 * a two-core host, two busy tasks for 10 s (probe_gaps_by_decade in the report): 23.7 million
 * gaps under 10 us (the iteration), about 5000 from 10 to 100 us (TCG leaving translated code to
 * let QEMU's main loop take its lock, some 340 a second, 1 % of the time together), 23 from
 * 100 us to 1 ms, none longer; with the host loaded by three busy loops, the same shape with a
 * few more over 100 us; and every 300 ms SIGSTOP pause one gap of its own length.  So 100 us
 * keeps TCG's own stalls out, and catches the host scheduler giving the vCPU thread's CPU away
 * (Linux's CFS grants at least 0.75 ms) and every pause.  A gap under the threshold is not
 * counted: the figure is a lower bound, and the report gives every run's gap decades and the
 * longest uncounted gap (noise_max), so the margin is shown each time, not assumed.
 *
 * Pure arithmetic, tested on the host (tests/unit/test_steal.c).
 */
#ifndef TICKGUEST_STEAL_H
#define TICKGUEST_STEAL_H

#include <stdbool.h>
#include <stdint.h>

#define STEAL_THRESHOLD_US      100
#define STEAL_DECADES           5

struct steal_probe {
	bool primed;            /* probed once: a busy loop owns this probe */
	uint64_t last_own;      /* the task's exact cycles at the previous probe */
	uint64_t probes;
	uint64_t stolen;        /* cycles in gaps over the threshold */
	uint64_t stolen_long;   /* of those, in gaps of long_gap or more (a tick period) */
	uint64_t events;        /* such gaps */
	uint64_t events_long;   /* of those, a tick period or more */
	uint64_t longest;       /* the longest of them */
	uint64_t noise_max;     /* the longest gap under the threshold */
	/* Every gap by size against the threshold T: < T/10, < T, < 10 T, < 100 T, more. */
	uint64_t decades[STEAL_DECADES];
};

/*
 * One probe; own is the task's exact CPU time now, in cycles (never decreasing); threshold and
 * long_gap in cycles.  Returns the cycles counted as stolen by this probe (0 for most).
 *
 * Gaps of a tick period or more are kept apart (stolen_long): only they can leave the tick
 * clock a period behind and bring catch-up ticks, which a sponge can take.  A shorter gap
 * delays a tick by less than a period; the tick then charges the whole period to the task it
 * interrupts, stolen part included, whatever a sponge does.
 */
uint64_t steal_observe(struct steal_probe *p, uint64_t own, uint64_t threshold,
		       uint64_t long_gap);

/*
 * Steal-aware sampling: the tick charges its period less the stolen time it stands for, the
 * way Linux's account_process_tick() takes steal off a tick before charging the rest, but with
 * the steal the probes saw instead of a hypervisor's steal clock.
 *
 * A tick stands for the period that ends at its due time.  A gap usually ends in the tick that
 * was pending through it (sched_irq_enter probes for it), so the steal the probes saw since
 * the previous tick is known at the tick, and the tick clock (lib/tickclock.h) says where
 * it belongs:
 *
 *   before the due time   This tick's own period: taken off it, up to the period, so the tick
 *                         charges the task it finds only for the part of its period that
 *                         really ran.  (Seen at the tick, the gap ended there: the part of it
 *                         that lies before the due time is all of it but the lateness.)
 *   after it, owed        The periods after this tick's own.  A gap of several periods leaves
 *                         the device owing ticks; a device that catches up delivers them
 *                         later, and each stands for a stolen period, so that steal is
 *                         reserved for them, up to owed periods.  Only ticks that pay the
 *                         backlog (owed shrinks) release it, a period each; ticks that merely
 *                         keep the device's schedule while owed stands (a device that does
 *                         not catch up) really ran, and take none of it.
 *   after it, the rest    Part of the next period (a tick late by less than a period is not
 *                         owed): carried to the next tick.
 *   lost                  When the clock judges owed ticks lost (the device merged them),
 *                         they will never come: their periods were never sampled, so their
 *                         steal was never charged to anyone.  It is dropped from the reserve,
 *                         not carried onto the ticks after, which really ran.
 *   owed, unexplained     An owed period with no steal reserved for it is one the vCPU ran
 *                         with no tick coming: the device's own timer fell behind while the
 *                         vCPU went on (QEMU runs its timers in its main loop thread, which a
 *                         loaded host can starve apart from the vCPU thread).  Its tick comes
 *                         late, as a catch-up tick on whoever runs then (the sponge, if one
 *                         runs), or never, if the device merged it.  Either way the tasks that
 *                         ran it are charged less than they ran, by up to all of it: owed_ran
 *                         counts it, each time the owed periods no steal explains grow.
 *
 * So stolen time is taken once: by the tick whose period it fell in, by the catch-up tick that
 * pays it back, or not at all when the device dropped the tick.  A tick never charges less
 * than zero; what it cannot take (more steal than a period) is carried.
 *
 * One more kind of tick stands for no time the task ran: one that puts tick time further
 * ahead of the reference than it has ever been (an extra tick).  QEMU's RTC does that after a QMP stop, which
 * freezes the TSC but not the host clock the RTC counts: it delivers the ticks of the stop
 * afterwards, for time that by the TSC never passed.  A tick judged lost and compensated for
 * that comes after all is another: its period's steal was dropped with it.  The whole period
 * of an extra tick is taken off (counted apart, as `extra`, since it is no stolen time).
 *
 * Cycles throughout; pure arithmetic, tested on the host (tests/unit/test_steal.c).
 */
struct steal_ledger {
	uint64_t period;        /* a tick period, in TSC cycles */
	uint64_t extra;         /* taken off as extra ticks: whole periods */
	uint64_t seen;          /* the probes' stolen total at the latest tick */
	uint64_t reserved;      /* for owed ticks, at most owed periods */
	uint64_t carry;         /* for the next tick */
	uint64_t taken;         /* taken off ticks so far */
	uint64_t dropped;       /* dropped with ticks judged lost */
	uint64_t owed_ran;      /* owed periods no steal explains, summed as they grew */
	uint64_t unexplained;   /* owed periods now without steal reserved: room - reserved */
	uint64_t reserved_max;  /* the most ever reserved */
};

/*
 * What the tick clock made of a tick: its backlog after it (owed, in ticks), the ticks it
 * judged lost at it, how long after its due time it came (late, cycles), and whether it was
 * an extra one.
 */
struct steal_tick {
	uint64_t owed, lost, late;
	bool extra;
};

/*
 * One tick.  seen_total: all the stolen cycles the probes have seen so far (never decreasing).
 * Returns the cycles taken off this tick: it charges period - that to its task.
 */
uint64_t steal_ledger_tick(struct steal_ledger *l, uint64_t seen_total,
			   const struct steal_tick *t);

/* Seen, and neither taken nor dropped yet. */
static inline uint64_t steal_ledger_untaken(const struct steal_ledger *l)
{
	return l->reserved + l->carry;
}

#endif
