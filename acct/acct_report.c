/*
 * The accounting checks and table at the end of a run.
 *
 * Every task gets a line of figures (acct/figures.h): sampled, exact, stolen and true time,
 * and the errors of sampling and of exact measurement against the true figure.
 *
 * Sampling.  Each task's sampled share must lie inside the 99 % binomial interval of its true
 * share.  That holds with no stolen time, with stolen time on a device that drops the ticks it
 * missed, and with a sponge (sponge=run|charge) taking the catch-up ticks of a device that
 * delivers them.  Without a sponge, catch-up ticks charge the stolen time to whoever runs while
 * they come (often not the task that was stopped: the scheduler hands the CPU to the task
 * furthest behind); that distortion is what such a run shows, so the check is skipped and
 * the bias lines give its size.
 *
 * Weights: the spinners always want the CPU, so the scheduler alone decides their shares,
 * which must follow their weights.  The scheduler keeps every spinner's cycles/weight within
 * one longest stretch on the CPU of the others (sched.h), which bounds how far a share can be
 * off; the check allows that bound or 1 percentage point, whichever is larger.
 */
#include "acct/acct_report.h"
#include "acct/figures.h"
#include "acct/stats.h"
#include "kernel/format.h"
#include "kernel/report.h"
#include "kernel/tick.h"
#include "sched/sched.h"

#define WEIGHT_TOLERANCE_MIN_PPM 10000  /* 1 percentage point */
/* A sponge must take at least this share of the catch-up ticks (the rest escaped it). */
#define SPONGE_ABSORB_MIN_PPM   950000

/* Shares are kept in ppm; 1 ppm is 0.0001 %, so a share printed with four decimals is a
 * percentage and a difference of shares is in percentage points. */
#define PCT_DECIMALS 4
#define NS_PER_US 1000

static uint32_t w_ppm;                  /* acct_report_set_w() */

void acct_report_set_w(uint32_t w)
{
	w_ppm = w;
}

/* The figures of every task, computed once. */
static struct acct_row rows[SCHED_MAX_TASKS];
static uint64_t n_ticks, base_ns, irq_ns;

static void compute_rows(void)
{
	const uint64_t tsc_hz = sched_tsc_hz(), period_ps = tick_state()->period_ps;

	n_ticks = 0;
	for (unsigned i = 0; i < sched_ntasks(); i++)
		n_ticks += sched_task(i)->acct.ticks;
	irq_ns = cycles_to_ns(acct_irq_cycles(), tsc_hz);
	base_ns = acct_base_ns(n_ticks, period_ps, irq_ns);
	for (unsigned i = 0; i < sched_ntasks(); i++) {
		const struct acct *a = &sched_task(i)->acct;
		struct acct_inputs in = { a->ticks, a->cycles, a->steal.stolen,
					  a->steal.stolen_long };

		acct_row_compute(&in, n_ticks, period_ps, base_ns, tsc_hz, w_ppm, &rows[i]);
	}
}

static void yaml_ms(const char *key, int64_t ns)
{
	report_yaml_fixed(key, ns / NS_PER_US, 3);
}

