/*
 * The run's own checks, made from inside after the run: did the tick source tick at the rate it was
 * programmed for, did any interrupt arrive that nobody asked for.
 * Each tolerance is derived next to its check from what limits the measurement.
 */
#include "checks/checks.h"
#include "checks/limits.h"
#include "lib/format.h"
#include "kernel/irq.h"
#include "kernel/report.h"
#include "kernel/tick.h"
#include "kernel/trap.h"
#include "acct/stats.h"
#include "sched/sched.h"

void tick_stats_yaml(const struct tick_stats *st, uint64_t ref_hz)
{
	report_yaml_u64("on_time", st->on_time);
	report_yaml_u64("gaps", st->gaps);
	report_yaml_u64("lost_ticks_in_gaps", st->gap_periods);
	report_yaml_u64("short_intervals", st->shorts);
	/* cycles_to_ns / 10 counts hundredths of a microsecond */
	report_yaml_fixed("min_interval_us", (int64_t)cycles_to_ns(st->min, ref_hz) / 10, 2);
	report_yaml_fixed("max_interval_us", (int64_t)cycles_to_ns(st->max, ref_hz) / 10, 2);
}

/*
 * How many of the run's tick intervals the host's steal can have put off time.  An interval is
 * on time within half a period either way (lib/tickstat.c), so a step the probes saw can
 * spoil the interval it fell in and the next (the tick after it comes late, the one after that
 * early), and a backlog it left is paid by catch-up ticks, short intervals, one for each period
 * it stood for: at most two intervals per gap and one per period of stolen time.
 */
static uint64_t steal_disturbable(uint64_t period_ref, uint64_t ref_hz, uint64_t *gaps,
				  uint64_t *stolen_ns)
{
	*gaps = sched_steal_gaps();
	*stolen_ns = tsc_ns(sched_stolen_cycles());
	return 2 * *gaps + muldiv64(*stolen_ns, ref_hz, 1000000000ull) / period_ref;
}

void tick_report_check(void)
{
	const struct tick_state *ts = tick_state();
	const struct tick_stats *st = &ts->stats;
	const uint64_t f = ts->ref->freq_hz;
	int64_t err_ppm = 0;
	uint64_t tol_ppm = 0, measured_mhz = 0, gaps, stolen_ns;
	bool enough = st->on_time > 0 && 2 * st->on_time > st->intervals;
	uint64_t off_time = st->intervals - st->on_time;
	uint64_t disturbable = steal_disturbable(ts->period_ref, f, &gaps, &stolen_ns);
	char why[200];

	if (enough) {
		int64_t excess = (int64_t)(st->on_time_sum - st->on_time * ts->period_ref);

		err_ppm = excess * PPM / (int64_t)(st->on_time * ts->period_ref);
		measured_mhz = f * 1000 / (st->on_time_sum / st->on_time);
		/*
		 * The rate is the mean of the on-time intervals.  Along a run of consecutive on-time
		 * intervals the interrupt latencies cancel except at the run's two ends, and a
		 * latency stays below one period (a later tick would have been merged), so each run
		 * adds at most one period of error: runs / on_time in all.  The TSC's own frequency
		 * is known to its calibration bound; the PM timer and the HPET are taken at their
		 * nominal rates, which REF_NOMINAL_PPM of rounding separates from the true ones.
		 */
		tol_ppm = (st->gaps + st->shorts + 1) * PPM / st->on_time +
			  (ts->ref == &tsc_refclock ? tsc_uncertainty_ppm() : REF_NOMINAL_PPM);
	} else if (ts->count > 1 && ts->last_ref > ts->first_ref) {
		/* Not a rate of the device's own: say what came, all ticks over the whole span. */
		measured_mhz = (ts->count - 1) * f * 1000 / (ts->last_ref - ts->first_ref);
	}
	/* Too few intervals on time for a rate of the device's own says nothing about the
	 * device when the host's steal accounts for every one that was off time. */
	if (!enough && off_time <= disturbable) {
		ksnprintf(why, sizeof(why), "not judged: %llu of %llu intervals off time, and the host "
			  "took the CPU in %llu gaps for %llu ms, enough to put %llu off time",
			  (unsigned long long)off_time, (unsigned long long)st->intervals,
			  (unsigned long long)gaps, (unsigned long long)(stolen_ns / 1000000),
			  (unsigned long long)disturbable);
		report_skip(why, "%s ticks at the programmed rate, measured by the %s",
			    ts->src->name, ts->ref->name);
	} else {
		report_check(enough && (err_ppm < 0 ? -err_ppm : err_ppm) <= (int64_t)tol_ppm,
			     "%s ticks at the programmed rate, measured by the %s", ts->src->name,
			     ts->ref->name);
	}
	report_yaml_begin();
	report_yaml_u64("stolen_gaps", gaps);
	report_yaml_fixed("stolen_ms", (int64_t)(stolen_ns / 1000), 3);
	report_yaml_u64("intervals_steal_can_disturb", disturbable);
	if (!enough)
		report_yaml("problem", "%llu of %llu intervals on time, fewer than half: measured_hz is "
			    "every tick over the whole run, not the device's period",
			    (unsigned long long)st->on_time, (unsigned long long)st->intervals);
	report_yaml_fixed("programmed_hz", (int64_t)(1000000000000000ull / ts->period_ps), 3);
	report_yaml_fixed("measured_hz", (int64_t)measured_mhz, 3);
	report_yaml("error_ppm", "%lld", (long long)err_ppm);
	report_yaml_u64("tolerance_ppm", tol_ppm);
	report_yaml_u64("ticks", ts->count);
	tick_stats_yaml(st, f);
	report_yaml_end();
}

