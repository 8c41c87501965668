/*
 * Checks of the reference clocks against each other, and of the HPET's timer 0 against them.
 *
 * Every clock here is read against the TSC: a read of a slow clock (an I/O port for the PM
 * timer, MMIO for the HPET: microseconds each under emulation) is bracketed by two RDTSCs, and
 * the true instant of the read lies somewhere in the bracket.  Half the bracket is therefore
 * the timing error of that sample, and it goes into the bound of every check that uses it.
 * Errors are carried in thousandths of a ppm, bounds in whole ppm rounded up.
 *
 * The measurements run before the scheduler with the HPET on IRQ 0 through the 8259 for a
 * few windows; the results are kept and printed after the run, like every other check.
 */
#include "kernel/checks_refclocks.h"
#include "kernel/irq.h"
#include "kernel/report.h"
#include "kernel/tick.h"
#include "kernel/x86.h"
#include "drivers/acpi_pmtimer.h"
#include "drivers/hpet.h"
#include "drivers/tsc.h"
#include "acct/stats.h"

#define NS_PER_US       1000ull
#define NS_PER_MS       1000000ull
#define NS_PER_S        1000000000ull
#define PS_PER_NS       1000ull
#define MPPM            (PPM * 1000)    /* errors in thousandths of a ppm */
#define MHZ_PER_HZ      1000ull         /* measured rates in thousandths of a Hz */
#define HPET_IRQ        0               /* timer 0 under legacy replacement */
#define DRAIN_MS        1               /* long enough for a stale IRQ 0 edge to be taken */

enum { CLK_TSC, CLK_PM, CLK_HPET, NR_CLOCKS };

static struct refclock *const clocks[NR_CLOCKS] = { &tsc_refclock, &pmtimer_refclock, &hpet_refclock };
static const char *absent[NR_CLOCKS];
static bool measured;

/* A clock read between two RDTSCs: it happened within half_gap cycles of tsc. */
struct sample {
	uint64_t tsc;
	uint64_t half_gap;
	uint64_t count;         /* the clock, extended to 64 bits */
};

struct monotonic {
	uint32_t backwards, repeats;
	uint64_t mean_read_ns, max_step_ns;
};

struct agreement {
	bool done;
	uint64_t window_ns, counts, wraps;
	int64_t err_mppm;
	uint64_t res_ppm, read_ppm, tsc_ppm, bound_ppm;
};

struct rate_error {
	int64_t err_mppm;
	uint64_t measured_mhz, bound_ppm;
};

struct rate {
	bool started;
	char why[96];
	uint64_t period_ps;
	uint32_t ticks;
	int64_t lost;            /* periods without a tick of their own; < 0: extra ticks */
	uint64_t late_first_ns, late_last_ns, late_max_ns;
	struct rate_error by_tsc, by_pm;
};

struct oneshot {
	uint32_t fired, early, arm_retries, arm_failures;
	uint64_t delay_counts, delay_ns;
	uint64_t min_fire_ns, max_fire_ns;      /* armed -> handler, by the TSC */
	int64_t min_late_ns, max_late_ns;       /* handler - deadline, by the HPET counter */
};

static const uint32_t rates_hz[] = REFCHK_RATES_HZ;
#define NR_RATES (sizeof(rates_hz) / sizeof(rates_hz[0]))

static struct monotonic mono[NR_CLOCKS];
static struct agreement extend_pm, agree_pm, agree_hpet, agree_pm_hpet;
static struct rate rates[NR_RATES];
static struct oneshot shots;

/* ---- helpers ---- */

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return b ? (a + b - 1) / b : 0;
}

static uint64_t ms_to_cycles(uint64_t ms)
{
	return ms * tsc_refclock.freq_hz / 1000;
}


/* (measured - expected) / expected in thousandths of a ppm; a clock more than 100 % off is clamped. */
static int64_t error_mppm(uint64_t measured_ns, uint64_t expected_ns)
{
	int64_t diff = (int64_t)measured_ns - (int64_t)expected_ns;

	if (expected_ns == 0)
		return 0;
	if (diff > (int64_t)expected_ns)
		diff = (int64_t)expected_ns;
	if (diff < -(int64_t)expected_ns)
		diff = -(int64_t)expected_ns;
	/* |diff| <= expected: split so that diff * MPPM cannot overflow for windows up to 9 s */
	return diff * (int64_t)MPPM / (int64_t)expected_ns;
}

