/*
 * The local APIC timer (Intel SDM vol. 3A, 11.5.4), claim by claim: its clock by two references,
 * each divider's count rate and periodic interrupts, one-shot and TSC-deadline.  Everything
 * busy-waits with interrupts on, so a timer that never fires costs a timeout, not a hung guest.
 */
#include "checks/checks.h"
#include "checks/measure.h"
#include "acct/stats.h"
#include "kernel/report.h"
#include "kernel/x86.h"
#include "drivers/lapic.h"
#include "drivers/tsc.h"

/* The second reference times the clock over 100 ms at divide by 1: 358000 PM timer counts */
#define REF_WINDOW_MS           100
/* Periodic mode at every divider: periods of 10 ms, five of them measured (six interrupts). */
#define PERIODIC_US             10000
#define SAMPLES                 6
/* One-shot and TSC-deadline: 16 clean shots of 200 us (far above the clock's resolution). */
#define SHOT_US                 200
#define SHOTS                   16
#define SHOT_WAIT_MS            20      /* a shot not come by then was missed */
#define SHOT_QUIET_US           1000    /* five delays: a timer left periodic fires again */

#define CLAIM_PERIODIC_TSC "lapic timer divide by %u: counts at 1/%u of the divide-by-1 rate and " \
			   "interrupts every initial count, measured by the tsc"
#define CLAIM_PERIODIC_REF "lapic timer divide by %u: interrupts every initial count, measured by " \
			   "the %s"
#define CLAIM_CLOCKS "lapic timer clock measured by the %s agrees with the one measured by the " \
		     "tsc, within their bounds + %u ppm"

static struct refclock *ref;            /* the second reference, or NULL */
static const char *ref_why;             /* why there is none */
static const char *ref_name;            /* as the claims name it */
static struct lapic_ref_rate ref_rate;  /* the timer's clock by it */

/* Between the timer's divide-by-1 counts and a reference's, conversions go by the ratio of one
 * calibration window's counts, not through the two frequencies: the reference's own frequency
 * error then cancels out of every comparison. */
static uint64_t counts_to_tsc(uint64_t counts)
{
	const struct lapic_rate *r1 = &lapic_calibration()->rate[0];

	return muldiv64(counts, r1->tsc_delta, r1->counts);
}

/*
 * ---- the clock, by two references ----
 *
 * The clock has no nominal rate, so each reference measures it for itself: the TSC at start-up
 * (drivers/lapic.c), the second reference (the ACPI PM timer, else the HPET) here.  Each has
 * its own bound (quantisation and read brackets); the TSC's rate is known to
 * tsc_uncertainty_ppm, the second reference's is nominal, and the nominal rates the TSC was
 * calibrated with round differently by up to REF_NOMINAL_PPM (PIT_HZ is 14.31818 MHz / 12
 * rounded up by 0.28 ppm, the PM timer's 3579545 Hz exact, the HPET states its period); then
 * the device limit.  Both ends are sampled with TCCR reads bracketing the other clock, so a
 * host that takes the CPU between them only widens the brackets, which the bound holds.
 */
static void check_clocks(const char *lapic_why)
{
	const struct lapic_calibration *cal = lapic_calibration();
	const struct lapic_ref_rate *rr = &ref_rate;
	struct ppm_error e;
	struct claim c;

	claim_open(&c, CLAIM_CLOCKS, ref_name, DEVICE_RATE_LIMIT_PPM);
	claim_needs(&c, !lapic_why, lapic_why);
	claim_needs(&c, ref != NULL, ref_why);
	if (!c.skip) {
		/* A short window thrown away first: under TCG the first pass is translation. */
		lapic_measure_rate_by(ref, tsc_from_ms(REF_WINDOW_MS) / 20, &ref_rate);
		lapic_measure_rate_by(ref, tsc_from_ms(REF_WINDOW_MS), &ref_rate);
	}
	e = ppm_of_rate(rr->hz, cal->hz, cal->bound_ppm + rr->bound_ppm + tsc_uncertainty_ppm() +
			REF_NOMINAL_PPM + DEVICE_RATE_LIMIT_PPM);
	if (!claim_judge(&c, NULL, ppm_ok(&e)))
		return;
	report_yaml_u64("tsc_hz", cal->hz);
	report_yaml_u64("tsc_bound_ppm", cal->bound_ppm);
	report_yaml_u64("reference_hz", rr->hz);
	report_yaml_u64("reference_bound_ppm", rr->bound_ppm);
	report_yaml_u64("reference_counts", rr->ref_delta);
	report_yaml_u64("timer_counts", rr->counts);
	report_yaml_u64("read_brackets_counts", rr->read_counts);
	report_yaml_fixed("difference_ppm", e.err_mppm, 3);
	report_yaml_u64("tsc_uncertainty_ppm", tsc_uncertainty_ppm());
	report_yaml_u64("bound_ppm", e.bound_ppm);
	claim_close();
}

