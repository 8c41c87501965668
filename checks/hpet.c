/*
 * The HPET's timer 0 held to the reference clocks: periodic at each rate, timed deadline to
 * deadline by the TSC and by the PM timer; one-shot, firing every time and never before its
 * deadline by the HPET's own counter.  The main counter's reads and its rate against the TSC
 * and the PM timer are checks/refclock.c's.  docs/hpet.md.
 *
 * Timer 0 runs on IRQ 0 through the 8259 by legacy replacement (LEG_RT_CNF) for a few windows,
 * and the line goes back to the PIT at the end.
 */
#include "checks/checks.h"
#include "checks/agreement.h"
#include "acct/stats.h"
#include "kernel/irq.h"
#include "kernel/report.h"
#include "kernel/x86.h"
#include "drivers/acpi_pmtimer.h"
#include "drivers/hpet.h"

#define PS_PER_NS               1000ull
#define MHZ_PER_HZ              1000ull         /* measured rates in thousandths of a Hz */
#define HPET_IRQ                0               /* timer 0 under legacy replacement */
#define DRAIN_MS                1               /* long enough for a stale IRQ 0 edge to be taken */

/* Each rate over one window; the first ticks are not measured: one may be a stale IRQ 0 edge
 * from the PIT, raised when legacy replacement was switched. */
static const uint32_t rates_hz[] = { 100, 1000, 4096 };
#define RATE_WINDOW_MS          300
#define RATE_SETTLE_TICKS       2

/* Several shots of one delay each, each given a timeout. */
#define ONESHOT_SHOTS           5
#define ONESHOT_DELAY_US        1000
#define ONESHOT_TIMEOUT_MS      100

static int64_t hpet_counts_ns(int32_t counts)
{
	int64_t ns = (int64_t)cycles_to_ns(counts < 0 ? -(uint64_t)counts : (uint64_t)counts,
					   hpet_refclock.freq_hz);

	return counts < 0 ? -ns : ns;
}

/* ---- periodic rates ---- */

/*
 * What the tick handler records; read only after interrupts are off again.  Each tick is
 * placed at its deadline rather than at the handler: the HPET counter says how far past the
 * deadline the handler runs (interrupt latency, 40-200 us under TCG), so subtracting it takes
 * the latency out of the rate.  The lateness is read after the RDTSC, so the deadline found is
 * early by at most the time of that read (err), and the PM timer's deadline by that and half
 * the PM read (pm_err).  The rate is taken between two ends: ticks whose deadline was found to
 * within half the window's bracket budget (checks/agreement.h), the first and the last such;
 * a handler the host robbed in its reads is counted but is no end.
 */
struct tick_end {
	uint64_t dl, pm;                /* the deadline, by the TSC and in PM timer counts */
	uint64_t err, pm_err;           /* TSC cycles each may be off */
	uint64_t periods;               /* periods since the first tick measured */
};

static struct tick_log {
	uint32_t seen, ticks, ends;
	uint64_t periods, period_cycles, budget;
	bool with_pm;
	uint64_t dl_prev;
	struct tick_end first, last;
	int32_t late_first, late_last, late_max;
} tl;

static void rate_tick(struct trapframe *tf)
{
	uint64_t t0 = rdtsc(), t1, t2, dl, pm = 0;
	int32_t late = hpet_timer0_since_deadline();
	struct tick_end e;

	(void)tf;
	t1 = rdtsc();
	/* late is below 2^31 counts, the product below 2^63 for any TSC under 4 GHz per count */
	dl = t0 - (late > 0 ? (uint64_t)late * tsc_refclock.freq_hz / hpet_refclock.freq_hz : 0);
	if (tl.with_pm) {
		pm = refclock_read(&pmtimer_refclock);
		t2 = rdtsc();
		/* the PM read is at mid t1..t2 on average; back off to the deadline (a ~100 us
		 * offset converted with the TSC's rate: its error is far below one PM count) */
		pm -= (((t1 + t2) / 2 - dl) * PM_TMR_HZ) / tsc_refclock.freq_hz;
	} else {
		t2 = t1;
	}
	if (++tl.seen <= RATE_SETTLE_TICKS)
		return;
	/*
	 * Deadlines are whole periods apart: rounding counts the periods, including those whose
	 * tick never came.  Two handlers that find the same latest deadline (the second tick was
	 * already due when the first ran) give 2 and then 0.
	 */
	if (tl.ticks++ == 0)
		tl.late_first = late;
	else
		tl.periods += (dl - tl.dl_prev + tl.period_cycles / 2) / tl.period_cycles;
	tl.dl_prev = dl;
	tl.late_last = late;
	if (late > tl.late_max)
		tl.late_max = late;
	e = (struct tick_end){ dl, pm, t1 - t0, t1 - t0 + div_up(t2 - t1, 2), tl.periods };
	if (2 * e.pm_err >= tl.budget)
		return;
	if (tl.ends++ == 0)
		tl.first = e;
	tl.last = e;
}