static bool within(int64_t err_mppm, uint64_t bound_ppm)
{
	return (err_mppm < 0 ? -err_mppm : err_mppm) <= (int64_t)(bound_ppm * 1000);
}

static void take_sample(struct refclock *c, struct sample *s)
{
	uint64_t before = rdtsc(), after;

	s->count = refclock_read(c);
	after = rdtsc();
	s->tsc = before + (after - before) / 2;
	s->half_gap = div_up(after - before, 2);
}

/* ---- (a) monotonic ---- */

static void measure_monotonic(int k)
{
	struct refclock *c = clocks[k];
	struct monotonic *m = &mono[k];
	uint64_t prev = refclock_read(c), max_step = 0, start = rdtsc();

	for (int i = 0; i < REFCHK_MONOTONIC_READS; i++) {
		uint64_t x = refclock_read(c);

		if (x < prev) {
			m->backwards++;
		} else {
			m->repeats += x == prev;
			if (x - prev > max_step)
				max_step = x - prev;
		}
		prev = x;
	}
	m->mean_read_ns = tsc_ns(rdtsc() - start) / REFCHK_MONOTONIC_READS;
	m->max_step_ns = cycles_to_ns(max_step, c->freq_hz);
}

/* ---- (a) wrap extension and (b) agreement ---- */

/*
 * A clock's rate between two samples, against the TSC, and the bound a sound clock stays in:
 *   resolution: each elapsed count is off by less than one count of that clock, and one cycle
 *     of the TSC: 1/counts of the window each;
 *   read latency: each sample may lie half its bracket from its TSC time, at both ends;
 *   the TSC's calibrated frequency is itself known only to tsc_uncertainty_ppm();
 *   plus REFCHK_AGREE_LIMIT_PPM for the oscillators (see checks_refclocks.h).
 */
static void agree_with_tsc(const struct sample *s0, const struct sample *s1, uint64_t freq_hz,
			   struct agreement *a)
{
	uint64_t dt = s1->tsc - s0->tsc, dx = s1->count - s0->count;

	if (dt == 0 || dx == 0)
		return;
	a->done = true;
	a->window_ns = tsc_ns(dt);
	a->counts = dx;
	a->err_mppm = error_mppm(cycles_to_ns(dx, freq_hz), a->window_ns);
	a->res_ppm = div_up(PPM, dx) + div_up(PPM, dt);
	a->read_ppm = div_up((s0->half_gap + s1->half_gap) * PPM, dt);
	a->tsc_ppm = tsc_uncertainty_ppm();
	a->bound_ppm = a->res_ppm + a->read_ppm + a->tsc_ppm + REFCHK_AGREE_LIMIT_PPM;
}

/*
 * The PM timer and the HPET compared through the same TSC window: the TSC's own frequency error
 * scales both alike and cancels, so the bound is their resolutions and read latencies plus the
 * limit.  (err_pm - err_hpet is the ratio's error to first order; the second-order term is below
 * 0.01 ppm while both are within 100 ppm.)
 */
static void agree_pairwise(const struct agreement *x, const struct agreement *y, struct agreement *a)
{
	if (!x->done || !y->done)
		return;
	a->done = true;
	a->window_ns = x->window_ns;
	a->counts = x->counts;
	a->err_mppm = x->err_mppm - y->err_mppm;
	a->res_ppm = x->res_ppm + y->res_ppm;
	a->read_ppm = x->read_ppm + y->read_ppm;
	a->tsc_ppm = 0;
	a->bound_ppm = a->res_ppm + a->read_ppm + REFCHK_AGREE_LIMIT_PPM;
}

/*
 * A 24-bit PM timer wraps every 4.69 s, too long to wait for at every boot; read every
 * REFCHK_EXTEND_STEP_MS the extended count must still keep time with the TSC.  A lost or double
 * wrap would be 4.69 s off; the wrap logic itself is tested on the host (test_refclock.c).
 */
static void measure_extension(void)
{
	struct sample s0, s1;
	uint64_t wraps = pmtimer_refclock.wraps;

	take_sample(&pmtimer_refclock, &s0);
	for (int i = 1; i < REFCHK_EXTEND_WINDOW_MS / REFCHK_EXTEND_STEP_MS; i++) {
		tsc_spin_until(s0.tsc + ms_to_cycles((uint64_t)i * REFCHK_EXTEND_STEP_MS));
		refclock_read(&pmtimer_refclock);
	}
	tsc_spin_until(s0.tsc + ms_to_cycles(REFCHK_EXTEND_WINDOW_MS));
	take_sample(&pmtimer_refclock, &s1);
	agree_with_tsc(&s0, &s1, PM_TMR_HZ, &extend_pm);
	extend_pm.wraps = pmtimer_refclock.wraps - wraps;
}

