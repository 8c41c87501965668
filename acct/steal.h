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
 * The threshold (STEAL_THRESHOLD_US) sits between the two populations.  Below it: the loop's own
 * iteration (under 1 us even under TCG), and TCG leaving its translated code to service a
 * request from QEMU's main loop (a few us).  Above it: the host scheduler giving the vCPU
 * thread's CPU to another process (a time slice, 0.75 ms and up with Linux's CFS) and
 * SIGSTOP-style pauses (hundreds of ms).  100 us is 10x the largest sub-threshold gap seen on
 * a busy two-core TCG host and 1/7 of the shortest CFS slice; every report shows the largest
 * gap that stayed under it (noise_max), so the margin is checked on each run rather than
 * assumed.  A gap under the threshold is not counted: the figure is a lower bound, short by at
 * most one threshold per gap missed.
 *
 * Pure arithmetic, tested on the host (tests/unit/test_steal.c).
 */
#ifndef TICKGUEST_STEAL_H
#define TICKGUEST_STEAL_H

#include <stdbool.h>
#include <stdint.h>

#define STEAL_THRESHOLD_US      100

struct steal_probe {
	bool primed;
	uint64_t last_own;      /* the task's exact cycles at the previous probe */
	uint64_t probes;
	uint64_t stolen;        /* cycles in gaps over the threshold */
	uint64_t events;        /* such gaps */
	uint64_t longest;       /* the longest of them */
	uint64_t noise_max;     /* the longest gap under the threshold */
};

/*
 * One probe; own is the task's exact CPU time now, in cycles (never decreasing), threshold in
 * cycles.  Returns the cycles counted as stolen by this probe (0 for most).
 */
uint64_t steal_observe(struct steal_probe *p, uint64_t own, uint64_t threshold);

#endif