/*
 * ---- periodic mode, at every divider ----
 *
 * Each interrupt's moment is recovered from the timer itself: the handler reads the TSC and
 * TCCR together (the TSC the bracket's midpoint), and the counts gone since the reload say how
 * long ago it fired, so interrupt latency drops out.  Then it reads the second reference and
 * TCCR again: that read sits between two TCCR reads, so the TSC does not enter its claim.
 */
static volatile unsigned nirq;
static uint64_t irq_tsc[SAMPLES], irq_width[SAMPLES], irq_ref[SAMPLES];
static uint32_t irq_tccr[SAMPLES], irq_tccr_after[SAMPLES];

static void periodic_sample(struct trapframe *tf)
{
	(void)tf;
	if (nirq < SAMPLES) {
		irq_tccr[nirq] = lapic_timer_sample(&irq_tsc[nirq], &irq_width[nirq]);
		if (ref) {
			irq_ref[nirq] = refclock_read(ref);
			irq_tccr_after[nirq] = lapic_timer_current();
		}
	}
	nirq++;
}

/* The span from the first to the last interrupt as one reference saw it. */
struct fit {
	struct ppm_error e;             /* + when the interrupts come fast */
	uint64_t periods, lost;         /* periods the span covers; those not delivered */
	uint64_t programmed_mhz;        /* the clock by this reference / (count x d) */
	uint64_t measured_mhz;          /* periods over the span by this reference */
	uint64_t read_bracket_ns;       /* the wider end's */
};

struct periodic {
	unsigned d, irqs;
	uint32_t count;                 /* TICR */
	uint64_t max_latency_ns;        /* handler after the timer fired, from TCCR */
	struct fit by_tsc, by_ref;
};

/*
 * Fit the span (divide-by-1 counts, latencies taken out) to whole periods of count x d counts:
 * with latency gone the interrupts sit on the timer's grid, so the span is a whole number of
 * periods even when the emulator dropped some (QEMU merges ticks missed while its thread did
 * not run).  Round, and report the difference from the k intervals as lost.  hz is the clock
 * by that reference.  A sound timer's span misses the periods by no more than:
 *   one count (d clocks) per period: the SDM does not say whether the reload takes a count
 *     (QEMU's period is count + 1);
 *   each end's moment, reads2 / 2 counts in all: by the TSC, a TCCR read of whole counts (d
 *     clocks) at each end and half of each rdtsc bracket plus a cycle; by the second
 *     reference, which latched between two TCCR reads, half their distance plus a count at
 *     each end, plus half a clock for halving the doubled latencies;
 *   quant ppm for the reference's own reads (one count of it over the span; none for the TSC,
 *     whose cycles the bracket already counts);
 *   that reference's calibration of the clock (cal ppm) on the span and on the latencies
 *     taken out (its own rate error cancels: span and calibration are ratios of one counter);
 *   one for the rounding of the divisions, and the device limit.
 */
static void fit_periods(int64_t span, const struct periodic *p, unsigned k, uint64_t hz,
			uint64_t reads2, uint64_t quant, uint64_t cal, uint64_t late, struct fit *f)
{
	uint64_t period = (uint64_t)p->count * p->d, expected;

	f->periods = span > 0 ? ((uint64_t)span + period / 2) / period : 0;
	if (f->periods == 0)
		return;
	f->lost = f->periods > k ? f->periods - k : 0;
	expected = period * f->periods;
	f->programmed_mhz = hz * 1000 / period;
	f->measured_mhz = f->periods * hz * 1000 / (uint64_t)span;
	f->e = ppm_of_span((uint64_t)span, expected,
			   div_up(PPM, p->count) + div_up(reads2 * PPM, 2 * expected) + quant +
			   cal + div_up(late * cal, expected) + 1 + DEVICE_RATE_LIMIT_PPM);
}

