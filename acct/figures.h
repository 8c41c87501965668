/*
 * One task's line of the final accounting table: sampled, exact and true CPU time, the errors
 * of the two methods against the true figure, and whether the sampled share lies inside the
 * 99 % binomial interval of the true one.  Pure arithmetic, tested on the host
 * (tests/unit/test_figures.c); acct_report.c prints it.
 *
 * Times.  sampled = ticks x period; exact = TSC cycles the task owned the CPU (acct.h);
 * stolen = the part of exact its busy loop saw it not run (steal.h); true = exact - stolen.
 *
 * Shares.  n ticks were sampled.  Each fell on the task the tick interrupted, so with no
 * stolen time a task that truly ran for t gets t / B of them on average, where B is the time
 * the ticks stand for: n periods, less the time spent in interrupt handlers (a tick never
 * samples a handler: it waits for it to end).  With stolen time and a device that catches up,
 * n periods include the stolen time too, and the catch-up ticks land on whoever runs: a task's
 * sampled share then exceeds its true share t / B by about its part of the stolen time, which
 * is what a sponge is for.  With a device that loses the missed ticks, n shrinks with the
 * stolen time and B with it, and sampling stays fair.  The check is the binomial one: the
 * sampled share ticks / n inside the 99 % interval that n samples allow around r / B, where r
 * is the task's exact time less only the stolen time in gaps of a tick period or more: a
 * shorter gap only delays a tick, which then charges the whole period to the task it finds,
 * stolen part included, sponge or not (steal.h).  r is true time plus those short gaps.
 */
#ifndef TICKGUEST_FIGURES_H
#define TICKGUEST_FIGURES_H

#include <stdbool.h>
#include <stdint.h>
#include "acct/stats.h"

struct acct_inputs {
	uint64_t ticks;                 /* sampled to the task */
	uint64_t exact_cycles;
	uint64_t stolen_cycles;
	uint64_t stolen_long_cycles;    /* of those, in gaps of a tick period or more */
};

struct acct_row {
	int64_t sampled_ns, exact_ns, stolen_ns, true_ns;
	int64_t sampled_err_ns;         /* sampled - true */
	int64_t exact_err_ns;           /* exact - true: the stolen time exact measurement keeps */
	int64_t sampling_ref_ns;        /* exact - stolen in long gaps: what sampling can see */
	int64_t sampled_ppm, true_ppm;  /* shares: ticks / n, true / base */
	int64_t ref_ppm;                /* sampling_ref / base */
	struct binom_interval interval; /* around ref_ppm, for n samples */
	bool inside;
	int64_t w_corrected_ns;         /* sampled x w, when w was given (else 0) */
};

/*
 * base_ns: the time n ticks stand for, n x period - interrupt time (acct_base_ns);
 * w_ppm: the correction factor w in ppm, 0 when not given.
 */
uint64_t acct_base_ns(uint64_t n, uint64_t period_ps, uint64_t irq_ns);
void acct_row_compute(const struct acct_inputs *in, uint64_t n, uint64_t period_ps,
		      uint64_t base_ns, uint64_t tsc_hz, uint32_t w_ppm, struct acct_row *out);

#endif
