/*
 * The accounting checks at the end of a run, on the figures of the table (acct_table.h).
 *
 * Per task, each sampling method is held to the task's true share with the 99 % binomial
 * interval, widened by an allowance for what sampling cannot know and the probes cannot see:
 *   - steal inside interrupt handlers, where no busy loop runs: at most the time spent in them;
 *   - steal the probes saw that no tick came to take before the run ended (left in the ledger);
 *   - one tick period: n ticks stand for n periods, but the first of them closes a stretch of
 *     exact time anywhere from nothing to a period long (the run starts between two ticks).
 * Then, for the workload as a whole (every task but the sponge, the console and idle), the
 * figure tickguest exists for: the share of all stolen time each method charged to it.
 *
 * A method is not always expected to hold, and the report says so instead of judging it by
 * luck.  The interval is for sampling error, and the allowance for what no method can know; a
 * check holds its method to them only when what this run's stolen time is known to do to that
 * method (its blind figure, an upper bound) is within the allowance.  Where it is more, whether
 * the share lands inside the interval depends on which tasks the unseen steal happened to fall
 * on, so the check is not judged: a SKIP whose reason starts "not judged" and gives the blind
 * figure and the allowance, decided before the outcome is known, with the method's figures and
 * where they landed (inside_interval, inside_bound) in its YAML.  Plain sampling cannot remove
 *   - steal in gaps shorter than a tick period (a contended host): the next tick still comes
 *     on time and charges its whole period to the task it finds;
 *   - a period at each long gap: the late tick that ends it lands on whoever ran;
 *   - every catch-up tick not on a sponge;
 *   - every extra tick, which puts tick time ahead of the reference (steal.h).
 * Steal-aware sampling cannot remove the stolen time of a gap no probe saw: one that ended while
 * the idle task halted (acct/tick_account.h counts the ticks such gaps left owed), or fell
 * inside a handler (the allowance).
 *
 * Weights: the spinners always want the CPU, so the scheduler alone decides their shares,
 * which must follow their weights.  The scheduler keeps every spinner's cycles/weight within
 * one longest stretch on the CPU of the others (sched.h), which bounds how far a share can be
 * off; the check allows that bound or 1 percentage point, whichever is larger.
 */
#include "acct/acct_report.h"
#include "acct/acct_table.h"
#include "acct/stats.h"
#include "lib/format.h"
#include "kernel/report.h"
#include "kernel/tick.h"
#include "sched/sched.h"

#define WEIGHT_TOLERANCE_MIN_PPM 10000  /* 1 percentage point */
/* Shares are kept in ppm; 1 ppm is 0.0001 %, so a share printed with four decimals is a
 * percentage and a difference of shares is in percentage points. */
#define PCT_DECIMALS 4
#define NS_PER_US 1000

static uint32_t w_ppm;                  /* acct_report_set_w() */

void acct_report_set_w(uint32_t w)
{
	w_ppm = w;
}

/* The figures the checks judge, computed once (acct_table.c). */
static const struct acct_table *tab;

static bool is_workload(const struct task *t)
{
	return t != sched_sponge() && t != sched_console() && t != sched_idle();
}

static void yaml_ms(const char *key, int64_t ns)
{
	report_yaml_fixed(key, ns / NS_PER_US, 3);
}

static void yaml_pct(const char *key, int64_t ppm)
{
	report_yaml_fixed(key, ppm, PCT_DECIMALS);
}

/* The allowance of every check, and what it is made of. */
static void allowance_yaml(void)
{
	yaml_ms("allowance_ms", tab->run.allowance_ns);
	yaml_ms("allowance_interrupts_ms", (int64_t)tab->irq_ns);
	yaml_ms("allowance_untaken_ms", tab->untaken_ns);
	yaml_ms("allowance_console_ms", tab->woken_ns);
	yaml_ms("allowance_edge_ms", (int64_t)acct_table_period_ns(tab));
	/* the workload's bound below true time, and each task's both ways: figures.h */
	yaml_ms("owed_ran_ms", tab->run.owed_ran_ns);
}

/* What a task's share is held to, in both of its checks. */
static void interval_yaml(const struct acct_row *r)
{
	yaml_pct("true_share_pct", r->true_ppm);
	yaml_pct("interval_lo_pct", r->interval.lo_ppm);
	yaml_pct("interval_hi_pct", r->interval.hi_ppm);
	yaml_pct("allowance_pct", r->allowance_ppm);
	allowance_yaml();
}