/*
 * Divide-by-1 counts the reference read came after the reload, twice over (kept whole): the TCCR
 * reads before (c0) and after (c1) it put it at their midpoint.  A reload between the two puts
 * c1 in the next period: count + 1 more (QEMU's period; the extra one is in the bound).
 */
static uint64_t ref_late2(uint32_t count, uint32_t c0, uint32_t c1, unsigned d, uint64_t *bracket)
{
	*bracket = c0 >= c1 ? c0 - c1 : (uint64_t)c0 + count + 1 - c1;
	return (2 * (uint64_t)(count - c0) + *bracket) * d;
}

/* By the TSC: each interrupt fired at its sample less the counts gone since the reload. */
static void fit_by_tsc(struct periodic *p, unsigned k)
{
	const struct lapic_rate *r1 = &lapic_calibration()->rate[0];
	uint64_t late0 = (uint64_t)(p->count - irq_tccr[0]) * p->d;
	uint64_t latek = (uint64_t)(p->count - irq_tccr[k]) * p->d;
	uint64_t brackets = muldiv64((irq_width[0] + irq_width[k]) / 2 + 1, r1->counts, r1->tsc_delta);

	p->by_tsc.read_bracket_ns = tsc_ns(irq_width[0] > irq_width[k] ? irq_width[0] : irq_width[k]);
	fit_periods((int64_t)muldiv64(irq_tsc[k] - irq_tsc[0], r1->counts, r1->tsc_delta) -
		    ((int64_t)latek - (int64_t)late0), p, k, lapic_calibration()->hz,
		    2 * (2 * p->d + brackets + 1), 0, r1->bound_ppm, late0 + latek, &p->by_tsc);
}

/* By the second reference: the same, with its own reads and its own calibration of the clock. */
static void fit_by_ref(struct periodic *p, unsigned k)
{
	const struct lapic_ref_rate *rr = &ref_rate;
	const unsigned d = p->d;
	uint64_t b0, bk, l0 = ref_late2(p->count, irq_tccr[0], irq_tccr_after[0], d, &b0);
	uint64_t lk = ref_late2(p->count, irq_tccr[k], irq_tccr_after[k], d, &bk);
	uint64_t dref = irq_ref[k] - irq_ref[0];

	if (!ref || !rr->hz)
		return;
	/* TCCR counts of d clocks, at the clock this reference measured */
	p->by_ref.read_bracket_ns = (b0 > bk ? b0 : bk) * d * NS_PER_S / rr->hz;
	fit_periods((int64_t)muldiv64(dref, rr->counts, rr->ref_delta) -
		    ((int64_t)lk - (int64_t)l0) / 2, p, k, rr->hz, (b0 + bk) * d + 4 * d + 1,
		    div_up(PPM, dref), rr->bound_ppm, (l0 + lk) / 2, &p->by_ref);
}

/* One window: SAMPLES interrupts of periodic mode at p->d, fitted by both references. */
static void measure_periodic(struct periodic *p)
{
	uint64_t end, count = (lapic_calibration()->hz * PERIODIC_US / p->d + US_PER_S / 2) / US_PER_S;
	unsigned k;

	*p = (struct periodic){ .d = p->d };
	if (count < 2 || count > 0xffffffffull)
		return;
	p->count = (uint32_t)count;
	/* The handler run once by hand first: under TCG its first run is translation, which
	 * would widen the first interrupt's read brackets by tens of us. */
	nirq = 0;
	periodic_sample(0);
	nirq = 0;
	lapic_timer_connect(periodic_sample);
	end = rdtsc() + tsc_from_us(2 * PERIODIC_US * (SAMPLES + 1));
	lapic_timer_periodic(p->d, p->count);
	sti();
	window_wait_count(&nirq, SAMPLES, end);
	cli();
	lapic_timer_stop();
	lapic_timer_connect(0);
	p->irqs = nirq;
	if (nirq < 2)
		return;
	k = (nirq < SAMPLES ? nirq : SAMPLES) - 1;
	for (unsigned i = 0; i <= k; i++) {
		uint64_t ns = tsc_ns(counts_to_tsc((uint64_t)(p->count - irq_tccr[i]) * p->d));

		if (irq_tccr[i] <= p->count && ns > p->max_latency_ns)
			p->max_latency_ns = ns;
	}
	fit_by_tsc(p, k);
	fit_by_ref(p, k);
}

