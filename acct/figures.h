/*
 * The arithmetic of the accounting report: one task's line (its time by each method, each
 * method's error against true time, whether each lies inside the 99 % binomial interval) and
 * the figure tickguest exists for, the share of all stolen time a method charged to the
 * workload.  Pure, tested on the host (tests/unit/test_figures.c); acct_report.c prints it.
 *
 * Times.  exact = TSC cycles the task owned the CPU (acct.h); stolen = the part of exact its
 * busy loop saw it not run (steal.h); true = exact - stolen, everywhere the word is used.
 * The methods: sampled = ticks x period (plain sampling: a sponge, when there is one, has
 * already taken the catch-up ticks it could); steal-aware = the ticks that interrupted the task
 * less the steal taken off them (steal.h); exact = exact, which keeps every stolen cycle.
 *
 * Shares.  n ticks were sampled.  They span n periods, less the periods of extra ticks, which
 * stand for no time (tick time ran further ahead of the reference with each: acct/steal.h),
 * and they stand for B = that span less the time spent in interrupt handlers (a tick never
 * samples a handler: it waits for it to end).  A task's true share is true / B; plain
 * sampling's share is ticks / n, steal-aware sampling's is its time / the span.
 * With no stolen time, a task that truly ran for t gets t / B of the ticks on average, and n
 * samples put its share within the 99 % binomial interval around t / B.  Stolen time that a
 * method charges to the task pushes its share above that, by the stolen share it was charged.
 *
 * The interval is for sampling error alone, so the check widens it by an allowance for stolen
 * time no probe can see, and says how much (acct_report.c derives it).  Steal-aware sampling's
 * charge per tick lies between 0 and a period, so its spread is no wider than plain
 * sampling's (a variable in [0, 1] with mean m has variance at most m(1 - m)): the same
 * interval holds it.
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
	uint64_t aware_ticks;           /* charged to it by steal-aware sampling */
	uint64_t taken_cycles;          /* which took this off them */
};

/* The run's figures every row is computed against. */
struct acct_run {
	uint64_t n;                     /* ticks sampled */
	uint64_t period_ps;
	uint64_t extra_ns;              /* the periods of extra ticks */
	uint64_t base_ns;               /* acct_base_ns() */
	uint64_t tsc_hz;
	int64_t allowance_ns;           /* what the probes cannot see (acct_report.c) */
	int64_t owed_ran_ns;            /* owed periods the vCPU ran: steal.h owed_ran */
	uint32_t w_ppm;                 /* the correction factor w in ppm, 0 when not given */
};

struct acct_row {
	int64_t exact_ns, stolen_ns, true_ns;
	int64_t sampled_ns, steal_aware_ns;
	int64_t sampled_err_ns, steal_aware_err_ns, exact_err_ns;      /* method - true */
	int64_t true_ppm;               /* true / base */
	int64_t sampled_ppm;            /* ticks / n */
	int64_t steal_aware_ppm;        /* steal-aware / n periods */
	struct binom_interval interval; /* around true_ppm, for n samples */
	int64_t allowance_ppm;          /* the allowance, as a share of base */
	int64_t owed_ran_ppm;           /* owed_ran_ns, as a share of base */
	bool sampled_inside, steal_aware_inside;        /* within interval + allowance */
	int64_t w_corrected_ns;         /* sampled x w, when w was given (else 0) */
};

/* The time n ticks span: n periods less those of the extra ticks among them. */
uint64_t acct_span_ns(const struct acct_run *run);
/* The time they stand for: the span less interrupt time (fills in nothing; call with base_ns
 * still to be set, and set it from the result). */
uint64_t acct_base_ns(const struct acct_run *run, uint64_t irq_ns);
void acct_row_compute(const struct acct_inputs *in, const struct acct_run *run,
		      struct acct_row *out);

/*
 * How much of the stolen time a method charged to the workload tasks (all but the sponge,
 * the console and idle), from their totals: charged by the method, and true.  A sampled
 * charge is a share of n periods and true time a share of B, so the excess is taken between
 * shares (charged / n periods - true / B) and given in ns of B; exact time is not sampled and
 * is compared as it is.
 *
 * The bound is the sampling error of the workload's total, plus the allowance.  Stolen time
 * does not make that total random: every tick charges its period less what was taken off it,
 * whichever workload task it lands on.  What is random is how many ticks land on the sponge or
 * the idle task instead, each with the chance of that task's share of the time the ticks
 * sample (exact time, stolen time in it included): so the interval is the 99 % binomial one of
 * the workload's share of exact time, workload_ppm.  With spinners alone it is a half tick.
 * (What a tick on the sponge or idle takes off lies between nothing and its period, so its
 * spread is no wider than a whole tick's.)  A share is judged only when the stolen time is more
 * than the bound: with less, no share of it can be told from sampling error.
 *
 * One figure widens the bound on one side only: the owed periods the vCPU ran
 * (run->owed_ran_ns, steal.h).  The workload's true time holds them, and their ticks came
 * late, on whoever ran then (the sponge, if it ran), or never: a sampled charge can fall short
 * of true time by up to all of them, and never goes over it for their sake.  A single task's
 * share can be off by them either way (the sponge gains what the workload loses), so
 * acct_row_compute widens both sides of a task's interval by them.
 */
struct steal_share {
	int64_t excess_ns;              /* charged - true */
	int64_t share_ppm;              /* excess / stolen */
	int64_t interval_ns;            /* sampling error, 99 % */
	int64_t bound_ns;               /* interval + allowance */
	int64_t bound_ppm;              /* bound / stolen */
	bool judged;                    /* stolen > bound */
	bool inside;                    /* -(bound + owed_ran) <= excess <= bound */
};
void acct_steal_share(int64_t charged_ns, int64_t true_ns, int64_t stolen_ns, bool sampled,
		      int64_t workload_ppm, const struct acct_run *run, struct steal_share *out);

#endif