/* A task's whole line, with the probe's figures: in its plain sampling check. */
static void row_yaml(const struct task *t, const struct acct_row *r)
{
	const struct acct *a = &t->acct;
	const uint64_t tsc_hz = sched_tsc_hz();

	report_yaml("task", "%s", t->name);
	report_yaml("method", "plain sampling");
	report_yaml_u64("ticks", a->ticks);
	report_yaml_u64("catchup_ticks", a->catchup_ticks);
	yaml_ms("sampled_ms", r->sampled_ns);
	yaml_ms("steal_aware_ms", r->steal_aware_ns);
	yaml_ms("exact_ms", r->exact_ns);
	yaml_ms("stolen_ms", r->stolen_ns);
	yaml_ms("true_ms", r->true_ns);
	yaml_ms("stolen_in_long_gaps_ms", (int64_t)cycles_to_ns(a->steal.stolen_long, tsc_hz));
	yaml_ms("taken_off_ticks_ms", (int64_t)cycles_to_ns(a->taken, tsc_hz));
	yaml_ms("sampled_error_ms", r->sampled_err_ns);
	yaml_ms("steal_aware_error_ms", r->steal_aware_err_ns);
	yaml_ms("exact_error_ms", r->exact_err_ns);
	yaml_pct("sampled_share_pct", r->sampled_ppm);
	yaml_pct("steal_aware_share_pct", r->steal_aware_ppm);
	interval_yaml(r);
	if (w_ppm) {
		yaml_ms("w_corrected_ms", r->w_corrected_ns);
		yaml_ms("w_error_ms", r->w_corrected_ns - r->true_ns);
	}
	report_yaml_u64("steal_events", a->steal.events);
	report_yaml_u64("steal_events_long", a->steal.events_long);
	report_yaml_fixed("steal_longest_ms", (int64_t)cycles_to_us(a->steal.longest, tsc_hz), 3);
	report_yaml_fixed("steal_noise_max_us", (int64_t)cycles_to_ns(a->steal.noise_max, tsc_hz), 3);
	report_yaml("probe_gaps_by_decade", "[%llu, %llu, %llu, %llu, %llu]",
		    (unsigned long long)a->steal.decades[0], (unsigned long long)a->steal.decades[1],
		    (unsigned long long)a->steal.decades[2], (unsigned long long)a->steal.decades[3],
		    (unsigned long long)a->steal.decades[4]);
	report_yaml_u64("dispatches", a->dispatches);
	if (t->spec && t->spec->kind == TASK_DUTY) {
		report_yaml_u64("duty_pct", t->spec->duty_pct);
		report_yaml_u64("periods", t->periods);
		report_yaml_u64("overruns", t->overruns);
	}
}

/* Why the method cannot be judged in this run: what it is known not to remove, when that is more
 * than the allowance; NULL when it is within it, so that the check can hold the method to it. */
static const char *not_judged(enum method m, char *why, size_t n)
{
	char b[4][24];

	if (tab->blind_ns[m] <= tab->run.allowance_ns)
		return 0;
	acct_ms(b[0], sizeof(b[0]), tab->blind_ns[m]);
	acct_ms(b[3], sizeof(b[3]), tab->run.allowance_ns);
	if (m == PLAIN)
		ksnprintf(why, n, "not judged: plain sampling can charge the task a tick finds up to "
			  "%s ms it did not run, more than the allowance of %s ms: %s ms of steal in "
			  "gaps shorter than a tick, a period for each of %llu longer gaps, %llu "
			  "catch-up ticks not on a sponge, %s ms of extra ticks", b[0], b[3],
			  acct_ms(b[1], sizeof(b[1]), tab->short_gaps_ns),
			  (unsigned long long)tab->long_gaps,
			  (unsigned long long)tab->catchup_off_sponge,
			  acct_ms(b[2], sizeof(b[2]), tab->extra_ns));
	else
		ksnprintf(why, n, "not judged: gaps that ended while the idle task halted left %s ms "
			  "of ticks owed, whose stolen time no probe can have seen, more than the "
			  "allowance of %s ms", b[0], b[3]);
	return why;
}

static const char *const method_name[SAMPLING_METHODS] = { "plain sampling",
							   "steal-aware sampling" };

