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
	bool primed;
	uint64_t last_own;      /* the task's exact cycles at the previous probe */
	uint64_t probes;
	uint64_t stolen;        /* cycles in gaps over the threshold */
	uint64_t stolen_long;   /* of those, in gaps of long_gap or more (a tick period) */
	uint64_t events;        /* such gaps */
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

#endif
