/*
 * The accounting table: every task's figures and the run's, computed once after the run from
 * the tasks' accounting, the steal ledger and the probes (the arithmetic is acct/figures.h),
 * and the lines that show them.  The checks (acct_report.c) judge these same figures, so that
 * what the table says and what the checks hold a method to cannot drift apart.
 */
#ifndef TICKGUEST_ACCT_TABLE_H
#define TICKGUEST_ACCT_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include "acct/figures.h"
#include "sched/sched.h"

/* The sampling methods, as the checks name them. */
enum method { PLAIN, STEAL_AWARE, SAMPLING_METHODS };

struct acct_table {
	struct acct_row rows[SCHED_MAX_TASKS];  /* sched_task(i)'s line is rows[i] */
	struct acct_run run;
	uint64_t irq_ns;
	int64_t untaken_ns;             /* left in the ledger at the end */
	int64_t woken_ns;               /* the console task's exact time (acct_table.c) */
	int64_t stolen_ns;              /* all the probes saw */
	/* The stolen time each method is known not to remove (acct_report.c says why), and its
	 * parts: steal in gaps shorter than a tick, gaps of a tick or more, catch-up ticks not on
	 * a sponge, extra ticks. */
	int64_t blind_ns[SAMPLING_METHODS];
	int64_t short_gaps_ns, extra_ns;
	uint64_t long_gaps, catchup_off_sponge;
};

/* After the run, once: every figure.  w_ppm is the correction factor w, 0 when not given. */
const struct acct_table *acct_table_compute(uint32_t w_ppm);
/* The accounting and steal-aware sampling summary lines, then the table, one line a task. */
void acct_table_print(const struct acct_table *t);

/* A tick period, in ns. */
static inline uint64_t acct_table_period_ns(const struct acct_table *t)
{
	return t->run.period_ps / 1000;
}

/* A time in ns as ms with three decimals, in buf. */
const char *acct_ms(char *buf, size_t n, int64_t ns);

#endif