/* The keys every periodic rate check carries (scripts/bench-devices lists them). */
static void fit_yaml(const struct periodic *p, const struct fit *f)
{
	report_yaml_u64("divider", p->d);
	report_yaml_u64("initial_count", p->count);
	report_yaml_fixed("programmed_hz", (int64_t)f->programmed_mhz, 3);
	report_yaml_fixed("measured_hz", (int64_t)f->measured_mhz, 3);
	report_yaml_fixed("error_ppm", f->e.err_mppm, 3);
	report_yaml_u64("bound_ppm", f->e.bound_ppm);
	report_yaml_u64("interrupts", p->irqs);
	report_yaml_u64("window_periods", SAMPLES - 1);
	report_yaml_u64("periods_measured", f->periods);
	report_yaml_u64("lost_ticks", f->lost);
	report_yaml_fixed("read_bracket_max_us", (int64_t)f->read_bracket_ns, 3);
}

/*
 * Both claims of one divider come from one window.  It is void when the host took the CPU for
 * a period or more: long enough for QEMU to merge a tick, which cuts the count of interrupts
 * short, so a short count would say nothing about the timer.
 */
static void check_divider(unsigned index, const char *lapic_why)
{
	const struct lapic_calibration *cal = lapic_calibration();
	const struct lapic_rate *rd = &cal->rate[index], *r1 = &cal->rate[0];
	struct periodic p = { .d = lapic_divider(index) };
	struct window_run wr = WINDOW_RUN(tsc_from_us(PERIODIC_US));
	struct ppm_error rate;
	struct claim by_tsc, by_ref;

	claim_open(&by_tsc, CLAIM_PERIODIC_TSC, p.d, p.d);
	claim_needs(&by_tsc, !lapic_why, lapic_why);
	claim_open(&by_ref, CLAIM_PERIODIC_REF, p.d, ref_name);
	claim_needs(&by_ref, !lapic_why, lapic_why);
	claim_needs(&by_ref, ref != NULL, ref_why);
	if (!by_tsc.skip)
		while (window_again(&wr))
			measure_periodic(&p);
	/* The count rates at d and at 1 were measured with the same TSC at start-up: only their
	 * own bounds remain, and the device limit. */
	rate = ppm_of_rate(rd->hz * p.d, r1->hz, rd->bound_ppm + r1->bound_ppm + DEVICE_RATE_LIMIT_PPM);

	if (claim_judge(&by_tsc, &wr, ppm_ok(&rate) && p.irqs >= SAMPLES && ppm_ok(&p.by_tsc.e))) {
		fit_yaml(&p, &p.by_tsc);
		report_yaml_fixed("max_latency_us", (int64_t)p.max_latency_ns, 3);
		report_yaml_u64("count_rate_hz", rd->hz);
		report_yaml_u64("counts", rd->counts);
		report_yaml_fixed("count_read_bracket_us", (int64_t)tsc_ns(rd->read_cycles), 3);
		report_yaml_fixed("rate_error_ppm", rate.err_mppm, 3);
		report_yaml_u64("rate_bound_ppm", rate.bound_ppm);
		report_yaml_u64("calibration_bound_ppm", cal->bound_ppm);
		claim_close();
	}
	if (claim_judge(&by_ref, &wr, ref_rate.hz && p.irqs >= SAMPLES && ppm_ok(&p.by_ref.e))) {
		fit_yaml(&p, &p.by_ref);
		report_yaml_u64("reference_hz", ref->freq_hz);
		report_yaml_u64("clock_hz", ref_rate.hz);
		report_yaml_u64("calibration_bound_ppm", ref_rate.bound_ppm);
		claim_close();
	}
}

/* ---- one-shot and TSC-deadline ---- */