/* A task's share by one method against its true share. */
static void task_check(const struct task *t, enum method m)
{
	const struct acct_row *r = &tab->rows[t - sched_task(0)];
	const char *claim = "task %s: %s charged its true share, within the 99%% binomial interval";
	bool ok = m == PLAIN ? r->sampled_inside : r->steal_aware_inside;
	char why[320];
	const char *skip = not_judged(m, why, sizeof(why));

	if (skip)
		report_skip(skip, claim, t->name, method_name[m]);
	else
		report_check(ok, claim, t->name, method_name[m]);
	report_yaml_begin();
	if (m == PLAIN) {
		row_yaml(t, r);
	} else {
		report_yaml("task", "%s", t->name);
		report_yaml("method", "%s", method_name[m]);
		yaml_ms("steal_aware_ms", r->steal_aware_ns);
		yaml_ms("true_ms", r->true_ns);
		yaml_ms("steal_aware_error_ms", r->steal_aware_err_ns);
		yaml_pct("steal_aware_share_pct", r->steal_aware_ppm);
		interval_yaml(r);
	}
	report_yaml("inside_interval", "%s", ok ? "true" : "false");
	yaml_ms("known_blind_ms", tab->blind_ns[m]);
	report_yaml_end();
}

/* The workload's totals: charged by plain sampling, by steal-aware sampling, exactly; true;
 * and its share of all exact time, which is the chance that a tick lands on it. */
struct workload {
	int64_t charged[SAMPLING_METHODS], exact, true_ns;
	int64_t exact_ppm;
};

static struct workload workload_totals(void)
{
	struct workload w = { { 0, 0 }, 0, 0, 0 };
	int64_t all_exact = 0;

	for (unsigned i = 0; i < sched_ntasks(); i++) {
		all_exact += tab->rows[i].exact_ns;
		if (!is_workload(sched_task(i)))
			continue;
		w.charged[PLAIN] += tab->rows[i].sampled_ns;
		w.charged[STEAL_AWARE] += tab->rows[i].steal_aware_ns;
		w.exact += tab->rows[i].exact_ns;
		w.true_ns += tab->rows[i].true_ns;
	}
	w.exact_ppm = share_ppm((uint64_t)w.exact, (uint64_t)all_exact);
	return w;
}

/* The share of all stolen time one method charged to the workload, as its own check. */
static void share_check(enum method m, const struct workload *w)
{
	const char *claim = "%s charged none of the stolen time to the workload, within its 99%% bound";
	struct steal_share s;
	char name[48], why[320], b[2][24];
	const char *skip;

	acct_steal_share(w->charged[m], w->true_ns, tab->stolen_ns, true, w->exact_ppm, &tab->run,
			 &s);
	if (m == PLAIN && sched_sponge())
		ksnprintf(name, sizeof(name), "plain sampling (sponge=%s)",
			  config_sponge_name(sched_sponge_mode()));
	else
		ksnprintf(name, sizeof(name), "%s", method_name[m]);
	skip = not_judged(m, why, sizeof(why));
	if (!s.judged) {
		ksnprintf(why, sizeof(why), "%s ms stolen is no more than the bound of %s ms: too "
			  "little to tell a share of it from sampling error",
			  acct_ms(b[0], sizeof(b[0]), tab->stolen_ns),
			  acct_ms(b[1], sizeof(b[1]), s.bound_ns));
		report_skip(why, claim, name);
	} else if (skip) {
		report_skip(skip, claim, name);
	} else {
		report_check(s.inside, claim, name);
	}
	report_yaml_begin();
	report_yaml("method", "%s", name);
	yaml_ms("stolen_ms", tab->stolen_ns);
	yaml_ms("workload_charged_ms", w->charged[m]);
	yaml_ms("workload_true_ms", w->true_ns);
	yaml_ms("excess_ms", s.excess_ns);
	yaml_pct("share_of_stolen_pct", s.share_ppm);
	yaml_ms("bound_ms", s.bound_ns);
	yaml_pct("bound_pct", s.bound_ppm);
	yaml_ms("interval_ms", s.interval_ns);
	yaml_pct("workload_exact_share_pct", w->exact_ppm);
	allowance_yaml();
	if (s.judged)
		report_yaml("inside_bound", "%s", s.inside ? "true" : "false");
	yaml_ms("known_blind_ms", tab->blind_ns[m]);
	report_yaml_end();
}