static void measure_agreement(void)
{
	struct sample p0, p1, h0, h1;
	uint64_t start = rdtsc();

	if (!absent[CLK_PM])
		take_sample(&pmtimer_refclock, &p0);
	if (!absent[CLK_HPET])
		take_sample(&hpet_refclock, &h0);
	tsc_spin_until(start + ms_to_cycles(REFCHK_AGREE_WINDOW_MS));
	if (!absent[CLK_PM]) {
		take_sample(&pmtimer_refclock, &p1);
		agree_with_tsc(&p0, &p1, PM_TMR_HZ, &agree_pm);
	}
	if (!absent[CLK_HPET]) {
		take_sample(&hpet_refclock, &h1);
		agree_with_tsc(&h0, &h1, hpet_refclock.freq_hz, &agree_hpet);
	}
	agree_pairwise(&agree_pm, &agree_hpet, &agree_pm_hpet);
}

/* ---- (c) HPET periodic rates ---- */

/*
 * What the tick handler records; read only after interrupts are off again.  Each tick is
 * placed at its deadline rather than at the handler: the HPET counter says how far past the
 * deadline the handler runs (interrupt latency, 40-200 us under TCG), so subtracting it takes
 * the latency out of the rate.  The lateness is read after the RDTSC, so the deadline found is
 * early by at most the time of that read: err_* below.
 */
static struct tick_log {
	uint32_t seen, ticks;
	uint64_t periods, period_cycles;
	bool with_pm;
	uint64_t dl_first, dl_last;             /* deadlines, TSC */
	uint64_t pm_first, pm_last;             /* deadlines, PM timer counts */
	uint64_t err_first, err_last;           /* TSC cycles the TSC deadline may be off */
	uint64_t pm_err_first, pm_err_last;     /* TSC cycles the PM deadline may be off */
	int32_t late_first, late_last, late_max;
} tl;

static uint64_t hpet_counts_ns(int32_t counts)
{
	return counts > 0 ? cycles_to_ns((uint64_t)counts, hpet_refclock.freq_hz) : 0;
}

static void rate_tick(struct trapframe *tf)
{
	uint64_t t0 = rdtsc(), t1, t2, dl, pm = 0;
	int32_t late = hpet_timer0_since_deadline();

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
	if (++tl.seen <= REFCHK_RATE_SETTLE_TICKS)
		return;
	if (tl.ticks++ == 0) {
		tl.dl_first = dl;
		tl.pm_first = pm;
		tl.err_first = t1 - t0;
		tl.pm_err_first = t1 - t0 + div_up(t2 - t1, 2);
		tl.late_first = late;
	} else {
		/*
		 * Deadlines are whole periods apart: rounding counts the periods, including those
		 * whose tick never came.  Two handlers that find the same latest deadline (the
		 * second tick was already due when the first ran) give 2 and then 0.
		 */
		tl.periods += (dl - tl.dl_last + tl.period_cycles / 2) / tl.period_cycles;
	}
	tl.dl_last = dl;
	tl.pm_last = pm;
	tl.err_last = t1 - t0;
	tl.pm_err_last = t1 - t0 + div_up(t2 - t1, 2);
	tl.late_last = late;
	if (late > tl.late_max)
		tl.late_max = late;
}

/*
 * The rate is taken between the first and the last deadline handled, over every period between
 * them, handled or lost; periodic mode adds the increment in hardware, so nothing in between
 * matters.  A sound HPET stays within:
 *   by the TSC: how far each end's deadline may be off (the lateness read, err_*), one HPET
 *     count of lateness quantisation at each end, one TSC cycle, tsc_uncertainty_ppm(), and
 *     REFCHK_AGREE_LIMIT_PPM;
 *   by the PM timer: each end's deadline error in PM terms (the lateness read plus half the PM
 *     read), one PM count, the two HPET counts, and the limit; the PM timer's rate is nominal.
 */
