/*
 * The accounting table at the end of a run; see acct_table.h.
 *
 * Every task gets a line of figures (acct/figures.h): its time by plain sampling, by
 * steal-aware sampling and exactly, the stolen time its probes saw, its true time (exact less
 * stolen), and each method's error against true.  Above it, one line on the run (ticks,
 * exact, interrupt and stolen time, what the ticks stand for) and one on the steal ledger.
 */
#include "acct/acct_table.h"
#include "acct/stats.h"
#include "lib/format.h"
#include "kernel/report.h"
#include "kernel/tick.h"

#define NS_PER_US 1000
#define PS_PER_NS 1000

static struct acct_table tab;

const char *acct_ms(char *buf, size_t n, int64_t ns)
{
	return fmt_fixed(buf, n, ns / NS_PER_US, 3);
}

const struct acct_table *acct_table_compute(uint32_t w_ppm)
{
	const struct steal_ledger *l = &tick_state()->acct.ledger;
	const uint64_t tsc_hz = sched_tsc_hz();
	uint64_t n = 0, stolen = 0, stolen_long = 0, catchup = 0;
	struct acct_table *t = &tab;

	for (unsigned i = 0; i < sched_ntasks(); i++) {
		const struct task *task = sched_task(i);

		n += task->acct.ticks;
		stolen += task->acct.steal.stolen;
		stolen_long += task->acct.steal.stolen_long;
		t->long_gaps += task->acct.steal.events_long;
		if (task != sched_sponge())
			catchup += task->acct.catchup_ticks;
	}
	t->irq_ns = cycles_to_ns(acct_irq_cycles(), tsc_hz);
	/*
	 * The console task runs when a tick has queued a line and blocks again, almost always
	 * before the next tick: a tick seldom finds it (in eight loaded runs, never), so its time
	 * is charged to whichever task the next tick finds, up to all of it.  A one-sided bias
	 * the binomial interval does not hold; allowed for whole.
	 */
	if (sched_console())
		t->woken_ns = (int64_t)cycles_to_ns(sched_console()->acct.cycles, tsc_hz);
	t->untaken_ns = (int64_t)cycles_to_ns(steal_ledger_untaken(l), tsc_hz);
	t->stolen_ns = (int64_t)cycles_to_ns(stolen, tsc_hz);
	t->short_gaps_ns = (int64_t)cycles_to_ns(stolen - stolen_long, tsc_hz);
	t->catchup_off_sponge = catchup;
	t->extra_ns = (int64_t)cycles_to_ns(l->extra, tsc_hz);
	t->run = (struct acct_run){
		.n = n, .period_ps = tick_state()->period_ps, .tsc_hz = tsc_hz, .w_ppm = w_ppm,
		.extra_ns = (uint64_t)t->extra_ns,
		.allowance_ns = (int64_t)t->irq_ns + t->untaken_ns + t->woken_ns +
				(int64_t)(tick_state()->period_ps / PS_PER_NS),
		.owed_ran_ns = (int64_t)cycles_to_ns(l->owed_ran, tsc_hz),
	};
	t->run.base_ns = acct_base_ns(&t->run, t->irq_ns);
	t->blind_ns[PLAIN] = t->short_gaps_ns +
			     (int64_t)((t->long_gaps + catchup) * acct_table_period_ns(t)) +
			     t->extra_ns;
	t->blind_ns[STEAL_AWARE] = (int64_t)(tick_state()->acct.unseen_owed *
					     acct_table_period_ns(t));
	for (unsigned i = 0; i < sched_ntasks(); i++) {
		const struct acct *a = &sched_task(i)->acct;
		struct acct_inputs in = { a->ticks, a->cycles, a->steal.stolen, a->aware_ticks,
					  a->taken };

		acct_row_compute(&in, &t->run, &t->rows[i]);
	}
	return t;
}

/* What the run was, and what became of the steal the probes saw. */
static void summary(const struct acct_table *t)
{
	const uint64_t tsc_hz = sched_tsc_hz();
	const struct steal_ledger *l = &tick_state()->acct.ledger;
	uint64_t cycles = 0, gaps = sched_steal_gaps();
	char b[6][24];

	for (unsigned i = 0; i < sched_ntasks(); i++)
		cycles += sched_task(i)->acct.cycles;
	report_note("accounting: %llu ticks sampled, %llu ms exact in tasks, %llu ms in interrupts, "
		    "%llu ms stolen seen in %llu gaps (probe threshold %u us); ticks stand for %s ms",
		    (unsigned long long)t->run.n,
		    (unsigned long long)cycles_to_us(cycles, tsc_hz) / 1000,
		    (unsigned long long)t->irq_ns / 1000000,
		    (unsigned long long)cycles_to_us(sched_stolen_cycles(), tsc_hz) / 1000,
		    (unsigned long long)gaps, STEAL_THRESHOLD_US,
		    acct_ms(b[0], sizeof(b[0]), (int64_t)t->run.base_ns));
	report_note("steal-aware sampling: %s ms of steal taken off ticks, %s ms dropped with lost "
		    "ticks, %s ms left untaken; %s ms of ticks owed after gaps no probe could see; "
		    "%s ms of extra ticks taken off whole; %s ms of owed periods the vCPU ran (no steal seen for them)",
		    acct_ms(b[0], sizeof(b[0]), (int64_t)cycles_to_ns(l->taken, tsc_hz)),
		    acct_ms(b[1], sizeof(b[1]), (int64_t)cycles_to_ns(l->dropped, tsc_hz)),
		    acct_ms(b[2], sizeof(b[2]), t->untaken_ns),
		    acct_ms(b[3], sizeof(b[3]), t->blind_ns[STEAL_AWARE]),
		    acct_ms(b[4], sizeof(b[4]), t->extra_ns),
		    acct_ms(b[5], sizeof(b[5]), t->run.owed_ran_ns));
}

/* The table, one line a task, for people; the YAML of the checks has the same figures. */
void acct_table_print(const struct acct_table *t)
{
	char c[8][24];

	summary(t);
	report_note("%-8s %7s %7s %11s %14s %11s %11s %11s %11s %12s %12s", "task", "ticks",
		    "catchup", "sampled_ms", "steal_aware_ms", "exact_ms", "stolen_ms", "true_ms",
		    "samp_err_ms", "aware_err_ms", "exact_err_ms");
	for (unsigned i = 0; i < sched_ntasks(); i++) {
		const struct task *task = sched_task(i);
		const struct acct_row *r = &t->rows[i];

		report_note("%-8s %7llu %7llu %11s %14s %11s %11s %11s %11s %12s %12s", task->name,
			    (unsigned long long)task->acct.ticks,
			    (unsigned long long)task->acct.catchup_ticks,
			    acct_ms(c[0], sizeof(c[0]), r->sampled_ns),
			    acct_ms(c[1], sizeof(c[1]), r->steal_aware_ns),
			    acct_ms(c[2], sizeof(c[2]), r->exact_ns),
			    acct_ms(c[3], sizeof(c[3]), r->stolen_ns),
			    acct_ms(c[4], sizeof(c[4]), r->true_ns),
			    acct_ms(c[5], sizeof(c[5]), r->sampled_err_ns),
			    acct_ms(c[6], sizeof(c[6]), r->steal_aware_err_ns),
			    acct_ms(c[7], sizeof(c[7]), r->exact_err_ns));
	}
}