struct rate {
	bool started;
	char why[96];
	uint64_t period_ps;
	struct window_run wr;
	struct ppm_error by_tsc, by_pm;
	uint64_t tsc_mhz, pm_mhz;       /* the rates measured, in thousandths of a Hz */
};

/*
 * The rate is taken between the two ends, over every period between them, handled or lost;
 * periodic mode adds the increment in hardware, so nothing in between matters.  A sound HPET
 * stays within:
 *   by the TSC: how far each end's deadline may be off (err), one HPET count of lateness
 *     quantisation at each end, one TSC cycle, tsc_uncertainty_ppm(), and
 *     DEVICE_RATE_LIMIT_PPM;
 *   by the PM timer: each end's deadline error in PM terms (pm_err), one PM count, the two
 *     HPET counts, the PM timer's nominal rate (REF_NOMINAL_PPM) and the limit.
 * The period itself is exact: the increment times COUNTER_CLK_PERIOD.  The ends' errors are
 * below the bracket budget together, so the read terms stay below the limit.
 */
static void rate_errors(struct rate *r)
{
	uint64_t periods = tl.last.periods - tl.first.periods;
	uint64_t expected_ns = periods * r->period_ps / PS_PER_NS;
	uint64_t dt = tl.last.dl - tl.first.dl, t_ns = tsc_ns(dt);
	uint64_t quant_ppm = div_up(2 * PPM, t_ns * hpet_refclock.freq_hz / NS_PER_S);
	uint64_t dpm = tl.last.pm - tl.first.pm, pm_ns = cycles_to_ns(dpm, PM_TMR_HZ);

	r->by_tsc = ppm_of_span(t_ns, expected_ns,
				div_up((tl.first.err + tl.last.err) * PPM, dt) + quant_ppm +
				div_up(PPM, dt) + tsc_uncertainty_ppm() + DEVICE_RATE_LIMIT_PPM);
	r->tsc_mhz = t_ns ? periods * NS_PER_S * MHZ_PER_HZ / t_ns : 0;
	if (!tl.with_pm)
		return;
	r->by_pm = ppm_of_span(pm_ns, expected_ns,
			       div_up((tl.first.pm_err + tl.last.pm_err) * PPM, dt) +
			       div_up(PPM, dpm) + quant_ppm + REF_NOMINAL_PPM +
			       DEVICE_RATE_LIMIT_PPM);
	r->pm_mhz = pm_ns ? periods * NS_PER_S * MHZ_PER_HZ / pm_ns : 0;
}

/*
 * A step of a period in the window merges ticks.  QEMU's HPET drops them and keeps its phase,
 * which the deadline count survives; a device model that took its phase from a late handler
 * instead would show the host's doing as its own.  The deadlines come from the device's own
 * registers, so a host can make a sound HPET look wrong that way but never a wrong one look
 * right: a robbed window whose rate held is kept, and one whose rate failed is measured again,
 * and not judged if no clean one comes.  A window in which the host robbed every handler but
 * one in its reads has no two ends: measured again too.
 */