static void rate_errors(struct rate *r)
{
	uint64_t periods = tl.periods;
	uint64_t expected_ns = periods * r->period_ps / PS_PER_NS;
	uint64_t dt = tl.dl_last - tl.dl_first, t_ns = tsc_ns(dt);
	uint64_t hpet_quant_ppm = div_up(2 * PPM, t_ns * hpet_refclock.freq_hz / NS_PER_S);

	r->by_tsc.err_mppm = error_mppm(expected_ns, t_ns);
	r->by_tsc.measured_mhz = t_ns ? periods * NS_PER_S * MHZ_PER_HZ / t_ns : 0;
	r->by_tsc.bound_ppm = div_up((tl.err_first + tl.err_last) * PPM, dt) + hpet_quant_ppm +
			      div_up(PPM, dt) + tsc_uncertainty_ppm() + REFCHK_AGREE_LIMIT_PPM;
	if (tl.with_pm) {
		uint64_t dpm = tl.pm_last - tl.pm_first, pm_ns = cycles_to_ns(dpm, PM_TMR_HZ);

		r->by_pm.err_mppm = error_mppm(expected_ns, pm_ns);
		r->by_pm.measured_mhz = pm_ns ? periods * NS_PER_S * MHZ_PER_HZ / pm_ns : 0;
		r->by_pm.bound_ppm = div_up((tl.pm_err_first + tl.pm_err_last) * PPM, dt) +
				     div_up(PPM, dpm) + hpet_quant_ppm + REFCHK_AGREE_LIMIT_PPM;
	}
}

static void measure_rate(unsigned i)
{
	struct rate *r = &rates[i];
	uint64_t start;

	if (hpet_tick_source.start_periodic(rates_hz[i], r->why, sizeof(r->why)) < 0)
		return;
	r->started = true;
	r->period_ps = hpet_tick_source.period_ps();
	tl = (struct tick_log){ .with_pm = !absent[CLK_PM] };
	tl.period_cycles = r->period_ps / PS_PER_NS * tsc_refclock.freq_hz / NS_PER_S;
	irq_register(HPET_IRQ, rate_tick);
	start = rdtsc();
	sti();
	tsc_spin_until(start + ms_to_cycles(REFCHK_RATE_WINDOW_MS) +
		   REFCHK_RATE_SETTLE_TICKS * tl.period_cycles);
	cli();
	hpet_tick_source.stop();
	irq_unregister(HPET_IRQ);

	r->ticks = tl.ticks;
	r->lost = (int64_t)tl.periods - (tl.ticks - 1);
	r->late_first_ns = hpet_counts_ns(tl.late_first);
	r->late_last_ns = hpet_counts_ns(tl.late_last);
	r->late_max_ns = hpet_counts_ns(tl.late_max);
	if (tl.ticks >= 2)
		rate_errors(r);
}

/* ---- (d) HPET one-shot ---- */

static volatile bool shot_armed, shot_fired;
static uint64_t shot_tsc;
static int32_t shot_late;

static void oneshot_tick(struct trapframe *tf)
{
	(void)tf;
	if (!shot_armed || shot_fired)
		return;         /* a stale edge while draining, or a second interrupt */
	shot_tsc = rdtsc();
	shot_late = hpet_timer0_since_deadline();
	shot_fired = true;
}

/* Take any IRQ 0 edge that is pending or arrives within DRAIN_MS, and drop it. */
static void drain_irq0(void)
{
	shot_armed = false;
	sti();
	tsc_spin_until(rdtsc() + ms_to_cycles(DRAIN_MS));
	cli();
}

/*
 * One shot: arm, wait for the interrupt or the timeout.  Returns true if it fired; *armed gets
 * the TSC just before arming.
 */
static bool fire_one_shot(struct oneshot *o, uint64_t *armed)
{
	uint64_t timeout;
	int tries = 0;

	for (;;) {
		*armed = rdtsc();
		if (hpet_arm_oneshot(o->delay_counts) == 0)
			break;
		/* the refused deadline may still have raised IRQ 0: take it before the next try */
		drain_irq0();
		if (++tries == TICK_ONESHOT_ARM_TRIES) {
			o->arm_failures++;
			return false;
		}
		o->arm_retries++;
	}
	shot_fired = false;
	shot_armed = true;
	timeout = rdtsc() + ms_to_cycles(REFCHK_ONESHOT_TIMEOUT_MS);
	sti();
	while (!shot_fired && (int64_t)(rdtsc() - timeout) < 0)
		cpu_relax();
	cli();
	shot_armed = false;
	return shot_fired;
}

/*
 * The first shot is a warm-up, not measured: arming it switches IRQ 0 from the PIT to the HPET,
 * and an edge the PIT raised just before the switch (QEMU's PIT keeps its old channel 0 timer
 * after pit_stop) would otherwise look like a shot that came early.  Legacy replacement then
 * stays on until the last shot, so the PIT cannot reach IRQ 0 in between.
 */