/* One line with every method's share of the stolen time, for people and for the bench. */
static void share_note(const struct workload *w)
{
	struct steal_share s[SAMPLING_METHODS + 1];
	char b[4][24];

	for (unsigned m = 0; m < SAMPLING_METHODS; m++)
		acct_steal_share(w->charged[m], w->true_ns, tab->stolen_ns, true, w->exact_ppm,
				 &tab->run, &s[m]);
	acct_steal_share(w->exact, w->true_ns, tab->stolen_ns, false, w->exact_ppm, &tab->run,
			 &s[SAMPLING_METHODS]);
	report_note("stolen time charged to the workload: plain sampling %s%%, steal-aware "
		    "sampling %s%%, exact %s%% of %s ms stolen seen",
		    fmt_fixed(b[0], sizeof(b[0]), s[PLAIN].share_ppm / 100, 2),
		    fmt_fixed(b[1], sizeof(b[1]), s[STEAL_AWARE].share_ppm / 100, 2),
		    fmt_fixed(b[2], sizeof(b[2]), s[SAMPLING_METHODS].share_ppm / 100, 2),
		    acct_ms(b[3], sizeof(b[3]), tab->stolen_ns));
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
		yaml_pct("expected_pct", expected);
		yaml_pct("exact_pct", exact);
		report_yaml_fixed("error_pp", err, PCT_DECIMALS);
		report_yaml_fixed("tolerance_pp", tol, PCT_DECIMALS);
		report_yaml_fixed("granularity_bound_pp", bound, PCT_DECIMALS);
		report_yaml_fixed("longest_stretch_ms", (int64_t)cycles_to_us(max_run, tsc_hz), 3);
		report_yaml_end();
	}
}

/*
 * The sponge took the catch-up ticks.  With sponge=charge it is charged every one by
 * construction.  With sponge=run it is woken by a tick that leaves a whole tick owed and runs
 * until the backlog is paid, so the catch-up ticks that follow land on it; the ones it cannot
 * take are those that came when no tick was owed (catchup_unowed: a tick the clock had judged
 * lost came after all), which nothing woke it for.  Any other escape is a sponge that was
 * woken and did not get the CPU.
 */
static void sponge_check(void)
{
	const struct task *sp = sched_sponge();
	const struct acct_row *r = &tab->rows[sp - sched_task(0)];
	const char *claim = "sponge absorbed every catch-up tick that came with a tick owed";
	uint64_t all = 0, absorbed = sp->acct.catchup_ticks;
	uint64_t unowed = tick_state()->acct.catchup_unowed;

	for (unsigned i = 0; i < sched_ntasks(); i++)
		all += sched_task(i)->acct.catchup_ticks;
	if (all == 0)
		report_skip("no catch-up ticks in this run", claim);
	else
		report_check(all - absorbed <= unowed, claim);
	report_yaml_begin();
	report_yaml("mode", "%s", config_sponge_name(sched_sponge_mode()));
	report_yaml_u64("catchup_ticks", all);
	report_yaml_u64("absorbed", absorbed);
	report_yaml_u64("escaped", all - absorbed);
	report_yaml_u64("catchup_unowed", unowed);
	report_yaml_u64("wakeups", sp->wakeups);
	/* what the sponge stands for: its sampled time is the descheduled time, as sampling sees it */
	yaml_ms("sponge_sampled_ms", r->sampled_ns);
	yaml_ms("sponge_exact_ms", r->exact_ns);
	yaml_ms("stolen_seen_ms", tab->stolen_ns);
	report_yaml_end();
}

void acct_report_checks(void)
{
	struct workload w;
	char b[24];

	tab = acct_table_compute(w_ppm);
	acct_table_print(tab);
	for (unsigned m = 0; m < SAMPLING_METHODS; m++)
		for (unsigned i = 0; i < sched_ntasks(); i++)
			if (sched_task(i) != sched_sponge())
				task_check(sched_task(i), (enum method)m);
	w = workload_totals();
	share_note(&w);
	for (unsigned m = 0; m < SAMPLING_METHODS; m++)
		share_check((enum method)m, &w);
	if (sched_sponge())
		sponge_check();
	if (w_ppm)
		report_note("w = %s applied to the sampled figures (w_corrected_ms in each task's YAML)",
			    fmt_fixed(b, sizeof(b), w_ppm, 6));
	weight_checks(sched_tsc_hz());
}
