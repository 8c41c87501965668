/*
 * The accounting checks at the end of a run.
 *
 * Sampling: each task's share of the ticks is compared with its share of exact CPU time.  If
 * ticks fell on tasks like independent draws with the exact shares as probabilities, the
 * sampled share would lie inside the 99 % binomial interval around the exact share; a task
 * outside it was charged for time it did not use (or the other way round).
 *
 * Weights: the spinners always want the CPU, so the scheduler alone decides their shares,
 * which must follow their weights.  The scheduler keeps every spinner's cycles/weight within
 * one longest stretch on the CPU of the others (sched.h), which bounds how far a share can be
 * off; the check allows that bound or 1 percentage point, whichever is larger.
 */
#include "acct/acct_report.h"
#include "acct/stats.h"
#include "kernel/report.h"
#include "kernel/tick.h"
#include "sched/sched.h"

#define WEIGHT_TOLERANCE_MIN_PPM 10000  /* 1 percentage point */

/* Shares are kept in ppm; 1 ppm is 0.0001 %, so a share printed with four decimals is a
 * percentage and a difference of shares is in percentage points. */
#define PCT_DECIMALS 4

static void sampling_check(const struct task *t, uint64_t total_ticks, uint64_t total_cycles,
			   uint64_t tsc_hz, uint64_t period_ps)
{
	const struct acct *a = &t->acct;
	int64_t exact = share_ppm(a->cycles, total_cycles);
	int64_t sampled = share_ppm(a->ticks, total_ticks);
	struct binom_interval bi;

	binom_interval99(exact, total_ticks, &bi);
	report_check(sampled >= bi.lo_ppm && sampled <= bi.hi_ppm,
		     "task %s: sampled share inside the 99%% binomial interval of its exact share",
		     t->name);
	report_yaml_begin();
	report_yaml("task", "%s", t->name);
	report_yaml_u64("ticks", a->ticks);
	report_yaml_fixed("sampled_ms", (int64_t)(a->ticks * period_ps / 1000000), 3);
	report_yaml_fixed("exact_ms", (int64_t)cycles_to_us(a->cycles, tsc_hz), 3);
	report_yaml_fixed("sampled_share_pct", sampled, PCT_DECIMALS);
	report_yaml_fixed("exact_share_pct", exact, PCT_DECIMALS);
	report_yaml_fixed("diff_pp", sampled - exact, PCT_DECIMALS);
	report_yaml_fixed("interval_lo_pct", bi.lo_ppm, PCT_DECIMALS);
	report_yaml_fixed("interval_hi_pct", bi.hi_ppm, PCT_DECIMALS);
	report_yaml_u64("dispatches", a->dispatches);
	if (t->spec && t->spec->kind == TASK_DUTY) {
		report_yaml_u64("duty_pct", t->spec->duty_pct);
		report_yaml_u64("periods", t->periods);
		report_yaml_u64("overruns", t->overruns);
	}
	report_yaml_end();
}

static bool is_spinner(const struct task *t)
{
	return t->spec && t->spec->kind == TASK_SPIN;
}

static void weight_checks(uint64_t tsc_hz)
{
	uint64_t cycles = 0, max_run = 0;
	uint32_t weights = 0, min_weight = CONFIG_WEIGHT_MAX;
	unsigned spinners = 0;

	for (unsigned i = 0; i < sched_ntasks(); i++) {
		const struct task *t = sched_task(i);

		if (!is_spinner(t))
			continue;
		spinners++;
		cycles += t->acct.cycles;
		weights += t->weight;
		if (t->weight < min_weight)
			min_weight = t->weight;
		if (t->acct.max_run_cycles > max_run)
			max_run = t->acct.max_run_cycles;
	}
	if (spinners < 2) {
		report_skip("fewer than two spin tasks", "spinners' exact shares follow their weights");
		return;
	}
	for (unsigned i = 0; i < sched_ntasks(); i++) {
		const struct task *t = sched_task(i);
		int64_t expected, exact, bound, tol, err;

		if (!is_spinner(t))
			continue;
		expected = share_ppm(t->weight, weights);
		exact = share_ppm(t->acct.cycles, cycles);
		/* |share - w/W| <= w * (longest stretch / smallest weight) / all spinner cycles */
		bound = share_ppm(t->weight * max_run, (uint64_t)min_weight * cycles);
		tol = bound > WEIGHT_TOLERANCE_MIN_PPM ? bound : WEIGHT_TOLERANCE_MIN_PPM;
		err = exact - expected;
		report_check((err < 0 ? -err : err) <= tol,
			     "spinner %s: exact share of spinner time follows weight %u/%u",
			     t->name, t->weight, weights);
		report_yaml_begin();
		report_yaml("task", "%s", t->name);
		report_yaml_u64("weight", t->weight);
		report_yaml_fixed("expected_pct", expected, PCT_DECIMALS);
		report_yaml_fixed("exact_pct", exact, PCT_DECIMALS);
		report_yaml_fixed("error_pp", err, PCT_DECIMALS);
		report_yaml_fixed("tolerance_pp", tol, PCT_DECIMALS);
		report_yaml_fixed("granularity_bound_pp", bound, PCT_DECIMALS);
		report_yaml_fixed("longest_stretch_ms", (int64_t)cycles_to_us(max_run, tsc_hz), 3);
		report_yaml_end();
	}
}

void acct_report_checks(void)
{
	const uint64_t tsc_hz = sched_tsc_hz();
	const uint64_t period_ps = tick_state()->period_ps;
	uint64_t ticks = 0, cycles = 0;

	for (unsigned i = 0; i < sched_ntasks(); i++) {
		ticks += sched_task(i)->acct.ticks;
		cycles += sched_task(i)->acct.cycles;
	}
	report_note("accounting: %llu ticks sampled, %llu ms exact in tasks, %llu ms in interrupts",
		    (unsigned long long)ticks, (unsigned long long)cycles_to_us(cycles, tsc_hz) / 1000,
		    (unsigned long long)cycles_to_us(acct_irq_cycles(), tsc_hz) / 1000);
	for (unsigned i = 0; i < sched_ntasks(); i++)
		sampling_check(sched_task(i), ticks, cycles, tsc_hz, period_ps);
	weight_checks(tsc_hz);
}