static void measure_oneshot(void)
{
	struct oneshot *o = &shots;
	uint64_t armed;

	o->delay_counts = REFCHK_ONESHOT_DELAY_US * hpet_refclock.freq_hz / (NS_PER_S / NS_PER_US);
	o->delay_ns = cycles_to_ns(o->delay_counts, hpet_refclock.freq_hz);
	o->min_fire_ns = UINT64_MAX;
	o->min_late_ns = INT64_MAX;
	o->max_late_ns = INT64_MIN;

	irq_register(HPET_IRQ, oneshot_tick);
	fire_one_shot(o, &armed);
	drain_irq0();
	o->arm_retries = o->arm_failures = 0;
	for (int s = 0; s < REFCHK_ONESHOT_SHOTS; s++) {
		uint64_t fire_ns;
		int64_t late_ns;

		if (!fire_one_shot(o, &armed))
			continue;
		o->fired++;
		o->early += shot_late < 0;
		late_ns = shot_late < 0 ? -(int64_t)hpet_counts_ns(-shot_late) :
					  (int64_t)hpet_counts_ns(shot_late);
		fire_ns = tsc_ns(shot_tsc - armed);
		if (late_ns < o->min_late_ns)
			o->min_late_ns = late_ns;
		if (late_ns > o->max_late_ns)
			o->max_late_ns = late_ns;
		if (fire_ns < o->min_fire_ns)
			o->min_fire_ns = fire_ns;
		if (fire_ns > o->max_fire_ns)
			o->max_fire_ns = fire_ns;
	}
	/* Giving IRQ 0 back to the PIT makes QEMU raise it at once: take that edge here, not in
	 * the scheduler's first tick. */
	hpet_tick_source.stop();
	drain_irq0();
	irq_unregister(HPET_IRQ);
}

void refclock_checks_run(const char *pmtimer_absent, const char *hpet_absent)
{
	absent[CLK_PM] = pmtimer_absent;
	absent[CLK_HPET] = hpet_absent;
	for (int k = 0; k < NR_CLOCKS; k++)
		if (!absent[k])
			measure_monotonic(k);
	if (!absent[CLK_PM])
		measure_extension();
	measure_agreement();
	if (!absent[CLK_HPET]) {
		for (unsigned i = 0; i < NR_RATES; i++)
			measure_rate(i);
		measure_oneshot();
	}
	measured = true;
}

/* ---- the report ---- */

static void yaml_agreement(const struct agreement *a)
{
	report_yaml_begin();
	report_yaml_fixed("window_ms", (int64_t)(a->window_ns / NS_PER_US), 3);
	report_yaml_u64("counts", a->counts);
	report_yaml_fixed("error_ppm", a->err_mppm, 3);
	report_yaml_u64("resolution_ppm", a->res_ppm);
	report_yaml_u64("read_latency_ppm", a->read_ppm);
	report_yaml_u64("tsc_uncertainty_ppm", a->tsc_ppm);
	report_yaml_u64("limit_ppm", REFCHK_AGREE_LIMIT_PPM);
	report_yaml_u64("bound_ppm", a->bound_ppm);
}

static void report_monotonic(int k)
{
	const struct monotonic *m = &mono[k];

	if (absent[k]) {
		report_skip(absent[k], "%s never goes backwards over %d reads", clocks[k]->name,
			    REFCHK_MONOTONIC_READS);
		return;
	}
	report_check(m->backwards == 0, "%s never goes backwards over %d reads", clocks[k]->name,
		     REFCHK_MONOTONIC_READS);
	report_yaml_begin();
	report_yaml_u64("reads", REFCHK_MONOTONIC_READS);
	report_yaml_u64("backwards", m->backwards);
	report_yaml_u64("repeats", m->repeats);
	report_yaml_u64("width_bits", clocks[k]->width);
	report_yaml_u64("freq_hz", clocks[k]->freq_hz);
	report_yaml_u64("mean_read_ns", m->mean_read_ns);
	report_yaml_fixed("max_step_us", (int64_t)(m->max_step_ns / 10), 2);
	report_yaml_end();
}

static void report_agreement(const struct agreement *a, const char *skip, const char *x,
			     const char *y)
{
	if (skip || !a->done) {
		report_skip(skip ? skip : "no counts elapsed", "%s frequency agrees with the %s",
			    x, y);
		return;
	}
	report_check(within(a->err_mppm, a->bound_ppm), "%s frequency agrees with the %s", x, y);
	yaml_agreement(a);
	report_yaml_end();
}