static void row_yaml(const struct task *t, const struct acct_row *r)
{
	const struct acct *a = &t->acct;
	const uint64_t tsc_hz = sched_tsc_hz();

	report_yaml("task", "%s", t->name);
	report_yaml_u64("ticks", a->ticks);
	report_yaml_u64("catchup_ticks", a->catchup_ticks);
	yaml_ms("sampled_ms", r->sampled_ns);
	yaml_ms("exact_ms", r->exact_ns);
	yaml_ms("stolen_ms", r->stolen_ns);
	yaml_ms("true_ms", r->true_ns);
	yaml_ms("stolen_in_long_gaps_ms", (int64_t)cycles_to_ns(a->steal.stolen_long, tsc_hz));
	yaml_ms("sampling_reference_ms", r->sampling_ref_ns);
	yaml_ms("sampled_error_ms", r->sampled_err_ns);
	yaml_ms("exact_error_ms", r->exact_err_ns);
	report_yaml_fixed("sampled_share_pct", r->sampled_ppm, PCT_DECIMALS);
	report_yaml_fixed("true_share_pct", r->true_ppm, PCT_DECIMALS);
	report_yaml_fixed("reference_share_pct", r->ref_ppm, PCT_DECIMALS);
	report_yaml_fixed("interval_lo_pct", r->interval.lo_ppm, PCT_DECIMALS);
	report_yaml_fixed("interval_hi_pct", r->interval.hi_ppm, PCT_DECIMALS);
	if (w_ppm) {
		yaml_ms("w_corrected_ms", r->w_corrected_ns);
		yaml_ms("w_error_ms", r->w_corrected_ns - r->true_ns);
	}
	report_yaml_u64("steal_events", a->steal.events);
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

/*
 * Sampled against true shares.  Without a sponge, catch-up ticks charge the stolen time to
 * whoever runs as they come, and the claim cannot hold; the check is then skipped, saying
 * why, and the bias lines show by how much it missed.
 */
static void sampling_check(const struct task *t, uint64_t catchup)
{
	const struct acct_row *r = &rows[t - sched_task(0)];
	const char *claim = "task %s: sampled share inside the 99%% binomial interval of its true share";
	/* "true" here: less the stolen time sampling can tell (figures.h) */
	char why[96];

	if (!sched_sponge() && catchup > 0) {
		ksnprintf(why, sizeof(why), "sponge off and %llu catch-up ticks: they charge stolen "
			  "time to whoever runs", (unsigned long long)catchup);
		report_skip(why, claim, t->name);
	} else {
		report_check(r->inside, claim, t->name);
	}
	report_yaml_begin();
	row_yaml(t, r);
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

/* The sponge took the catch-up ticks: at least SPONGE_ABSORB_MIN_PPM of them. */
static void sponge_check(void)
{
	const struct task *sp = sched_sponge();
	const struct acct_row *r = &rows[sp - sched_task(0)];
	const char *claim = "sponge absorbed at least 95%% of the catch-up ticks";
	uint64_t all = 0, absorbed = sp->acct.catchup_ticks;
	int64_t share;

	for (unsigned i = 0; i < sched_ntasks(); i++)
		all += sched_task(i)->acct.catchup_ticks;
	if (all == 0) {
		report_skip("no catch-up ticks in this run", claim);
	} else {
		share = share_ppm(absorbed, all);
		report_check(share >= SPONGE_ABSORB_MIN_PPM, claim);
	}
	report_yaml_begin();
	report_yaml("mode", "%s", config_sponge_name(sched_sponge_mode()));
	report_yaml_u64("catchup_ticks", all);
	report_yaml_u64("absorbed", absorbed);
	report_yaml_u64("escaped", all - absorbed);
	report_yaml_u64("wakeups", sp->wakeups);
	/* what the sponge stands for: its sampled time is the descheduled time, as sampling sees it */
	yaml_ms("sponge_sampled_ms", r->sampled_ns);
	yaml_ms("sponge_exact_ms", r->exact_ns);
	yaml_ms("stolen_seen_ms", (int64_t)cycles_to_ns(sched_stolen_cycles(), sched_tsc_hz()));
	report_yaml_end();
}

/* The table, one line a task, for people; the YAML of the checks has the same figures. */
static void table(void)
{
	char c[8][24];

	report_note("%-8s %7s %7s %11s %11s %11s %11s %11s %11s", "task", "ticks", "catchup",
		    "sampled_ms", "exact_ms", "stolen_ms", "true_ms", "samp_err_ms", "exact_err_ms");
	for (unsigned i = 0; i < sched_ntasks(); i++) {
		const struct task *t = sched_task(i);
		const struct acct_row *r = &rows[i];

		report_note("%-8s %7llu %7llu %11s %11s %11s %11s %11s %11s", t->name,
			    (unsigned long long)t->acct.ticks,
			    (unsigned long long)t->acct.catchup_ticks,
			    fmt_fixed(c[0], sizeof(c[0]), r->sampled_ns / NS_PER_US, 3),
			    fmt_fixed(c[1], sizeof(c[1]), r->exact_ns / NS_PER_US, 3),
			    fmt_fixed(c[2], sizeof(c[2]), r->stolen_ns / NS_PER_US, 3),
			    fmt_fixed(c[3], sizeof(c[3]), r->true_ns / NS_PER_US, 3),
			    fmt_fixed(c[4], sizeof(c[4]), r->sampled_err_ns / NS_PER_US, 3),
			    fmt_fixed(c[5], sizeof(c[5]), r->exact_err_ns / NS_PER_US, 3));
	}
}

/* Sponge off: how far stolen time pushed each task's sampled share over its true one. */
static void bias_notes(void)
{
	char d[3][24];

	for (unsigned i = 0; i < sched_ntasks(); i++) {
		const struct task *t = sched_task(i);
		const struct acct_row *r = &rows[i];

		if (t == sched_idle() || r->sampled_ns == 0)
			continue;
		report_note("sponge off: task %s sampled %s ms over its true time (%s pp of share; "
			    "99%% interval +-%s pp)", t->name,
			    fmt_fixed(d[0], sizeof(d[0]), r->sampled_err_ns / NS_PER_US, 3),
			    fmt_fixed(d[1], sizeof(d[1]), r->sampled_ppm - r->true_ppm, PCT_DECIMALS),
			    fmt_fixed(d[2], sizeof(d[2]), r->interval.half_ppm, PCT_DECIMALS));
	}
}

void acct_report_checks(void)
{
	const uint64_t tsc_hz = sched_tsc_hz();
	uint64_t cycles = 0, catchup = 0, stolen = sched_stolen_cycles();
	char b[24];

	compute_rows();
	for (unsigned i = 0; i < sched_ntasks(); i++)
		cycles += sched_task(i)->acct.cycles;
	report_note("accounting: %llu ticks sampled, %llu ms exact in tasks, %llu ms in interrupts, "
		    "%llu ms stolen seen (probe threshold %u us); ticks stand for %s ms",
		    (unsigned long long)n_ticks, (unsigned long long)cycles_to_us(cycles, tsc_hz) / 1000,
		    (unsigned long long)irq_ns / 1000000,
		    (unsigned long long)cycles_to_us(stolen, tsc_hz) / 1000, STEAL_THRESHOLD_US,
		    fmt_fixed(b, sizeof(b), (int64_t)(base_ns / NS_PER_US), 3));
	table();
	for (unsigned i = 0; i < sched_ntasks(); i++)
		catchup += sched_task(i)->acct.catchup_ticks;
	for (unsigned i = 0; i < sched_ntasks(); i++) {
		const struct task *t = sched_task(i);

		if (t != sched_sponge())
			sampling_check(t, catchup);
	}
	if (sched_sponge())
		sponge_check();
	else
		bias_notes();
	if (w_ppm)
		report_note("w = %s applied to the sampled figures (w_corrected_ms in each task's YAML)",
			    fmt_fixed(b, sizeof(b), w_ppm, 6));
	weight_checks(tsc_hz);
}