static void measure_rate(uint32_t hz, bool with_pm, struct rate *r)
{
	uint64_t window = tsc_from_ms(RATE_WINDOW_MS);

	r->wr = WINDOW_RUN(UINT64_MAX);
	while (window_again(&r->wr)) {
		uint64_t start;
		struct window_steal so_far;

		r->started = hpet_tick_source.start_periodic(hz, r->why, sizeof(r->why)) == 0;
		if (!r->started)
			return;
		r->period_ps = hpet_tick_source.period_ps();
		tl = (struct tick_log){ .with_pm = with_pm, .budget = bracket_budget(window) };
		tl.period_cycles = r->period_ps / PS_PER_NS * tsc_refclock.freq_hz / NS_PER_S;
		irq_register(HPET_IRQ, rate_tick);
		start = rdtsc();
		sti();
		window_wait_until(start + window + RATE_SETTLE_TICKS * tl.period_cycles);
		cli();
		hpet_tick_source.stop();
		irq_unregister(HPET_IRQ);
		so_far = window_end();
		if (tl.ends >= 2)
			rate_errors(r);
		r->wr.spoilt = tl.ends < 2 ||
			       (so_far.longest >= tl.period_cycles &&
				!(ppm_ok(&r->by_tsc) && (!with_pm || ppm_ok(&r->by_pm))));
	}
}

static void rate_claim(uint32_t hz, const struct rate *r, bool by_pm, const char *absent)
{
	const struct ppm_error *e = by_pm ? &r->by_pm : &r->by_tsc;
	struct claim c;

	claim_open(&c, "hpet timer 0 runs at %u Hz, measured by the %s", hz,
		   by_pm ? "pmtimer" : "tsc");
	claim_needs(&c, !absent, absent);
	claim_needs(&c, r->started, r->why);
	if (!claim_judge(&c, &r->wr, ppm_ok(e)))
		return;
	report_yaml_fixed("programmed_hz", (int64_t)(1000000000000000ull / r->period_ps), 3);
	report_yaml_fixed("measured_hz", (int64_t)(by_pm ? r->pm_mhz : r->tsc_mhz), 3);
	ppm_yaml(e);
	report_yaml_u64("ticks", tl.ticks);
	report_yaml_u64("window_ms", RATE_WINDOW_MS);
	report_yaml_u64("periods_measured", tl.last.periods - tl.first.periods);
	report_yaml_u64("robbed_handlers", tl.ticks - tl.ends);
	/* periods without a tick of their own; < 0: extra ticks */
	report_yaml("lost_ticks", "%lld", (long long)tl.periods - (tl.ticks - 1));
	report_yaml_fixed("late_first_us", hpet_counts_ns(tl.late_first) / 10, 2);
	report_yaml_fixed("late_last_us", hpet_counts_ns(tl.late_last) / 10, 2);
	report_yaml_fixed("late_max_us", hpet_counts_ns(tl.late_max) / 10, 2);
	claim_close();
}

/* ---- one-shot ---- */

static struct oneshot_log {
	uint64_t delay_counts;
	volatile unsigned irqs;         /* this shot's interrupts, so its first is known */
	volatile int32_t late;          /* hpet_timer0_since_deadline() at the first */
	unsigned early;                 /* shots the HPET's own counter says fired early */
	unsigned clean;
	int32_t late_min, late_max;     /* of the clean shots, in HPET counts */
} os;

static int oneshot_arm(void *ctx)
{
	(void)ctx;
	os.irqs = 0;
	return hpet_arm_oneshot(os.delay_counts);
}

static void oneshot_tick(struct trapframe *tf)
{
	uint64_t now = rdtsc();

	(void)tf;
	if (os.irqs++ == 0)
		os.late = hpet_timer0_since_deadline();
	shot_interrupt(now);
}

/*
 * Early by the HPET is early whatever the host did; lateness is shown for clean shots only.  A
 * shot that did not come in its wait may come yet (QEMU raises it from its main loop, which the
 * host can hold off while the vCPU runs, unseen by the window): its deadline is pushed out as
 * far as the comparator goes, and an interrupt already raised is taken now, not in the next
 * shot as an early one.
 */