static void report_rate(const struct rate *r, uint32_t hz, bool by_pm)
{
	const struct rate_error *e = by_pm ? &r->by_pm : &r->by_tsc;
	const char *ref = by_pm ? "pmtimer" : "tsc";
	const char *skip = absent[CLK_HPET] ? absent[CLK_HPET] :
			   by_pm && absent[CLK_PM] ? absent[CLK_PM] : !r->started ? r->why : 0;

	if (skip) {
		report_skip(skip, "hpet timer 0 runs at %u Hz, measured by the %s", hz, ref);
		return;
	}
	report_check(r->ticks >= 2 && within(e->err_mppm, e->bound_ppm),
		     "hpet timer 0 runs at %u Hz, measured by the %s", hz, ref);
	report_yaml_begin();
	report_yaml_fixed("programmed_hz", (int64_t)(1000000000000000ull / r->period_ps), 3);
	report_yaml_fixed("measured_hz", (int64_t)e->measured_mhz, 3);
	report_yaml_fixed("error_ppm", e->err_mppm, 3);
	report_yaml_u64("bound_ppm", e->bound_ppm);
	report_yaml_u64("ticks", r->ticks);
	report_yaml("lost_ticks", "%lld", (long long)r->lost);
	report_yaml_fixed("late_first_us", (int64_t)r->late_first_ns / 10, 2);
	report_yaml_fixed("late_last_us", (int64_t)r->late_last_ns / 10, 2);
	report_yaml_fixed("late_max_us", (int64_t)r->late_max_ns / 10, 2);
	report_yaml_end();
}

static void report_oneshot(void)
{
	const struct oneshot *o = &shots;

	if (absent[CLK_HPET]) {
		report_skip(absent[CLK_HPET], "hpet one-shot fires every time, never before its deadline");
		return;
	}
	report_check(o->fired == REFCHK_ONESHOT_SHOTS && o->early == 0,
		     "hpet one-shot fires every time, never before its deadline");
	report_yaml_begin();
	report_yaml_u64("shots", REFCHK_ONESHOT_SHOTS);
	report_yaml_u64("fired", o->fired);
	report_yaml_u64("early", o->early);
	report_yaml_u64("arm_retries", o->arm_retries);
	report_yaml_u64("arm_failures", o->arm_failures);
	report_yaml_u64("delay_counts", o->delay_counts);
	report_yaml_fixed("delay_us", (int64_t)o->delay_ns / 10, 2);
	if (o->fired) {
		report_yaml_fixed("armed_to_fired_min_us", (int64_t)o->min_fire_ns / 10, 2);
		report_yaml_fixed("armed_to_fired_max_us", (int64_t)o->max_fire_ns / 10, 2);
		report_yaml_fixed("late_min_us", o->min_late_ns / 10, 2);
		report_yaml_fixed("late_max_us", o->max_late_ns / 10, 2);
	}
	report_yaml_end();
}

void refclock_report_checks(void)
{
	if (!measured)
		return;
	for (int k = 0; k < NR_CLOCKS; k++)
		report_monotonic(k);

	if (absent[CLK_PM]) {
		report_skip(absent[CLK_PM], "pmtimer read every %d ms keeps time with the tsc over %d ms",
			    REFCHK_EXTEND_STEP_MS, REFCHK_EXTEND_WINDOW_MS);
	} else {
		const struct agreement *a = &extend_pm;

		report_check(a->done && within(a->err_mppm, a->bound_ppm),
			     "pmtimer read every %d ms keeps time with the tsc over %d ms",
			     REFCHK_EXTEND_STEP_MS, REFCHK_EXTEND_WINDOW_MS);
		yaml_agreement(a);
		report_yaml_u64("width_bits", pmtimer_refclock.width);
		report_yaml_u64("wraps_in_window", a->wraps);
		report_yaml_end();
	}

	report_agreement(&agree_pm, absent[CLK_PM], "pmtimer", "tsc");
	report_agreement(&agree_hpet, absent[CLK_HPET], "hpet", "tsc");
	report_agreement(&agree_pm_hpet, absent[CLK_PM] ? absent[CLK_PM] : absent[CLK_HPET],
			 "pmtimer", "hpet");

	for (unsigned i = 0; i < NR_RATES; i++) {
		report_rate(&rates[i], rates_hz[i], false);
		report_rate(&rates[i], rates_hz[i], true);
	}
	report_oneshot();
}