/*
 * The tick clock (lib/tickclock.h): what each tick was, the backlogs and what became of
 * them.  The claim that can fail is that tick time never ran ahead of the reference by a
 * period or more: the device delivered more ticks than time passed, or compensation counted
 * ticks as lost that came after all (over-correction).  Backlogs, catch-up and lost ticks are
 * what the run is for, so they are shown, not failed.
 */
void tickclock_report_check(void)
{
	const struct tick_state *ts = tick_state();
	const struct tickclock *c = &ts->clock;

	/*
	 * What the claim says, measured: the furthest tick time got ahead of the reference, right
	 * after a tick.  Ticks the clock classed ahead are not the measure: a slot runs from a
	 * quarter period before a tick's due time, so a tick a quarter early is classed ahead, and
	 * a loaded host that delays the origin tick makes every later one look that early.
	 */
	int64_t ahead_ns = c->max_ahead_ns < 0 ? -c->max_ahead_ns : 0;

	report_check(ahead_ns < (int64_t)(ts->period_ps / 1000) && c->overcorrected == 0,
		     "%s tick time never ran ahead of the %s by a period or more", ts->src->name,
		     ts->ref->name);
	report_yaml_begin();
	report_yaml("lostticks", "%s", c->compensate ? "compensate" : "ignore");
	for (int k = 0; k < TICK_NR_KINDS; k++) {
		char key[24];

		ksnprintf(key, sizeof(key), "%s_ticks", tickclock_kind_name(k));
		report_yaml_u64(key, c->kinds[k]);
	}
	report_yaml_u64("gaps", c->gaps);
	report_yaml_u64("missed", c->missed);
	report_yaml_u64("lost", c->lost);
	report_yaml_u64("compensated", c->compensated);
	report_yaml_u64("recovered", c->recovered);
	report_yaml_u64("overcorrected", c->overcorrected);
	report_yaml_u64("backlogs", c->episodes);
	report_yaml_fixed("longest_backlog_ms", (int64_t)(c->longest_episode_ns / 1000), 3);
	report_yaml_fixed("max_behind_ms", c->max_behind_ns / 1000, 3);
	report_yaml_fixed("max_ahead_ms", c->max_ahead_ns < 0 ? -c->max_ahead_ns / 1000 : 0, 3);
	report_yaml_fixed("behind_at_end_ms", c->behind_ns / 1000, 3);
	report_yaml_u64("stats_lines", ts->stats_lines);
	report_yaml_end();
}

void irq_report_check(void)
{
	const struct irq_counts *c = irq_counts();
	uint32_t spurious = 0, unhandled = 0;

	for (unsigned i = 0; i < NR_ISA_IRQS; i++) {
		spurious += c->spurious[i];
		unhandled += c->unhandled[i];
	}
	/* Spurious 8259 interrupts are legal (a request withdrawn in time); they are counted
	 * and shown, never taken for ticks.  An interrupt on a line or vector we never enabled is
	 * not legal. */
	report_check(unhandled == 0 && trap_unexpected_count() == 0,
		     "no interrupt arrived on a line or vector that was not enabled");
	report_yaml_begin();
	report_yaml("controller", "%s", irq_chip()->name);
	report_yaml_u64("spurious_irq7", c->spurious[7]);
	report_yaml_u64("spurious_irq15", c->spurious[15]);
	report_yaml_u64("spurious_total", spurious);
	report_yaml_u64("unhandled_isa", unhandled);
	report_yaml_u64("unexpected_vectors", trap_unexpected_count());
	report_yaml_end();
}