struct shots {
	bool deadline;                  /* TSC-deadline, else one-shot at divide by 1 */
	uint32_t count;                 /* one-shot: TICR */
	uint64_t delay;                 /* TSC cycles */
	uint64_t arm_bracket;           /* widest rdtsc..arm..rdtsc */
	bool cleared;                   /* TCCR = 0 / IA32_TSC_DEADLINE = 0 after every shot */
};

static int shot_arm(void *ctx)
{
	struct shots *s = ctx;

	return s->deadline ? lapic_arm_tsc_deadline(rdtsc() + s->delay) : lapic_arm_oneshot(s->count);
}

/* A timer that fired is spent: one-shot mode leaves TCCR at 0, TSC-deadline mode clears the
 * MSR (SDM 11.5.4, 11.5.4.1). */
static void shot_after(void *ctx, const struct shot *sh)
{
	struct shots *s = ctx;

	if (sh->after - sh->before > s->arm_bracket)
		s->arm_bracket = sh->after - sh->before;
	if (sh->irqs && (s->deadline ? lapic_tsc_deadline_read() != 0 : lapic_timer_current() != 0))
		s->cleared = false;
}

/*
 * A shot must not fire before its time: for one-shot, the count's TSC equivalent after the
 * TICR write's bracket opened, less the calibration's bound and one count; for TSC-deadline,
 * the deadline itself, since it is the same counter.
 */
static void check_shots(bool deadline, const char *lapic_why)
{
	const struct lapic_calibration *cal = lapic_calibration();
	struct shots s = { .deadline = deadline, .cleared = true };
	struct shot_plan plan = { .arm = shot_arm, .ctx = &s, .wait = tsc_from_ms(SHOT_WAIT_MS),
				  .quiet = tsc_from_us(SHOT_QUIET_US),
				  .expired = deadline ? NULL : lapic_tick_source.oneshot_expired };
	struct shot_series r = { .wanted = SHOTS };
	uint64_t slack = 0;
	struct claim c;

	claim_open(&c, deadline ? "lapic TSC-deadline timer fires once, never before its deadline"
				: "lapic one-shot timer fires once, never early");
	claim_needs(&c, !lapic_why, lapic_why);
	if (deadline)
		claim_needs(&c, lapic_tsc_deadline_supported(),
			    "no TSC-deadline mode (CPUID.01H:ECX[24] = 0)");
	if (!c.skip) {
		s.count = (uint32_t)(cal->hz / US_PER_S * SHOT_US);
		s.delay = deadline ? tsc_from_us(SHOT_US) : counts_to_tsc(s.count);
		if (!deadline)
			slack = div_up(s.delay * cal->bound_ppm, PPM) + counts_to_tsc(1) + 1;
		lapic_set_divider(1);
		lapic_timer_connect(shot_handler);
		shot_series_fire(&plan, SHOTS, s.delay - slack, s.delay, shot_after, &r);
		lapic_timer_stop();
		irq_drain_ms(1);        /* one already on its way lands on a vector still handled */
		lapic_timer_connect(0);
	}
	if (!claim_judge_shots(&c, &r, s.cleared))
		return;
	report_yaml("mode", "%s", deadline ? "TSC-deadline" : "one-shot, divide by 1");
	report_yaml_fixed("delay_us", (int64_t)tsc_ns(s.delay), 3);
	report_yaml_fixed("earliest_allowed_us", (int64_t)tsc_ns(s.delay - slack), 3);
	report_yaml_fixed("arm_bracket_max_us", (int64_t)tsc_ns(s.arm_bracket), 3);
	report_yaml("counter_cleared", "%s", s.cleared ? "true" : "false");
	report_yaml_u64("spurious_vector_0xff", lapic_spurious_count());
	report_yaml("esr", "0x%08x", lapic_error_status());
	claim_close();
}

void lapic_checks(const char *lapic_why, const char *pmtimer_absent, const char *hpet_absent)
{
	ref = second_refclock(pmtimer_absent, hpet_absent, &ref_why);
	ref_name = ref ? ref->name : "pmtimer or hpet";
	check_clocks(lapic_why);
	for (unsigned i = 0; i < LAPIC_NR_DIVIDERS; i++)
		check_divider(i, lapic_why);
	check_shots(false, lapic_why);
	check_shots(true, lapic_why);
}