static void oneshot_after(void *ctx, const struct shot *s)
{
	(void)ctx;
	if (!s->irqs) {
		(void)hpet_arm_oneshot(0x7fffffff);
		irq_drain_ms(DRAIN_MS);
		return;
	}
	if (s->suspect && os.late < 0)
		return;         /* a stale edge of a refused or missed deadline, robbed */
	os.early += os.late < 0;
	if (s->steal.gaps)
		return;
	if (os.clean++ == 0 || os.late < os.late_min)
		os.late_min = os.late;
	if (os.clean == 1 || os.late > os.late_max)
		os.late_max = os.late;
}

/*
 * The deadline is counter + delay in the HPET's own counts, so the handler reading the counter
 * past the comparator is the claim itself.  By the TSC a sound shot comes no sooner than the
 * delay less what the TSC (tsc_uncertainty_ppm), the counter's rate in whole Hz
 * (REF_NOMINAL_PPM) and the HPET's oscillator (DEVICE_RATE_LIMIT_PPM) may be off.
 *
 * The first shot is fired unmeasured (shot_series_fire): arming it switches IRQ 0 from the PIT
 * to the HPET, and an edge the PIT raised just before the switch (QEMU's PIT keeps its old
 * channel 0 timer after pit_stop) would otherwise look like a shot that came early.  Legacy
 * replacement then stays on until the last shot, so the PIT cannot reach IRQ 0 in between.
 */
static void oneshot_claim(const char *absent)
{
	struct shot_plan plan = {
		.arm = oneshot_arm, .wait = tsc_from_ms(ONESHOT_TIMEOUT_MS),
		.quiet = tsc_from_ms(3 * DRAIN_MS), .expired = hpet_tick_source.oneshot_expired,
	};
	uint64_t delay, earliest;
	struct shot_series r = { .wanted = ONESHOT_SHOTS };
	struct claim c;

	os = (struct oneshot_log){
		.delay_counts = ONESHOT_DELAY_US * hpet_refclock.freq_hz / US_PER_S,
	};
	delay = tsc_from_counts(os.delay_counts, hpet_refclock.freq_hz);
	earliest = delay - delay * (tsc_uncertainty_ppm() + REF_NOMINAL_PPM +
				    DEVICE_RATE_LIMIT_PPM) / PPM;
	claim_open(&c, "hpet one-shot fires every time, never before its deadline");
	claim_needs(&c, !absent, absent);
	if (!c.skip) {
		irq_register(HPET_IRQ, oneshot_tick);
		shot_series_fire(&plan, ONESHOT_SHOTS, earliest, delay, oneshot_after, &r);
		/* Giving IRQ 0 back to the PIT makes QEMU raise it at once: take that edge here,
		 * not in the scheduler's first tick. */
		hpet_tick_source.stop();
		irq_drain_ms(DRAIN_MS);
		irq_unregister(HPET_IRQ);
	}
	/* A shot the HPET says came early is judged however many shots the host robbed. */
	if (!(os.early ? claim_judge(&c, NULL, false) : claim_judge_shots(&c, &r, true)))
		return;
	if (os.early)
		shot_series_yaml(&r);
	report_yaml_u64("delay_counts", os.delay_counts);
	report_yaml_fixed("delay_us", hpet_counts_ns((int32_t)os.delay_counts) / 10, 2);
	report_yaml_fixed("earliest_allowed_us", (int64_t)tsc_ns(earliest) / 10, 2);
	report_yaml_u64("early_by_hpet", os.early);
	if (os.clean) {
		report_yaml_fixed("deadline_late_min_us", hpet_counts_ns(os.late_min) / 10, 2);
		report_yaml_fixed("deadline_late_max_us", hpet_counts_ns(os.late_max) / 10, 2);
	}
	claim_close();
}

void hpet_checks(const char *absent, const char *pm_absent)
{
	for (size_t i = 0; i < sizeof(rates_hz) / sizeof(rates_hz[0]); i++) {
		struct rate r = { .started = false };

		if (!absent)
			measure_rate(rates_hz[i], !pm_absent, &r);
		rate_claim(rates_hz[i], &r, false, absent);
		rate_claim(rates_hz[i], &r, true, absent ? absent : pm_absent);
	}
	oneshot_claim(absent);
}
